"""Packed parameters: one buffer, weights first; updates on it equal array-by-array updates bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.nn import minibatch, packing
from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS

SHAPES = [(20, 8), (8,), (8, 3), (3,)]


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def test_pack_copies_into_one_buffer_weights_first():
    arrays = _arrays()
    packed = packing.pack(arrays)
    buffer = packing.flat(packed)
    assert buffer is not None and buffer.size == sum(a.size for a in arrays)
    for p, a in zip(packed, arrays):
        np.testing.assert_array_equal(p, a)
        assert not np.shares_memory(p, a)
    np.testing.assert_array_equal(buffer[packing.weight_slice(packed)],
                                  np.concatenate([arrays[0].ravel(), arrays[2].ravel()]))
    twin = packing.like(packed)
    assert packing.flat(twin) is not None and not np.shares_memory(packing.flat(twin), buffer)


def test_flat_refuses_arrays_that_do_not_tile_one_buffer_in_the_layout():
    packed = packing.pack(_arrays())
    assert packing.flat(_arrays()) is None                              # separate arrays
    assert packing.flat([packed[1], packed[0], packed[3], packed[2]]) is None   # another order
    assert packing.flat(packed[:2]) is None                             # part of a buffer
    assert packing.flat(packing.like(_arrays())) is None                # like() of separate arrays: separate


@pytest.mark.parametrize("name, options", [("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}),
                                           ("adam", {})])
def test_optimizers_give_the_same_bits_packed_and_not(name, options):
    loose, packed = _arrays(), packing.pack(_arrays())
    grads_packed = packing.like(packed)
    opt_loose, opt_packed = OPTIMIZERS[name](loose, **options), OPTIMIZERS[name](packed, **options)
    assert opt_packed._flat.params is not None                     # the packed path is the one taken
    for step in range(5):
        grads = _arrays(seed=10 + step)
        for g, source in zip(grads_packed, grads):
            g[...] = source
        opt_loose.step(grads, 0.05 * (step + 1))
        opt_packed.step(grads_packed, 0.05 * (step + 1))
        assert opt_packed._flat(grads_packed) is not None
        for a, b in zip(loose, packed):
            np.testing.assert_array_equal(a, b)


def test_batch_weight_decay_packed_equals_per_array():
    rng = np.random.default_rng(3)
    x = rng.random((16, 20), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    grads = []
    for params in (_arrays(), packing.pack(_arrays())):
        batch = minibatch.Batch(params, 16, ACTIVATIONS["tanh"], 0.01)
        batch.loss_and_gradients(x, y, np.empty(16, np.intp))
        grads.append(batch.grads)
    assert packing.flat(grads[1]) is not None and packing.flat(grads[0]) is None
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
