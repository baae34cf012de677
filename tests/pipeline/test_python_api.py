"""``pipeline.run`` and ``pipeline.load_model``: the command's behaviour, as Python objects and exceptions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pipeline
from pipeline.data.idx import read_idx
from pipeline.errors import ConfigError, DataError, ModelFileError, PluginError
from pipeline.toml_io import parse_assignment
from tests.conftest import FAST
from tests.pipeline.processes import ROOT

SETS = dict(parse_assignment(item) for item in FAST)


def _sets(idx_dir: Path, **more) -> dict:
    return {"data.source": f"idx:{idx_dir}", **SETS, **more}


def test_run_returns_metrics_history_stages_and_the_model(idx_dir, tmp_path, capsys):
    result = pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c", out=tmp_path / "a", quiet=True)
    assert capsys.readouterr() == ("", "")                                 # quiet: silent
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert result.metrics == saved and 0 <= result.metrics["test_accuracy"] <= 1
    assert result.history["val_acc"] == json.loads((tmp_path / "a" / "model.json").read_text())["history"]["val_acc"]
    assert len(result.history["val_acc"]) == SETS["train.epochs"]
    assert [s["name"] for s in result.stages] == [s["name"] for s in json.loads(
        (tmp_path / "a" / "run.json").read_text())["stages"]]
    assert {s["status"] for s in result.stages} == {"ran"}
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    truth = read_idx(idx_dir / "t10k-labels-idx1-ubyte.gz")
    accuracy = float(np.mean(result.model.predict(images) == truth))
    assert accuracy == pytest.approx(result.metrics["test_accuracy"])


def test_progress_shows_unless_quiet(idx_dir, tmp_path, capsys):
    pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c", out=tmp_path / "a")
    out = capsys.readouterr().out
    assert "stages" in out and "train" in out and "test" in out


def test_two_runs_with_different_caches_in_one_process(idx_dir, tmp_path):
    a = pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c1", out=tmp_path / "a", quiet=True)
    b = pipeline.run(set=_sets(idx_dir, **{"train.lr": 0.05}), cache_dir=tmp_path / "c2", out=tmp_path / "b",
                     quiet=True)
    assert {s["status"] for s in b.stages} == {"ran"}                       # nothing leaked from c1
    again = pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c1", out=tmp_path / "a2", quiet=True)
    assert {s["status"] for s in again.stages} == {"cached"}
    assert again.metrics == a.metrics
    assert a.record["cache_dir"] != b.record["cache_dir"] and b.record["config"]["train"]["lr"] == 0.05
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "a2" / "model.npz").read_bytes()


@pytest.mark.parametrize("kwargs, cli_args, error", [
    ({"set": {"train.lrr": 0.1}}, ["--set", "train.lrr=0.1"], ConfigError),
    ({"set": {"train.lr": "fast"}}, ["--set", "train.lr='fast'"], ConfigError),
    ({"set": {"model.activation": "nope"}}, ["--set", "model.activation=nope"], PluginError),
    ({"only": "nosuchstage"}, ["--only", "nosuchstage"], ConfigError),
    ({"preset": "nosuchpreset"}, ["--preset", "nosuchpreset"], ConfigError),
    ({"config": "missing.toml"}, ["--config", "missing.toml"], ConfigError),
])
def test_mistakes_raise_the_commands_exception_with_its_line(cli, tmp_path, kwargs, cli_args, error):
    with pytest.raises(error) as info:
        pipeline.run(cache_dir=tmp_path / "c", out=tmp_path / "o", quiet=True, **kwargs)
    result = cli("run", "-q", "--out", "o2", *cli_args)
    assert result.code == error.exit_code
    assert result.err == f"error: {info.value}\n"                           # the same one line


def test_a_run_stopped_by_an_error_raises_never_exits(idx_dir, tmp_path):
    with pytest.raises(DataError):
        pipeline.run(set={"data.source": f"idx:{tmp_path / 'nowhere'}"}, cache_dir=tmp_path / "c", quiet=True)
    with pytest.raises(ConfigError, match="set: expected a dict"):
        pipeline.run(set=42, cache_dir=tmp_path / "c", quiet=True)


def test_default_out_keeps_runs_latest_at_the_newest_model(idx_dir, tmp_path):
    first = pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c", quiet=True)
    assert Path("runs/latest").resolve() == first.out_dir.resolve()
    partial = pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c", stop="split", quiet=True)
    assert partial.out_dir != first.out_dir and not (partial.out_dir / "model.npz").exists()
    assert Path("runs/latest").resolve() == first.out_dir.resolve()
    assert pipeline.load_model("runs/latest").classes == [0, 1, 2]


def test_load_model_predicts_arrays_files_and_onnx_alike(idx_dir, tmp_path):
    pipeline.run(set=_sets(idx_dir), cache_dir=tmp_path / "c", out=tmp_path / "a", quiet=True)
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    model = pipeline.load_model(tmp_path / "a")
    labels, probs = model.predict(images), model.predict_proba(images)
    assert probs.shape == (len(images), 3) and probs.dtype == np.float32 and model.steps == []
    np.testing.assert_array_equal(model.predict(images.reshape(len(images), -1)), labels)
    np.testing.assert_array_equal(model.predict(images / 255.0), labels)
    assert model.steps == ["float values in [0, 1] scaled to 0-255: images"]
    np.testing.assert_array_equal(model.predict(idx_dir / "t10k-images-idx3-ubyte.gz"), labels)
    onnx_model = pipeline.load_model(tmp_path / "a" / "model.onnx")
    np.testing.assert_array_equal(onnx_model.predict(images), labels)
    np.testing.assert_allclose(onnx_model.predict_proba(images), probs, atol=1e-5)
    with pytest.raises(DataError, match="pixel values range from -1 to 1"):
        model.predict(np.linspace(-1, 1, 36 * 2).reshape(2, 36))
    with pytest.raises(ModelFileError, match="does not exist"):
        pipeline.load_model(tmp_path / "nowhere")


def test_importing_pipeline_imports_none_of_the_api():
    code = ("import sys, pipeline; print(sorted(m for m in sys.modules if m.startswith('pipeline'))); "
            "pipeline.run; print('pipeline.python_api' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.split("\n")[:2] == ["['pipeline']", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        pipeline.nothing  # noqa: B018
