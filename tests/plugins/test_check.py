"""``check-plugins``: built-ins pass; deliberately broken plugins fail, saying expected vs measured."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from pipeline import hookimpl
from pipeline.api import Activation
from pipeline.hooks.check import CHECKS, check_implementation, run_check, run_checks
from pipeline.hooks.conformance import (activation_derivative, activation_large_inputs, activation_pure,
                                  activation_shape_dtype, initializer_deterministic, initializer_scale,
                                  initializer_shape, optimizer_converges, optimizer_in_place)
from pipeline.errors import PluginError
from pipeline.hooks.manager import load_plugins
from plugins.activations import ACTIVATIONS, tanh
from plugins.initializers import INITIALIZERS
from plugins.optimizers import OPTIMIZERS, SGD


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=250, color_system=None), out


def _impls(plugins):
    return [impl for kind in CHECKS for impl in plugins.registries[kind].values()]


def test_every_builtin_passes_every_check():
    failures = [(o.impl.name, o.check, o.detail) for impl in _impls(load_plugins(autoload=False))
                for o in check_implementation(impl) if not o.ok]
    assert failures == []


def test_builtins_are_all_checked_by_the_command(cli):
    result = cli("check-plugins")
    assert result.code == 0, result.out
    for name in [*ACTIVATIONS, *INITIALIZERS, *OPTIMIZERS]:
        assert name in result.out
    n = sum(len(CHECKS[impl.kind]) for impl in _impls(load_plugins(autoload=False)))
    assert n > 31 and "FAIL" not in result.out and f"{n} of {n} checks passed" in result.out


def test_names_select_implementations_or_plugins(cli):
    result = cli("check-plugins", "tanh", "plugins.optimizers")
    assert result.code == 0
    assert "tanh" in result.out and "adam" in result.out and "relu" not in result.out


def test_unknown_name_is_a_one_line_error_listing_the_known_ones(cli):
    result = cli("check-plugins", "swishy")
    assert result.code == 2
    assert "'swishy'" in result.err and "relu" in result.err and "he_normal" in result.err
    assert len(result.err.strip().splitlines()) == 1


# -- broken activations ---------------------------------------------------------

def _sign_flipped(z, a):
    return -(1 - a * a)


def _naive_sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))          # inf / inf = NaN for large z


def _relu_in_place(z):
    np.maximum(z, 0, out=z)
    return z.copy()


def test_sign_flipped_derivative_fails_with_expected_and_measured():
    ok, detail = activation_derivative(Activation(tanh, _sign_flipped))
    assert not ok
    assert "expected" in detail and "measured" in detail and "central difference" in detail
    # the numbers shown are the true f'(z) and its negation
    expected = float(detail.split("expected ")[1].split(" ")[0])
    measured = float(detail.split("measured ")[1].split(";")[0])
    assert expected == pytest.approx(-measured, rel=1e-4) and expected > 0


def test_wrong_shape_and_dtype_forward_fail():
    ok, detail = activation_shape_dtype(Activation(lambda z: np.tanh(z)[:, :-1], lambda z, a: 1 - a * a))
    assert not ok and "forward: expected (7, 5) float32, measured (7, 4) float32" in detail
    ok, detail = activation_shape_dtype(Activation(lambda z: np.tanh(z.astype(np.float64)), lambda z, a: 1 - a * a))
    assert not ok and "expected (7, 5) float32, measured (7, 5) float64" in detail


def test_nan_at_large_inputs_fails_naming_the_inputs():
    naive = Activation(_naive_sigmoid, lambda z, a: a * (1 - a))
    ok, detail = activation_large_inputs(naive)
    assert not ok and "expected finite values" in detail and "measured inf/NaN at z = " in detail
    assert "10000" in detail
    assert activation_derivative(naive)[0]     # the derivative itself is right


def test_overflow_warning_with_finite_result_passes_with_a_note():
    # exp(-z) overflows at z = -1e4, but 1 / (1 + inf) = 0 is the right value
    sig = Activation(lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a))
    ok, detail = activation_large_inputs(sig)
    assert ok and "overflow" in detail


def test_modifying_the_input_or_returning_it_fails():
    ok, detail = activation_pure(Activation(_relu_in_place, lambda z, a: (z > 0).astype(z.dtype)))
    assert not ok and "z was modified in place" in detail
    ok, detail = activation_pure(Activation(lambda z: z, lambda z, a: np.ones_like(z)))
    assert not ok and "expected a new array" in detail


def test_a_kink_away_from_zero_is_skipped_not_failed():
    clipped = Activation(lambda z: np.clip(z, -1, 1), lambda z, a: (np.abs(z) < 1).astype(z.dtype))
    ok, detail = activation_derivative(clipped)
    assert ok, detail


# -- broken initializers ----------------------------------------------------------

def test_transposed_initializer_fails_with_shapes():
    ok, detail = initializer_shape(lambda fan_in, fan_out, rng: rng.standard_normal((fan_out, fan_in)))
    assert not ok and "expected a float array of shape (784, 64), measured (64, 784) float64" in detail


def test_non_finite_or_integer_initializers_fail():
    ok, detail = initializer_shape(lambda i, o, rng: np.full((i, o), np.inf))
    assert not ok and "expected finite values" in detail
    ok, detail = initializer_shape(lambda i, o, rng: rng.randint(0, 2, (i, o)))
    assert not ok and "int" in detail


def test_initializer_using_the_global_rng_fails_and_leaves_it_as_it_was():
    np.random.seed(123)
    state = np.random.get_state()
    ok, detail = initializer_deterministic(lambda i, o, rng: np.random.standard_normal((i, o)))
    assert not ok and "global np.random state changed" in detail
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_initializer_scale_is_reported_and_constant_weights_fail():
    ok, detail = initializer_scale(INITIALIZERS["he_normal"])
    assert ok and "std 0.07" in detail and "sqrt(2/fan_in) 0.0707" in detail
    ok, detail = initializer_scale(lambda i, o, rng: np.zeros((i, o)))
    assert not ok and "expected std > 0" in detail and "std 0.0000" in detail


# -- broken optimizers ------------------------------------------------------------

class Ascent(SGD):
    """Steps along the gradient: diverges on any convex problem."""

    def step(self, grads, lr):
        for p, g in zip(self.params, grads):
            p += lr * g


class Rebinding:
    """Computes the right update but rebinds instead of writing into the arrays."""

    def __init__(self, params):
        self.params = params

    def step(self, grads, lr):
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self.params[i] = p - lr * g


def test_diverging_optimizer_fails_saying_what_it_reached():
    ok, detail = optimizer_converges(Ascent)
    assert not ok
    assert "expected relative distance to the minimum <= 0.0001" in detail
    assert "measured at best 1.69 (loss 3.19 of the start's; lr=0.001; 1 at the start); diverged to inf/NaN at 1 of 7 rates" in detail
    ok, detail = optimizer_in_place(Ascent)
    assert not ok and "expected a step against the gradient" in detail


def test_optimizer_that_does_not_update_in_place_fails():
    ok, detail = optimizer_in_place(Rebinding)
    assert not ok and "params[0] (4, 3) float32: expected updated in place, measured unchanged" in detail
    ok, detail = optimizer_converges(Rebinding)
    assert not ok and "measured at best 1 (loss 1 of the start's; lr=0.1; 1 at the start)" in detail


def test_an_exception_from_the_plugin_is_a_failure_naming_it():
    def make(params, **options):
        raise TypeError("make() missing 1 required keyword argument: 'beta'")

    ok, detail = run_check(optimizer_in_place, make)
    assert not ok and detail.startswith("raised TypeError: make() missing")


# -- the command on a broken plugin -----------------------------------------------

class Broken:
    @hookimpl
    def pipeline_register_activations(self):
        return {"bad_tanh": Activation(tanh, _sign_flipped)}

    @hookimpl
    def pipeline_register_optimizers(self):
        return {"ascent": Ascent}


def test_run_checks_prints_a_table_and_exits_1_naming_the_failures():
    plugins = load_plugins(autoload=False, extra=[(Broken(), "broken")])
    console, out = _console()
    assert run_checks(plugins, ["broken"], console) == 1
    text = out.getvalue()
    assert "bad_tanh" in text and "ascent" in text and "relu" not in text
    assert "FAIL" in text and "central difference" in text and "failing: ascent, bad_tanh" in text
    console, out = _console()
    assert run_checks(plugins, ["tanh"], console) == 0


def test_run_checks_unknown_name_raises_plugin_error():
    console, _ = _console()
    with pytest.raises(PluginError, match="nothing registered as 'nope'.*adam.*relu"):
        run_checks(load_plugins(autoload=False), ["relu", "nope"], console)
