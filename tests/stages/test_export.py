"""Stage ``export``: model.npz and model.json."""

from __future__ import annotations

import io
import json

import numpy as np

import pipeline
from pipeline.config import build_config
from stages import export


def _export(hidden=(6, 4)):
    cfg = build_config(overrides=[("model.hidden", list(hidden)), ("model.activation", "tanh")])
    rng = np.random.default_rng(0)
    sizes = [5, *hidden, 3]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(size=(fan_in, fan_out)).astype(np.float32), rng.normal(size=fan_out).astype(np.float32)]
    history = {"epoch": [1, 2], "loss": [0.9, 0.5], "best_epoch": 2, "stopped_early": False}
    metrics = {"val_accuracy": 0.75, "test_accuracy": None}
    preprocessing = {"scale": 255.0, "mean": np.array([0.5, 0.25], dtype=np.float32), "n": np.int64(3)}
    dataset = {"source": "idx:/data", "n_train": 60}
    out = export.run(cfg, params=params, history=history, metrics=metrics, classes=[0, 1, 2],
                     preprocessing=preprocessing, dataset=dataset)
    return cfg, params, out


def test_npz_holds_only_the_weights_and_loads_without_pickle():
    _, params, out = _export()
    with np.load(io.BytesIO(out["model.npz"]), allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "W3", "b1", "b2", "b3"]
        for i in range(3):
            np.testing.assert_array_equal(npz[f"W{i + 1}"], params[2 * i])
            np.testing.assert_array_equal(npz[f"b{i + 1}"], params[2 * i + 1])
            assert npz[f"W{i + 1}"].dtype == np.float32


def test_json_fields():
    cfg, _, out = _export()
    model = json.loads(out["model.json"].decode("utf-8"))
    assert list(model) == ["format", "format_version", "layers", "activation", "output", "classes",
                           "preprocessing", "metrics", "data", "config", "history", "pipeline_version"]
    assert model["format"] == "pipeline-mlp" and model["format_version"] == 1
    assert model["layers"] == [5, 6, 4, 3]
    assert model["activation"] == "tanh" and model["output"] == "softmax"
    assert model["classes"] == [0, 1, 2]
    assert model["preprocessing"] == {"scale": 255.0, "mean": [0.5, 0.25], "n": 3}
    assert model["metrics"] == {"val_accuracy": 0.75, "test_accuracy": None}
    assert model["data"] == {"source": "idx:/data", "n_train": 60}
    assert model["config"] == cfg.to_dict()
    assert model["history"]["best_epoch"] == 2
    assert model["pipeline_version"] == pipeline.__version__


def test_output_is_deterministic():
    assert _export()[2] == _export()[2]


def test_a_run_with_built_in_activations_trusts_their_onnx_form_without_the_reference_evaluator(idx_dir, tmp_path):
    # built-in forms are checked by tests/pipeline/nn/test_onnx.py; a plugin's form is checked in every
    # export (test_onnx.py: the forms that fail), which needs onnx's reference evaluator (80 ms, 10 MB)
    import sys

    from tests.pipeline.processes import cli_args, run

    cache = tmp_path / "cache"
    result = run(cache, cli_args(idx_dir, tmp_path / "out"), [sys.executable, "-X", "importtime", "-m", "pipeline"])
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "import time:" in line}
    assert "onnx" in imported and (tmp_path / "out" / "model.onnx").is_file()
    assert not any(m == "onnx.reference" or m.startswith("onnx.reference.") for m in imported)
