"""The checks a correct plugin passes and a subtly wrong one fails (regularising defaults, lr, grads, bands)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.api import Activation
from pipeline.hooks.conformance import (activation_derivative, optimizer_converges, optimizer_leaves_grads,
                                        optimizer_uses_lr)
from plugins.activations import ACTIVATIONS
from plugins.optimizers import OPTIMIZERS


class AdamW:
    """PyTorch's AdamW, decoupled weight decay 0.01 by default."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, decay_sign=1.0):
        self.params, self.t = params, 0
        self.b1, self.b2, self.eps, self.wd, self.sign = beta1, beta2, eps, weight_decay, decay_sign
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads, lr):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            p -= lr * self.wd * p
            m[...] = self.b1 * m + (1 - self.b1) * g
            v[...] = self.b2 * v + (1 - self.b2) * g * g
            p -= self.sign * lr * (m / (1 - self.b1 ** self.t)) / (np.sqrt(v / (1 - self.b2 ** self.t)) + self.eps)


class FixedRate(OPTIMIZERS["sgd"]):
    def step(self, grads, lr):
        super().step(grads, 0.05)


class ScribblesOnGrads(OPTIMIZERS["sgd"]):
    def step(self, grads, lr):
        super().step(grads, lr)
        grads[0] *= 0


class KeepsGrads(OPTIMIZERS["sgd"]):
    """Applies the previous step's gradients (a reference kept, not a copy)."""

    def step(self, grads, lr):
        previous, self.previous = getattr(self, "previous", grads), grads
        super().step(previous, lr)


def test_adamw_with_its_regularising_default_converges():
    ok, detail = optimizer_converges(AdamW)
    assert ok and "regularised optimum" in detail


@pytest.mark.parametrize("options, fragment", [({"weight_decay": 0.5}, "expected relative distance"),
                                               ({"decay_sign": -1.0}, "expected relative distance")])
def test_a_wrong_update_or_heavy_decay_still_fails(options, fragment):
    ok, detail = optimizer_converges(lambda params: AdamW(params, **options))
    assert not ok and fragment in detail and "measured" in detail


@pytest.mark.parametrize("make, check, fragment", [
    (FixedRate, optimizer_uses_lr, "is lr ignored?"),
    (ScribblesOnGrads, optimizer_leaves_grads, "step wrote into grads"),
    (KeepsGrads, optimizer_leaves_grads, "keep copies, not references"),
])
def test_cheap_optimizer_checks_catch_what_they_name(make, check, fragment):
    ok, detail = check(make)
    assert not ok and fragment in detail


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_builtin_optimizers_and_adamw_pass_the_cheap_checks(name):
    for make in (OPTIMIZERS[name], AdamW):
        assert optimizer_uses_lr(make)[0] and optimizer_leaves_grads(make)[0]


@pytest.mark.parametrize("where, wrong", [
    ("large |z|", lambda z: np.abs(z) > 4),
    ("small |z|", lambda z: np.abs(z) < 0.05),
])
def test_a_derivative_wrong_only_far_out_or_near_zero_fails(where, wrong):
    tanh = ACTIVATIONS["tanh"]
    broken = Activation(tanh.forward, lambda z, a: np.where(wrong(z), 2.0, 1.0).astype(a.dtype) * (1 - a * a))
    ok, detail = activation_derivative(broken)
    assert not ok, where
    assert "expected" in detail and "measured" in detail


def test_check_plugins_honours_set_options(cli):
    bad = cli("check-plugins", "momentum", "--set", "train.optimizer_options={momentum = 1.5}")
    assert bad.code == 1 and "momentum" in bad.out
    good = cli("check-plugins", "momentum", "--set", "train.optimizer_options={nesterov = true}")
    assert good.code == 0, good.out
    unknown = cli("check-plugins", "momentum", "--set", "train.optimizer_options={rho = 0.9}")
    assert unknown.code == 1 and "rho" in unknown.out
