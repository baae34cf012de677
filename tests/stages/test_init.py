"""Stage ``init``: layer shapes, dtypes, seeding, the tutorial's draws."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import build_config
from pipeline.errors import PluginError
from plugins.initializers import INITIALIZERS
from stages import init


def _run(overrides=(), n_features=12, n_classes=4):
    cfg = build_config(overrides=list(overrides))
    x = np.zeros((3, n_features), dtype=np.float32)
    y = np.zeros((3, n_classes), dtype=np.float32)
    return init.run(cfg, x_raw=x, y_all=y, initializer=INITIALIZERS[cfg.model.init])["params0"]


def test_shapes_follow_hidden_and_data_widths():
    params = _run([("model.hidden", [8, 5])])
    assert [p.shape for p in params] == [(12, 8), (8,), (8, 5), (5,), (5, 4), (4,)]
    assert all(p.dtype == np.float32 for p in params)
    assert all(not b.any() for b in params[1::2])  # biases start at zero


def test_seeded_and_seed_dependent():
    a, b = _run(), _run()
    c = _run([("train.seed", 7)])
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a[0], c[0])


def test_normal_init_reproduces_the_tutorial():
    params = _run([("model.init", "normal"), ("model.hidden", [64]), ("train.seed", 42)],
                  n_features=784, n_classes=10)
    np.random.seed(42)
    w1 = np.random.randn(784, 64) * 0.01
    w2 = np.random.randn(64, 10) * 0.01
    np.testing.assert_array_equal(params[0], w1.astype(np.float32))
    np.testing.assert_array_equal(params[2], w2.astype(np.float32))


def test_a_badly_shaped_initializer_is_a_plugin_error():
    cfg = build_config()
    x, y = np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32)
    with pytest.raises(PluginError, match=r"he_normal.*shape \(3,\)"):
        init.run(cfg, x_raw=x, y_all=y, initializer=lambda fan_in, fan_out, rng: np.zeros(fan_in))
