"""One or two BLAS threads while training: the same bits either way (the tuner's choices: test_blas_tuner.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from pipeline.config import build_config
from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS
from pipeline.nn import blas, minibatch
from stages import train
from tests.datasets import train_inputs
from tests.pipeline.nn import shapes
from pipeline.nn.epochs import Epochs, Steady


def _shared(epochs: Epochs, rows: int = 128) -> minibatch.Batch:
    """The epoch's full batch, allowed two threads; skips where that could change bits or can't be."""
    if blas.usable_cpus() < blas.PARALLEL:
        pytest.skip("one CPU: training never uses two threads here")
    if not blas.share(epochs.batches[rows], blas.PARALLEL):
        pytest.skip("this BLAS sums blocked products differently on two threads: training stays on one")
    return epochs.batches[rows]


class Flip(Steady):
    """Switches the batch between one and two threads every ``every`` batches, as a tuner might."""

    def __init__(self, batch, every=3):
        self.batch, self.every, self.seen = batch, every, 0

    def tick(self, batch):
        self.batch.parallel = batch is self.batch and bool((self.seen // self.every) % 2)
        self.seen += 1

    def end(self):
        self.batch.parallel = False


def _train(pace_factory, activation="relu", weight_decay=5e-4):
    x, y = shapes.mnist_shaped()                          # 640 rows: five batches of 128 per epoch
    params = shapes.params()
    opt = OPTIMIZERS["momentum"](params)
    epochs = Epochs(params, ACTIVATIONS[activation], weight_decay, x, y, 128)
    with threadpool_limits(limits=1, user_api="blas"):
        pace = pace_factory(epochs)
        results = [epochs.run(np.random.default_rng(e).permutation(len(x)), lambda g, loss: opt.step(g, 0.05), pace)
                   for e in range(3)]
    return params, results


def _one_thread(epochs):
    return None                     # one thread throughout


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_switching_threads_mid_epoch_changes_no_bit(activation):
    steady = _train(_one_thread, activation)
    flipped = _train(lambda epochs: Flip(_shared(epochs)), activation)
    for a, b in zip(steady[0], flipped[0]):
        np.testing.assert_array_equal(a, b)
    assert steady[1] == flipped[1]                  # the losses and correct counts of every epoch


def test_a_shared_batch_gives_one_threads_bits_on_two():
    x, y = shapes.mnist_shaped(n=128, seed=5)
    epochs = Epochs(shapes.params(), ACTIVATIONS["relu"], 0.0, x, y, 128)
    batch = epochs.batches[128]
    with threadpool_limits(limits=1, user_api="blas"):
        _shared(epochs)
        assert not batch.parallel
        serial = _step(batch, x, y)
        batch.parallel = True
        parallel = _step(batch, x, y)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def _step(batch, x, y):
    """Loss, predictions and gradients of one step, copied."""
    pred = np.empty(batch.rows, np.intp)
    loss = batch.loss_and_gradients(x, y, pred)
    return [np.float64(loss), pred] + [g.copy() for g in batch.grads]


class FakeLibrary:
    """A BLAS library controller that only records the thread count asked for."""

    def __init__(self, reachable=2):
        self.threads, self.reachable = 1, reachable

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.threads = min(n, self.reachable)


def test_sharing_needs_products_that_sum_alike_and_a_second_thread(monkeypatch):
    x, y = shapes.mnist_shaped(n=128)
    batch = Epochs(shapes.params(), ACTIVATIONS["relu"], 0.0, x, y, 128).batches[128]
    fake = FakeLibrary()
    monkeypatch.setattr(blas.blocks, "blas_libraries", lambda: [fake])
    assert not blas.share(batch, 1) and batch.threads is None
    assert blas.share(batch, 2) and fake.threads == 1                  # left on one thread
    batch.threads(True)
    assert fake.threads == 2
    batch.threads = None
    monkeypatch.setattr(blas.blocks, "invariant", lambda m, k, n, threads: False)
    assert not blas.share(batch, 2) and batch.threads is None
    assert blas.tuner(batch, 1) is None


def test_only_the_first_layer_products_switch_threads():
    x, y = shapes.mnist_shaped(n=128)
    batch = minibatch.Batch(shapes.params(), 128, ACTIVATIONS["relu"], 0.0)
    calls = []
    batch.threads, batch.parallel = calls.append, True
    batch.loss_and_gradients(x, y, np.empty(128, np.intp))
    assert calls == [True, False, True, False]                    # forward, then weight gradient


def test_train_stage_gives_the_same_bytes_whatever_the_tuner_chooses(monkeypatch):
    """Through train.run: a tuner switching every few batches, and validating on two threads,
    against one kept on one thread throughout."""
    x, y = shapes.mnist_shaped(n=1280)
    cfg = build_config(overrides=[("train.epochs", 2), ("train.batch_size", 128), ("model.hidden", [64])])
    tuners, made = [], blas.tuner

    def restless(batch, threads, allowed):
        t = made(batch, threads, allowed)
        if t is None:
            pytest.skip("no tuner on this machine: training stays on one thread")
        t.WINDOW, t.TRIAL, t.WARMUP, t.others = 0.0, 2, 0, lambda: None   # switch all the time
        t.window, ticks = 0.0, itertools.count()
        t.clock = lambda: next(ticks) * (0.5 if t.mode == 2 else 1.0)      # two threads always win
        tuners.append(t)
        return t

    def run():                      # 300 validation rows: chunks of 128, 128 and 44
        return train.run(cfg, params0=shapes.params(), **train_inputs(x, y, x[:300], y[:300]),
                         activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["momentum"])

    monkeypatch.setattr(blas, "tuner", restless)
    switching = run()
    assert tuners[-1].batches[1] > 0 and tuners[-1].batches[2] > 0
    [follower] = tuners[-1].followers
    assert follower.rows == 128 and follower.parallel and follower.threads is tuners[-1].batch.threads
    monkeypatch.setattr(blas.Tuner, "_use", lambda self, threads: None)   # never two threads
    monkeypatch.setattr(blas.Tuner, "follow", lambda self, batch: None)
    serial = run()
    assert not tuners[-1].followers
    for a, b in zip(switching["params"], serial["params"]):
        np.testing.assert_array_equal(a, b)
    assert switching["history"] == serial["history"]


def test_a_users_one_thread_limit_is_respected(monkeypatch):
    """Under OPENBLAS_NUM_THREADS=1 or an enclosing threadpool_limits(1), no second thread is used."""
    x, y = shapes.mnist_shaped(n=256)
    cfg = build_config(overrides=[("train.epochs", 1), ("train.batch_size", 128), ("model.hidden", [64])])
    made, seen = blas.tuner, []
    monkeypatch.setattr(blas, "tuner", lambda *args: seen.append(made(*args)) or seen[-1])

    def run():
        train.run(cfg, params0=shapes.params(), **train_inputs(x, y, None, None),
                  activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["sgd"])

    run()
    if seen[-1] is None:
        pytest.skip("no tuner on this machine even without a limit")
    with threadpool_limits(limits=1, user_api="blas"):
        run()
    assert seen[-1] is None
    batch = minibatch.Batch(shapes.params(), 128, ACTIVATIONS["relu"], 0.0)
    assert made(batch, 1, allowed=1) is None and made(batch, None) is None


def test_a_large_batch_gives_the_same_bytes_under_any_thread_limit():
    """A batch large enough for every thread (train.blas_threads None), with a 784-long inner
    axis and 2700 rows of weight gradient: as on one thread, and the same history."""
    x, y = shapes.mnist_shaped(n=2700)
    assert train.blas_threads(shapes.params(), len(x)) is None
    cfg = build_config(overrides=[("train.epochs", 2), ("train.batch_size", "full"), ("model.hidden", [64])])

    def run():
        return train.run(cfg, params0=shapes.params(), **train_inputs(x, y, x[:700], y[:700]),
                         activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["momentum"])

    default = run()
    with threadpool_limits(limits=1, user_api="blas"):
        limited = run()
    for a, b in zip(default["params"], limited["params"]):
        np.testing.assert_array_equal(a, b)
    assert default["history"] == limited["history"]
