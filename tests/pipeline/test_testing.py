"""``pipeline.testing.assert_conforms``: passes correct plugins, fails broken ones with the check's line."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.api import Activation
from pipeline.testing import assert_conforms
from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS
from plugins.schedules import SCHEDULES


def test_builtins_conform():
    assert_conforms("activation", ACTIVATIONS["tanh"])
    assert_conforms("optimizer", OPTIMIZERS["momentum"], nesterov=True)
    assert_conforms("schedule", SCHEDULES["step"], step_size=3)


def test_a_broken_activation_fails_naming_the_check():
    tanh = ACTIVATIONS["tanh"]
    with pytest.raises(AssertionError, match=r"activation fails 1 check\(s\): derivative: f'\(.*expected"):
        assert_conforms("activation", Activation(tanh.forward, lambda z, a: 2 * (1 - a * a)))


def test_bad_options_fail_and_unknown_kinds_are_refused():
    with pytest.raises(AssertionError, match="raised TypeError"):
        assert_conforms("optimizer", OPTIMIZERS["sgd"], rho=0.9)
    with pytest.raises(ValueError, match="no checks for kind 'source'"):
        assert_conforms("source", np.zeros(1))
