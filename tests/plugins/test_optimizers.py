"""The built-in optimizers against their update formulas, computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plugins.optimizers import OPTIMIZERS, pipeline_register_optimizers


def _setup():
    """Two parameters and two rounds of gradients, float64 for exact comparisons."""
    params = [np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.1, -0.1])]
    grads1 = [np.array([[0.2, -0.4], [1.0, 0.0]]), np.array([0.5, -0.25])]
    grads2 = [np.array([[-0.1, 0.3], [0.2, 0.6]]), np.array([0.0, 1.0])]
    return params, grads1, grads2


def _steps(name, lr=0.1, **options):
    params, g1, g2 = _setup()
    ids = [id(p) for p in params]
    opt = OPTIMIZERS[name](params, **options)
    opt.step(g1, lr)
    after1 = [p.copy() for p in params]
    opt.step(g2, lr)
    assert [id(p) for p in params] == ids  # updated in place, same arrays
    return after1, params


def _check(actual, expected):
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)


def test_registered_table():
    assert set(pipeline_register_optimizers()) == {"sgd", "momentum", "adam"}


def test_sgd():
    p0, g1, g2 = _setup()
    after1, after2 = _steps("sgd", lr=0.1)
    _check(after1, [p - 0.1 * g for p, g in zip(p0, g1)])
    _check(after2, [p - 0.1 * a - 0.1 * b for p, a, b in zip(p0, g1, g2)])


@pytest.mark.parametrize("mu", [0.9, 0.5])
def test_momentum(mu):
    p0, g1, g2 = _setup()
    after1, after2 = _steps("momentum", lr=0.1, momentum=mu)
    v1 = [-0.1 * g for g in g1]
    v2 = [mu * v - 0.1 * g for v, g in zip(v1, g2)]
    _check(after1, [p + v for p, v in zip(p0, v1)])
    _check(after2, [p + a + b for p, a, b in zip(p0, v1, v2)])


def test_nesterov_momentum():
    p0, g1, g2 = _setup()
    mu, lr = 0.9, 0.1
    after1, after2 = _steps("momentum", lr=lr, momentum=mu, nesterov=True)
    v1 = [-lr * g for g in g1]
    v2 = [mu * v - lr * g for v, g in zip(v1, g2)]
    step1 = [mu * v - lr * g for v, g in zip(v1, g1)]
    step2 = [mu * v - lr * g for v, g in zip(v2, g2)]
    _check(after1, [p + s for p, s in zip(p0, step1)])
    _check(after2, [p + a + b for p, a, b in zip(p0, step1, step2)])


def test_adam():
    p0, g1, g2 = _setup()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    after1, after2 = _steps("adam", lr=lr)
    m1 = [(1 - b1) * g for g in g1]
    v1 = [(1 - b2) * g * g for g in g1]
    lr1 = lr * math.sqrt(1 - b2) / (1 - b1)
    p1 = [p - lr1 * m / (np.sqrt(v) + eps) for p, m, v in zip(p0, m1, v1)]
    m2 = [b1 * m + (1 - b1) * g for m, g in zip(m1, g2)]
    v2 = [b2 * v + (1 - b2) * g * g for v, g in zip(v1, g2)]
    lr2 = lr * math.sqrt(1 - b2 ** 2) / (1 - b1 ** 2)
    p2 = [p - lr2 * m / (np.sqrt(v) + eps) for p, m, v in zip(p1, m2, v2)]
    _check(after1, p1)
    _check(after2, p2)
    # The first Adam step moves every entry with a nonzero gradient by about lr.
    moved = np.abs(after1[0] - p0[0])[g1[0] != 0]
    np.testing.assert_allclose(moved, lr, rtol=1e-5)


def test_adam_options():
    p0, g1, _ = _setup()
    after1, _ = _steps("adam", lr=0.01, beta1=0.5, beta2=0.9, eps=0.1)
    m, v = [0.5 * g for g in g1], [0.1 * g * g for g in g1]
    lr1 = 0.01 * math.sqrt(1 - 0.9) / (1 - 0.5)
    _check(after1, [p - lr1 * mm / (np.sqrt(vv) + 0.1) for p, mm, vv in zip(p0, m, v)])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_unknown_option_is_a_type_error(name):
    with pytest.raises(TypeError, match="bogus"):
        OPTIMIZERS[name]([np.zeros(2)], bogus=1)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_stays_float32(name):
    params = [np.ones((3, 2), dtype=np.float32)]
    opt = OPTIMIZERS[name](params)
    opt.step([np.full((3, 2), 0.5, dtype=np.float32)], 0.1)
    assert params[0].dtype == np.float32 and np.all(params[0] < 1)
