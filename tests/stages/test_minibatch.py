"""The fast training loop's plumbing: prefetching, validation scoring, the BLAS thread rule."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS
from stages import minibatch, network, prefetch, train


def _data(n=300, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32)
    return x, np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]


def _params(d=12, h=8, k=4, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, s).astype(np.float32) for s in [(d, h), (h,), (h, k), (k,)]]


def _train(threaded: bool, monkeypatch, update=None) -> tuple[list[np.ndarray], list]:
    monkeypatch.setattr(prefetch, "_cpus", lambda: 2 if threaded else 1)
    x, y = _data()
    params = _params()
    opt = OPTIMIZERS["momentum"](params)
    epochs = minibatch.Epochs(params, ACTIVATIONS["relu"], 0.01, x, y, 32)   # 300 rows: a last batch of 12
    results = [epochs.run(np.random.default_rng(e).permutation(len(x)), update or (lambda g, loss: opt.step(g, 0.1)))
               for e in range(3)]
    return params, results


def test_prefetching_on_a_helper_thread_changes_nothing(monkeypatch):
    threaded, inline = _train(True, monkeypatch), _train(False, monkeypatch)
    for a, b in zip(threaded[0], inline[0]):
        np.testing.assert_array_equal(a, b)
    assert threaded[1] == inline[1]


def test_the_helper_thread_stops_when_the_loop_raises(monkeypatch):
    before = threading.active_count()

    def failing(grads, loss):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        _train(True, monkeypatch, failing)
    assert threading.active_count() == before
    assert not [t for t in threading.enumerate() if t.name == "pipeline-prefetch"]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_scorer_matches_the_reference_loss_and_accuracy(name):
    x, y = _data(n=70)
    params = _params()
    scorer = minibatch.Scorer(params, ACTIVATIONS[name], x, y, chunk=32)   # chunks of 32, 32 and 6 rows
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
