"""The built-in activations: derivatives, dtypes, stability at large inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pipeline.api import Activation
from plugins.activations import ACTIVATIONS, pipeline_register_activations

NAMES = sorted(ACTIVATIONS)


def test_registered_table_is_every_activation():
    registered = pipeline_register_activations()
    assert set(registered) == {"relu", "leaky_relu", "sigmoid", "tanh"}
    assert all(isinstance(a, Activation) for a in registered.values())
    registered.clear()  # a copy: the module's table is untouched
    assert len(ACTIVATIONS) == 4


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    z = rng.uniform(-4, 4, size=(7, 9))
    z = z[np.abs(z) > 1e-3].reshape(-1, 3)  # keep away from the kinks of relu/leaky_relu
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, act.forward(z)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_float32_shape_dtype_and_input_untouched(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    before = z.copy()
    a = act.forward(z)
    d = act.derivative(z, a)
    assert a.shape == d.shape == z.shape
    assert a.dtype == d.dtype == np.float32
    assert a is not z
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize("name", NAMES)
def test_large_inputs_are_finite_without_warnings(name):
    act = ACTIVATIONS[name]
    z = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Underflow to 0 (exp(-1e4)) is exact enough; overflow and NaN are not.
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            a = act.forward(z)
            d = act.derivative(z, a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))


@pytest.mark.parametrize("name, expected", [
    ("relu", [0, 0, 0, 2]),
    ("leaky_relu", [-0.02, -0.005, 0, 2]),
    ("sigmoid", [1 / (1 + np.exp(2)), 1 / (1 + np.exp(0.5)), 0.5, 1 / (1 + np.exp(-2))]),
    ("tanh", np.tanh([-2, -0.5, 0, 2])),
])
def test_known_values(name, expected):
    z = np.array([[-2.0, -0.5, 0.0, 2.0]])
    np.testing.assert_allclose(ACTIVATIONS[name].forward(z)[0], expected, rtol=1e-12)


def test_sigmoid_saturates_exactly():
    a = ACTIVATIONS["sigmoid"].forward(np.array([[-1e4, 1e4]], dtype=np.float32))
    np.testing.assert_array_equal(a, [[0.0, 1.0]])
