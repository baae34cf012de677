"""A run refuses a third-party plugin that breaks its contract, before any stage; passes are remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.hooks import check
from tests.distributions import installed_plugin

PLUGS = '''\
import numpy as np

from pipeline import hookimpl
from pipeline.api import Activation


class Rebinder:
    """Rebinds its list's items: the arrays the trainer holds never change."""

    def __init__(self, params):
        self.params = params

    def step(self, grads, lr):
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self.params[i] = p - lr * g


class Plain:
    def __init__(self, params, scale=1.0):
        self.params, self.scale = params, scale

    def step(self, grads, lr):
        for p, g in zip(self.params, grads):
            p -= self.scale * lr * g


def _forward(z):
    return np.tanh(z)


@hookimpl
def pipeline_register_activations():
    return {"tanh2x": Activation(_forward, lambda z, a: 2 * (1 - a * a)),
            "mytanh": Activation(_forward, lambda z, a: 1 - a * a)}


@hookimpl
def pipeline_register_optimizers():
    return {"rebinder": Rebinder, "plain": Plain}
'''


@pytest.fixture
def plugs(tmp_path, monkeypatch):
    yield from installed_plugin(tmp_path, monkeypatch, "plugs", {"plugs": "plugs"}, {"plugs.py": PLUGS})


@pytest.fixture
def checks_run(monkeypatch):
    """Names of the implementations whose checks ran."""
    ran: list[str] = []
    original = check.check_implementation
    monkeypatch.setattr(check, "check_implementation", lambda impl, options=None: ran.append(impl.name)
                        or original(impl, options))
    return ran


@pytest.mark.parametrize("sets, line", [
    (["train.optimizer=rebinder"], "optimizer 'rebinder' (plugin 'plugs' 1.0) breaks its contract, check "
                                   "'in place': params[0] (4, 3) float32: expected updated in place, measured"),
    (["model.activation=tanh2x"], "activation 'tanh2x' (plugin 'plugs' 1.0) breaks its contract, check "
                                  "'derivative': f'("),
])
def test_a_broken_plugin_stops_the_run_before_any_stage(plugs, cli, fast_sets, sets, line, tmp_path):
    args = [a for s in sets for a in ("--set", s)]
    result = cli("run", "-q", *fast_sets, *args, "--out", "out")
    assert result.code == 2
    assert line in result.err and "expected" in result.err and "--skip-plugin-checks" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "cache" / "fetch").exists()          # nothing ran, not even fetch


def test_the_checks_can_be_skipped(plugs, cli, fast_sets, monkeypatch, checks_run):
    result = cli("run", "-q", *fast_sets, "--set", "train.optimizer=rebinder", "--skip-plugin-checks",
                 "--out", "a")
    assert result.code == 0, result.err
    monkeypatch.setenv("PIPELINE_SKIP_PLUGIN_CHECKS", "1")
    assert cli("run", "-q", *fast_sets, "--set", "train.optimizer=rebinder", "--set", "train.seed=3",
               "--out", "b").code == 0
    assert checks_run == []


def test_a_pass_is_remembered_by_fingerprint_and_options(plugs, cli, fast_sets, checks_run, cache_dir):
    args = [*fast_sets, "--set", "model.activation=mytanh", "--set", "train.optimizer=plain"]
    assert cli("run", "-q", *args, "--out", "a").code == 0
    assert sorted(checks_run) == ["mytanh", "plain"]
    assert len(list((cache_dir / "contracts").glob("*.json"))) == 2
    assert cli("run", "-q", *args, "--set", "train.seed=5", "--out", "b").code == 0
    assert sorted(checks_run) == ["mytanh", "plain"]         # remembered: not checked again
    options = ["--set", 'train.optimizer_options={scale = 0.5}']
    assert cli("run", "-q", *args, *options, "--out", "c").code == 0
    assert sorted(checks_run) == ["mytanh", "plain", "plain"]  # other options: checked with them
    record = json.loads(Path("c", "run.json").read_text())
    assert record["metrics"]["test_accuracy"] > 0.5


def test_builtins_are_not_checked_at_run_time(cli, fast_sets, checks_run):
    assert cli("run", "-q", *fast_sets, "--out", "a").code == 0
    assert checks_run == []
