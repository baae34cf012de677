"""The training loops over mini-batch steps (pipeline/nn/epochs.py): whole epochs, validation scoring, the BLAS thread rule."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS
from pipeline.nn import network
from stages import train
from pipeline.nn.epochs import Epochs, Scorer


def _data(n=300, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32)
    return x, np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]


def _params(d=12, h=8, k=4, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, s).astype(np.float32) for s in [(d, h), (h,), (h, k), (k,)]]


def test_epochs_equal_the_reference_loop_including_the_last_partial_batch():
    x, y = _data()                                  # 300 rows in batches of 32: the last has 12
    params, ref = _params(), _params()
    opt, ref_opt = OPTIMIZERS["momentum"](params), OPTIMIZERS["momentum"](ref)
    epochs = Epochs(params, ACTIVATIONS["tanh"], 0.01, x, y, 32)
    for e in range(2):
        order = np.random.default_rng(e).permutation(len(x))
        loss_sum, correct = epochs.run(order, lambda g, loss: opt.step(g, 0.1))
        ref_loss, ref_correct = 0.0, 0
        for start in range(0, len(x), 32):
            idx = order[start:start + 32]
            zs, acts = network.forward(ref, x[idx], ACTIVATIONS["tanh"])
            ref_loss += network.cross_entropy(acts[-1], y[idx]) * len(idx)
            ref_correct += int(np.sum(acts[-1].argmax(axis=1) == y[idx].argmax(axis=1)))
            ref_opt.step(network.backward(ref, zs, acts, y[idx], ACTIVATIONS["tanh"], 0.01), 0.1)
        assert loss_sum == pytest.approx(ref_loss, rel=1e-5) and correct == ref_correct
    for fast, slow in zip(params, ref):
        np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_scorer_matches_the_reference_loss_and_accuracy(name):
    x, y = _data(n=70)
    params = _params()
    scorer = Scorer(params, ACTIVATIONS[name], x, y, chunk=32)   # chunks of 32, 32 and 6 rows
    probs = network.predict_proba(params, x, ACTIVATIONS[name])
    loss, acc = scorer()
    assert loss == pytest.approx(network.cross_entropy(probs, y), rel=1e-6)
    assert acc == network.accuracy(probs, y)
    params[0] *= 2                                                         # it reads the live weights
    assert scorer()[0] == pytest.approx(network.cross_entropy(
        network.predict_proba(params, x, ACTIVATIONS[name]), y), rel=1e-6)


def test_blas_threads_depend_only_on_the_batch_shape():
    small, wide = _params(d=784, h=64, k=10), _params(d=784, h=4096, k=10)
    assert train.blas_threads(small, 128) == 1              # MNIST mini-batches: one thread
    assert train.blas_threads(small, 54000) is None         # a full batch: every core
    assert train.blas_threads(wide, 128) is None            # 128 x 784 x 4096 multiply-adds
    assert train.blas_threads(small, 2048) == train.blas_threads(small, 2048)


def test_scorer_over_raw_rows_gathers_into_its_own_buffers_with_the_same_result():
    # validation reads uint8 rows through split's row numbers after every epoch: into buffers made
    # once, not a new chunk-sized float32 array per chunk (3 MB each for 1024 MNIST rows)
    import tracemalloc

    from pipeline.nn.inputs import Rows

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, (400, 784), dtype=np.uint8)
    rows = rng.permutation(400)[:300]
    prep = {"scale": float(np.float32(1 / 255)), "mean": 0.0, "std": 1.0, "clip": False}
    x = Rows([raw], rows, prep)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 300)]
    params = _params(d=784)
    dense = Scorer(params, ACTIVATIONS["relu"], x.dense(), y, chunk=128)   # chunks of 128, 128 and 44
    gathered = Scorer(params, ACTIVATIONS["relu"], x, y, chunk=128)
    assert gathered() == dense()
    tracemalloc.start()
    try:
        gathered()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * 784 * 4 // 4, peak   # well under one chunk of float32 rows (NumPy's cast buffer: 32 KB)
