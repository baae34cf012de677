"""The built-in initializers: shapes, spread, and the tutorial's exact draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plugins.initializers import INITIALIZERS, pipeline_register_initializers

STD = {
    "normal": lambda fan_in, fan_out: 0.01,
    "he_normal": lambda fan_in, fan_out: math.sqrt(2 / fan_in),
    # U(-l, l) has std l / sqrt(3).
    "glorot_uniform": lambda fan_in, fan_out: math.sqrt(6 / (fan_in + fan_out)) / math.sqrt(3),
}


def test_registered_table():
    assert set(pipeline_register_initializers()) == set(STD) == set(INITIALIZERS)


@pytest.mark.parametrize("name", sorted(STD))
def test_shape_dtype_and_spread(name):
    fan_in, fan_out = 400, 300
    w = INITIALIZERS[name](fan_in, fan_out, np.random.RandomState(0))
    assert w.shape == (fan_in, fan_out)
    assert w.dtype == np.float64 and np.all(np.isfinite(w))
    assert abs(w.mean()) < 0.02 * STD[name](fan_in, fan_out)  # ~7 standard errors
    # 120 000 draws: the sample std is within 1 % of the formula.
    assert w.std() == pytest.approx(STD[name](fan_in, fan_out), rel=0.01)


def test_glorot_uniform_stays_inside_its_limit():
    w = INITIALIZERS["glorot_uniform"](50, 30, np.random.RandomState(1))
    limit = math.sqrt(6 / 80)
    assert w.min() >= -limit and w.max() <= limit and w.max() > 0.9 * limit


@pytest.mark.parametrize("name", sorted(STD))
def test_same_rng_state_same_draws(name):
    a = INITIALIZERS[name](20, 10, np.random.RandomState(5))
    b = INITIALIZERS[name](20, 10, np.random.RandomState(5))
    np.testing.assert_array_equal(a, b)


def test_normal_reproduces_the_tutorials_global_seed_draws():
    np.random.seed(42)
    w1_tutorial = np.random.randn(784, 64) * 0.01
    w2_tutorial = np.random.randn(64, 10) * 0.01
    rng = np.random.RandomState(42)
    w1 = INITIALIZERS["normal"](784, 64, rng)
    w2 = INITIALIZERS["normal"](64, 10, rng)
    np.testing.assert_array_equal(w1, w1_tutorial)
    np.testing.assert_array_equal(w2, w2_tutorial)
