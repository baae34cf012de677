"""A stage recomputed under an existing key is compared with the entry it replaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.distributions import installed_plugin

#: An activation whose slope comes from the environment: an input no key can see.
LEAKY = '''\
import os

import numpy as np

from pipeline import hookimpl
from pipeline.api import Activation


def forward(z):
    slope = float(os.environ.get("LEAK_SLOPE", "0.01"))
    return np.where(z > 0, z, slope * z).astype(z.dtype)


def derivative(z, a):
    slope = float(os.environ.get("LEAK_SLOPE", "0.01"))
    return np.where(z > 0, 1.0, slope).astype(z.dtype)


@hookimpl
def pipeline_register_activations():
    return {"envleaky": Activation(forward, derivative)}
'''


@pytest.fixture
def envleaky(tmp_path, monkeypatch):
    yield from installed_plugin(tmp_path, monkeypatch, "envleaky", {"envleaky": "envleaky"}, {"envleaky.py": LEAKY})


def _run(cli, *args: str, out: str):
    result = cli("run", "-q", *args, "--out", out)
    assert result.code == 0, result.err
    return result, json.loads(Path(out, "run.json").read_text())


def test_forced_recompute_with_equal_outputs_says_nothing(cli, fast_sets):
    _run(cli, *fast_sets, out="a")
    result, record = _run(cli, *fast_sets, "--force", "train", out="b")
    assert record["recomputed_differently"] == [] and "recomputed under key" not in result.err


def test_an_input_outside_the_key_is_reported_when_forced(envleaky, cli, fast_sets, monkeypatch):
    args = [*fast_sets, "--set", "model.activation=envleaky"]
    _, first = _run(cli, *args, out="a")
    monkeypatch.setenv("LEAK_SLOPE", "0.5")
    result, record = _run(cli, *args, "--force", "train", out="b")
    warnings = [line for line in result.err.splitlines() if "recomputed under key" in line]
    assert len(warnings) == 1
    key = next(s["key"] for s in first["stages"] if s["name"] == "train")
    assert f"stage 'train' recomputed under key {key}" in warnings[0]
    assert "activation 'envleaky' (envleaky, envleaky 1.0)" in warnings[0] and "new entry is kept" in warnings[0]
    [found] = record["recomputed_differently"]
    assert found["stage"] == "train" and found["key"] == key and "params" in found["outputs"]
    # the new entry was kept: a plain run now serves it
    _, again = _run(cli, *args, out="c")
    assert again["metrics"] == record["metrics"] != first["metrics"]


def test_an_input_outside_the_key_is_reported_when_an_entry_was_damaged(envleaky, cli, fast_sets, monkeypatch,
                                                                      cache_dir):
    args = [*fast_sets, "--set", "model.activation=envleaky"]
    _, first = _run(cli, *args, out="a")
    key = next(s["key"] for s in first["stages"] if s["name"] == "train")
    for file in (cache_dir / "train" / key).glob("*.joblib"):
        file.write_bytes(b"damaged")
    monkeypatch.setenv("LEAK_SLOPE", "0.5")
    result, record = _run(cli, *args, out="b")
    assert [f["stage"] for f in record["recomputed_differently"]] == ["train"]
    assert "damaged" in result.err
