"""Stage ``train``: learning, determinism, schedules, early stopping, and the fast loop's math."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.api import Progress
from pipeline.config import build_config
from pipeline.errors import TrainingError
from plugins.activations import ACTIVATIONS
from plugins.initializers import INITIALIZERS
from plugins.optimizers import OPTIMIZERS
from plugins.schedules import SCHEDULES
from pipeline.hooks import rates
from stages import init, train
from tests.datasets import train_inputs
from pipeline.nn import network
from pipeline.nn.minibatch import Batch


def blobs(n=150, d=8, k=3, spread=0.6, seed=0, random_labels=False):
    """Gaussian blobs in [0, 1]: x (n, d) float32, one-hot y (n, k) float32."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, (k, d))
    labels = rng.integers(0, k, n)
    x = np.clip(centers[labels] + rng.normal(0, spread / d, (n, d)), 0, 1).astype(np.float32)
    if random_labels:
        labels = rng.integers(0, k, n)
    return x, np.eye(k, dtype=np.float32)[labels]


def _cfg(**train_values):
    overrides = [("model.hidden", [16]), ("train.epochs", 10), ("train.batch_size", 16)]
    return build_config(overrides=overrides + [(f"train.{k}", v) for k, v in train_values.items()])


def _train(cfg, x=None, y=None, n_val=50, progress=None, **data):
    if x is None:
        x, y = blobs(**data)
    params0 = init.run(cfg, x_raw=x, y_all=y, initializer=INITIALIZERS[cfg.model.init])["params0"]
    kwargs = {"progress": progress} if progress else {}
    out = train.run(cfg, params0=params0, **train_inputs(x[n_val:], y[n_val:], x[:n_val], y[:n_val]),
                    activation=ACTIVATIONS[cfg.model.activation],
                    optimizer=OPTIMIZERS[cfg.train.optimizer], **kwargs)
    return params0, out


def test_loss_decreases_and_the_net_learns():
    _, out = _train(_cfg(epochs=15))
    h = out["history"]
    assert h["epoch"] == list(range(1, 16))
    assert h["loss"][-1] < h["loss"][0] / 3
    assert h["val_acc"][-1] > 0.9 and h["acc"][-1] > 0.9
    assert all(p.dtype == np.float32 for p in out["params"])
    assert h["best_epoch"] is not None and h["stopped_early"] is False
    assert all(isinstance(v, float) for key in ("lr", "loss", "acc", "val_loss", "val_acc") for v in h[key])


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_full_batch_epoch_is_one_reference_gradient_step(weight_decay):
    x, y = blobs(n=40)
    cfg = _cfg(optimizer="sgd", batch_size="full", epochs=1, lr=0.7, weight_decay=weight_decay,
               schedule="constant")
    params0, out = _train(cfg, x, y, n_val=10)
    relu = ACTIVATIONS["relu"]
    loss, grads = network.gradients(params0, x[10:], y[10:], relu, weight_decay)
    for p0, g, p in zip(params0, grads, out["params"]):
        np.testing.assert_allclose(p, p0 - np.float32(0.7) * g, rtol=1e-6, atol=1e-7)
    expected_loss = loss - network.l2_penalty(params0, weight_decay)  # history holds the cross-entropy
    assert out["history"]["loss"][0] == pytest.approx(expected_loss, rel=1e-5)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_fast_batch_gradients_equal_the_reference(name, weight_decay):
    x, y = blobs(n=60, d=8, k=4)
    rng = np.random.default_rng(3)
    params = [rng.normal(0, 0.5, s).astype(np.float32) for s in [(8, 6), (6,), (6, 5), (5,), (5, 4), (4,)]]
    idx = rng.permutation(60)[:13]
    batch = Batch(params, 13, ACTIVATIONS[name], weight_decay)
    pred = np.empty(13, np.intp)
    loss_sum = batch.loss_and_gradients(x[idx], y[idx], pred)
    correct = int(np.count_nonzero(pred == y[idx].argmax(axis=1)))
    loss, grads = network.gradients(params, x[idx], y[idx], ACTIVATIONS[name], weight_decay)
    for fast, ref in zip(batch.grads, grads):
        np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-7)
    assert loss_sum / 13 == pytest.approx(loss - network.l2_penalty(params, weight_decay), rel=1e-5)
    _, acts = network.forward(params, x[idx], ACTIVATIONS[name])
    assert correct == int(np.sum(acts[-1].argmax(axis=1) == y[idx].argmax(axis=1)))


def test_minibatch_epochs_replay_with_the_reference_math():
    """Shuffled batches of 16 over 50 rows (the last has 2 rows), momentum, step schedule."""
    x, y = blobs(n=60)
    cfg = _cfg(optimizer="momentum", batch_size=16, epochs=3, lr=0.3, schedule="step", step_size=2,
               gamma=0.5, weight_decay=0.01)
    params0, out = _train(cfg, x, y, n_val=10)
    xt, yt = x[10:], y[10:]
    params = [p.copy() for p in params0]
    opt = OPTIMIZERS["momentum"](params)
    rng = np.random.default_rng(cfg.train.seed)
    for lr in (0.3, 0.3, 0.15):
        order = rng.permutation(50)
        for start in range(0, 50, 16):
            idx = order[start:start + 16]
            _, grads = network.gradients(params, xt[idx], yt[idx], ACTIVATIONS["relu"], 0.01)
            opt.step(grads, lr)
    for ref, fast in zip(params, out["params"]):
        np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-6)
    assert out["history"]["lr"] == [0.3, 0.3, 0.15]


