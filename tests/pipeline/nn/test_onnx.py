"""model.onnx: onnxruntime gives the NumPy forward pass's probabilities and labels, for every activation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pipeline import hookimpl
from pipeline.api import Activation
from pipeline.cache.store import Cache
from pipeline.config import build_config
from pipeline.data.idx import read_idx
from pipeline.errors import PluginError
from pipeline.hooks.manager import load_plugins
from pipeline.nn import network
from pipeline.nn.onnx import IR_VERSION, OPSET, build_model, check_form
from pipeline.predict import Model, predict
from pipeline.runner import Runner
from pipeline.toml_io import parse_assignment
from plugins.activations import ACTIVATIONS, ONNX_FORMS
from tests.conftest import FAST
from tests.pipeline.processes import env


def _params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [(rng.normal(size=(fan_in, fan_out)) * 3 / np.sqrt(fan_in)).astype(np.float32),
                   (rng.normal(size=fan_out) * 0.1).astype(np.float32)]
    return params


def _session(data: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("standardize", [False, True])
def test_onnxruntime_equals_the_numpy_forward_pass(name, standardize):
    params = _params([36, 12, 7, 4])
    pre = {"scale": float(np.float32(1 / 255)), "mean": 0.13 if standardize else 0.0,
           "std": 0.31 if standardize else 1.0, "image_shape": [6, 6]}
    classes = [3, 5, 7, 9]  # labels differ from column indices: the graph must give the label
    rng = np.random.default_rng(1)  # sparse bright strokes, as in digits: rows differ a lot
    pixels = (rng.integers(0, 256, size=(200, 36)) * (rng.random((200, 36)) < 0.25)).astype(np.uint8)
    # centre the logits, so that every class is the most probable for some rows
    x = (pixels * np.float32(pre["scale"]) - np.float32(pre["mean"])) / np.float32(pre["std"])
    params[-1] -= network.forward(params, x.astype(np.float32), ACTIVATIONS[name])[0][-1].mean(axis=0)
    data = build_model(params, ONNX_FORMS[name], pre, classes)
    probs, labels = _session(data).run(None, {"pixels": pixels.astype(np.float32)})
    expected = predict(Model(params, {"layers": [36, 12, 7, 4], "preprocessing": pre}), pixels, ACTIVATIONS[name])
    assert probs.dtype == np.float32 and probs.shape == (200, 4)
    np.testing.assert_allclose(probs, expected, atol=1e-5, rtol=0)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, np.asarray(classes)[expected.argmax(axis=1)])
    assert set(labels.tolist()) == set(classes)  # the comparison saw every class


def test_versions_are_pinned_and_the_graph_passes_the_full_check():
    model = onnx.load_from_string(build_model(_params([4, 3, 2]), ONNX_FORMS["relu"], {"scale": 1.0}, [0, 1]))
    assert (model.ir_version, IR_VERSION) == (8, 8)          # not the onnx package's own, newer one
    assert onnx.IR_VERSION >= model.ir_version
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET == 17
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["pixels"]
    assert [o.name for o in model.graph.output] == ["probabilities", "label"]
    assert _session(model.SerializeToString()).get_inputs()[0].type == "tensor(float)"


def test_string_classes_give_string_labels():
    params = _params([4, 3, 2])
    probs, labels = _session(build_model(params, ONNX_FORMS["tanh"], {"scale": 1.0}, ["cat", "dog"])).run(
        None, {"pixels": np.eye(4, dtype=np.float32)})
    assert labels.tolist() == [["cat", "dog"][i] for i in probs.argmax(axis=1)]


def _run(idx_dir, cache_dir, out, activation, extra=()):
    cfg = build_config(overrides=[("data.source", f"idx:{idx_dir}"), ("model.activation", activation),
                                  *[parse_assignment(item) for item in FAST]])
    warnings = []

    class Display:  # collects the warning lines the stages give
        def __getattr__(self, name):
            return lambda *a, **k: None

        def warn(self, message):
            warnings.append(message)

        def progress(self, stage):
            from pipeline.api import Progress
            outer = self

            class P(Progress):
                def warn(self, message):
                    outer.warn(message)
            return P()

    Runner(cfg, Cache(cache_dir), load_plugins(autoload=False, extra=extra), Display()).run(out_dir=out)
    return warnings


def test_a_tiny_run_exports_an_onnx_model_that_agrees_with_numpy(idx_dir, cache_dir, tmp_path):
    assert _run(idx_dir, cache_dir, tmp_path / "out", "relu") == []
    meta = json.loads((tmp_path / "out" / "model.json").read_text())
    with np.load(tmp_path / "out" / "model.npz") as npz:
        params = [npz[f"{p}{i}"] for i in range(1, len(meta["layers"])) for p in "Wb"]
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    probs, labels = _session((tmp_path / "out" / "model.onnx").read_bytes()).run(
        None, {"pixels": images.reshape(len(images), -1).astype(np.float32)})
    expected = predict(Model(params, meta), images, ACTIVATIONS["relu"])
    np.testing.assert_allclose(probs, expected, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, np.asarray(meta["classes"])[expected.argmax(axis=1)])


def _swish(z):
    return z / (1 + np.exp(-z))


class _Swish:
    """A third-party activation; with ``onnx=True`` it also gives its ONNX form."""

    def __init__(self, onnx_form):
        self.onnx_form = onnx_form

    @hookimpl
    def pipeline_register_activations(self):
        # f'(z) = sigmoid(z) + a (1 - sigmoid(z)): a run checks a third-party derivative before using it
        return {"swish": Activation(_swish, lambda z, a: 1 / (1 + np.exp(-z)) + a / (1 + np.exp(z)))}

    @hookimpl
    def pipeline_register_onnx_activations(self):
        return {"swish": self.onnx_form} if self.onnx_form else None


def _swish_form(x, y):
    return [("Sigmoid", [x], [y + "/s"], {}), ("Mul", [x, y + "/s"], [y], {})]


def test_a_plugin_activation_gives_its_onnx_form_through_the_hook(idx_dir, cache_dir, tmp_path):
    assert _run(idx_dir, cache_dir, tmp_path / "out", "swish", extra=[(_Swish(_swish_form), "swishplugin")]) == []
    meta = json.loads((tmp_path / "out" / "model.json").read_text())
    with np.load(tmp_path / "out" / "model.npz") as npz:
        params = [npz[f"{p}{i}"] for i in range(1, len(meta["layers"])) for p in "Wb"]
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    probs, _ = _session((tmp_path / "out" / "model.onnx").read_bytes()).run(
        None, {"pixels": images.reshape(len(images), -1).astype(np.float32)})
    x = (images.reshape(len(images), -1) * np.float32(meta["preprocessing"]["scale"])).astype(np.float32)
    np.testing.assert_allclose(probs, network.predict_proba(params, x, Activation(_swish, None)), atol=1e-5, rtol=0)


def test_without_an_onnx_form_export_says_so_and_writes_the_rest(idx_dir, cache_dir, tmp_path):
    warnings = _run(idx_dir, cache_dir, tmp_path / "out", "swish", extra=[(_Swish(None), "swishplugin")])
    assert len(warnings) == 1 and "model.onnx not written" in warnings[0] and "'swish'" in warnings[0]
    assert "pipeline_register_onnx_activations" in warnings[0]
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.endswith(".png"))
    assert written == ["metrics.json", "model.json", "model.npz", "report.html", "run.json"]


@pytest.mark.parametrize("nodes, fragment", [
    ([("NoSuchOp", ["x"], ["y"], {})], "is not valid ONNX"),
    ([("Relu", ["q"], ["y"], {})], "reads ['q']"),
    ([("Relu", ["x"], ["tmp"], {})], "name intermediates 'y/...'"),
    ([("Sigmoid", ["x"], ["y"], {})], "it computes 0.997527 at z = 6 where forward(z) gives 5.98516"),
])
def test_a_broken_onnx_form_is_named_before_or_at_export(idx_dir, cache_dir, tmp_path, nodes, fragment):
    def form(x, y):  # "x" and "y" stand for the names export gives
        rename = {"x": x, "y": y}
        return [(op, [rename.get(n, n) for n in ins], [rename.get(n, n) for n in outs], attrs)
                for op, ins, outs, attrs in nodes]

    plugin = _Swish(form)
    with pytest.raises(PluginError) as info:
        _run(idx_dir, cache_dir, tmp_path / "out", "swish", extra=[(plugin, "swishplugin")])
    assert fragment in str(info.value) and "swish" in str(info.value)


_NO_ONNX = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "onnx" or name.startswith("onnx."):
            raise ModuleNotFoundError("No module named 'onnx'", name="onnx")
sys.meta_path.insert(0, Block())
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_the_onnx_package_export_says_how_to_get_it(idx_dir, tmp_path):
    args = ["run", "-q", "--out", "out", "--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    cache = tmp_path / "cache"
    done = subprocess.run([sys.executable, "-c", _NO_ONNX, *args], env=env(cache), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "onnx" in line]
    assert lines == ['warning: model.onnx not written: the onnx package is not installed; '
                     'pip install -e ".[onnx]" (or pip install onnx)']
    assert (tmp_path / "out" / "model.npz").is_file() and not (tmp_path / "out" / "model.onnx").exists()
    # with onnx back, export's key differs (it holds onnx's version), so the .onnx appears
    again = subprocess.run([sys.executable, "-m", "pipeline", *args], env=env(cache), cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "model.onnx").is_file()
    stages = {s["name"]: s["status"] for s in json.loads((tmp_path / "out" / "run.json").read_text())["stages"]}
    assert stages["export"] == "ran" and stages["train"] == "cached"


@pytest.mark.parametrize("name", sorted(ONNX_FORMS))
def test_every_built_in_form_computes_its_activation(name):
    # export trusts the built-in forms without checking them in every run: this is their check
    check_form(ONNX_FORMS[name], ACTIVATIONS[name].forward)
