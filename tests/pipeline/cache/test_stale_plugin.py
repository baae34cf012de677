"""The stale-cache bug: editing a module-level tuple a plugin's helper reads must make train stale.

A GELU whose ``erf`` approximation reads ``COEFFS``, a module-level tuple, was
served from the cache after a coefficient changed; ``run --force train`` then
stored a different model under the same key. Reproduced through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.distributions import forget_modules, installed_plugin

GELU = '''\
import math

import numpy as np

from pipeline import hookimpl
from pipeline.api import Activation

#: Abramowitz & Stegun 7.1.26
COEFFS = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
P = 0.3275911


def _erf(x):
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + P * x)
    poly = t * (COEFFS[0] + t * (COEFFS[1] + t * (COEFFS[2] + t * (COEFFS[3] + t * COEFFS[4]))))
    return s * (1.0 - poly * np.exp(-x * x))


def forward(z):
    return (0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))).astype(z.dtype)


def derivative(z, a):
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
    return (cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)).astype(z.dtype)


@hookimpl
def pipeline_register_activations():
    return {"gelu": Activation(forward, derivative)}
'''


@pytest.fixture
def gelu(tmp_path, monkeypatch):
    for site in installed_plugin(tmp_path, monkeypatch, "gelu-plugin", {"gelu": "gelu_plugin"}, {"gelu_plugin.py": GELU}):
        yield site / "gelu_plugin.py"


def _run(cli, args, out: str) -> dict:
    result = cli("run", "-q", *args, "--out", out)
    assert result.code == 0, result.err
    record = json.loads(Path(out, "run.json").read_text())
    return {s["name"]: s for s in record["stages"]}


def test_editing_a_coefficient_tuple_makes_train_stale(gelu, cli, fast_sets):
    args = [*fast_sets, "--set", "model.activation=gelu"]
    first = _run(cli, args, "out1")
    assert first["train"]["status"] == "ran"
    gelu.write_text(GELU.replace("-0.284496736", "-0.284496737"))  # one digit of one coefficient
    forget_modules("gelu_plugin")
    status = cli("status", *args)
    assert "plugin activation: code changed" in status.out
    second = _run(cli, args, "out2")
    assert [second[s]["status"] for s in ("init", "train", "evaluate")] == ["cached", "ran", "ran"]
    assert second["train"]["key"] != first["train"]["key"]
    gelu.write_text(GELU)                       # back to the original: the original entry again
    forget_modules("gelu_plugin")
    third = _run(cli, args, "out3")
    assert third["train"]["status"] == "cached" and third["train"]["key"] == first["train"]["key"]