def test_same_seed_same_result_other_seed_other_batches():
    _, a = _train(_cfg(epochs=3))
    _, b = _train(_cfg(epochs=3))
    x, y = blobs()
    cfg = _cfg(epochs=3, seed=5)
    params0 = _train(_cfg(epochs=3), x, y)[0]  # same start, only the batch order differs
    c = train.run(cfg, params0=params0, **train_inputs(x[50:], y[50:], x[:50], y[:50]),
                  activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["momentum"])
    for pa, pb, pc in zip(a["params"], b["params"], c["params"]):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a["params"][0], c["params"][0])
    assert a["history"] == b["history"]


def test_full_batch_ignores_the_shuffling_seed():
    x, y = blobs()
    params0 = _train(_cfg(epochs=1), x, y)[0]
    results = [train.run(_cfg(batch_size="full", epochs=4, seed=seed), params0=params0,
                         **train_inputs(x, y), activation=ACTIVATIONS["relu"],
                         optimizer=OPTIMIZERS["momentum"])["params"] for seed in (1, 2)]
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_diverging_loss_is_a_training_error_naming_epoch_and_lr():
    with pytest.raises(TrainingError, match=r"epoch 1 at learning rate 1e\+12 .*lower train\.lr"):
        _train(_cfg(optimizer="sgd", lr=1e12, schedule="constant"))


def test_inputs_are_never_modified_and_may_be_read_only():
    x, y = blobs()
    for a in (x, y):
        a.setflags(write=False)
    cfg = _cfg(epochs=2)
    params0 = init.run(cfg, x_raw=x, y_all=y, initializer=INITIALIZERS["he_normal"])["params0"]
    for p in params0:
        p.setflags(write=False)
    before = [p.copy() for p in params0]
    out = train.run(cfg, params0=params0, **train_inputs(x, y, x, y),
                    activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["adam"])
    for p, b, trained in zip(params0, before, out["params"]):
        np.testing.assert_array_equal(p, b)
        assert not np.shares_memory(p, trained)


def test_without_validation_rows_val_metrics_are_none():
    x, y = blobs()
    cfg = _cfg(epochs=2, patience=1)
    params0 = init.run(cfg, x_raw=x, y_all=y, initializer=INITIALIZERS["he_normal"])["params0"]
    out = train.run(cfg, params0=params0, **train_inputs(x, y, None, None),
                    activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["sgd"])
    h = out["history"]
    assert h["val_loss"] == [None, None] and h["best_epoch"] is None and len(h["loss"]) == 2


def test_early_stopping_stops_and_restores_the_best_weights():
    # Random labels: the validation loss bottoms out quickly, then rises as the net memorises.
    cfg = build_config(overrides=[("model.hidden", [64]), ("train.epochs", 60), ("train.patience", 3),
                                  ("train.lr", 0.5), ("train.schedule", "constant"), ("train.batch_size", 8)])
    x, y = blobs(random_labels=True)
    _, out = _train(cfg, x, y)
    h = out["history"]
    assert h["stopped_early"] is True
    best = h["best_epoch"]
    assert best == 1 + int(np.argmin(h["val_loss"]))
    assert len(h["epoch"]) == best + 3 < 60
    probs = network.predict_proba(out["params"], x[:50], ACTIVATIONS["relu"])
    assert network.cross_entropy(probs, y[:50]) == pytest.approx(h["val_loss"][best - 1], rel=1e-6)


@pytest.mark.parametrize("schedule, expected", [
    ("constant", [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]),
    ("step", [0.2, 0.2, 0.02, 0.02, 0.002, 0.002]),
    ("cosine", [0.2 * 0.5 * (1 + math.cos(math.pi * e / 6)) for e in range(6)]),
])
def test_schedules(schedule, expected):
    cfg = _cfg(lr=0.2, epochs=6, schedule=schedule, step_size=2, gamma=0.1)
    rate = rates.rate_function(cfg.train, SCHEDULES[schedule], 0.2)
    assert [rate(e) for e in range(6)] == pytest.approx(expected)
    _, out = _train(cfg)
    assert out["history"]["lr"] == pytest.approx(expected)


def test_progress_is_reported_every_epoch():
    class Recorder(Progress):
        def __init__(self):
            self.calls = []

        def update(self, task, completed, total=None, **info):
            self.calls.append((task, completed, total, sorted(info)))

    recorder = Recorder()
    _train(_cfg(epochs=3), progress=recorder)
    keys = ["acc", "loss", "val_acc", "val_loss"]
    assert recorder.calls == [("train", e, 3, keys) for e in (1, 2, 3)]


def test_unknown_optimizer_option_is_a_type_error():
    with pytest.raises(TypeError, match="bogus"):
        _train(_cfg(optimizer_options={"bogus": 1}))
