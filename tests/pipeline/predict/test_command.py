"""``pipeline predict`` as users try it: floats, image files, labels, formats, .onnx, and their mistakes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.idx import write_idx


def _labels_of(result) -> list[int]:
    return [row["label"] for row in json.loads(result.out)]


def test_float_images_in_unit_range_give_the_same_predictions_as_bytes(cli, trained, digits, tmp_path):
    x, _ = digits
    np.save(tmp_path / "bytes.npy", x)
    np.save(tmp_path / "floats.npy", (x / 255).astype(np.float32))   # the report: all one class
    as_bytes = cli("predict", str(trained), str(tmp_path / "bytes.npy"), "--format", "json")
    as_floats = cli("predict", str(trained), str(tmp_path / "floats.npy"), "--format", "json")
    assert as_bytes.code == as_floats.code == 0
    assert _labels_of(as_floats) == _labels_of(as_bytes) and len(set(_labels_of(as_bytes))) == 3
    assert as_floats.err.strip() == "float values in [0, 1] scaled to 0-255: " + str(tmp_path / "floats.npy")


def test_standardized_images_are_refused_naming_the_file_and_range(cli, trained, digits, tmp_path):
    np.save(tmp_path / "std.npy", ((digits[0] / 255 - 0.13) / 0.31).astype(np.float32))
    result = cli("predict", str(trained), str(tmp_path / "std.npy"))
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and "std.npy': pixel values range from -0.419355 to" in result.err


def _save_drawings(x: np.ndarray, directory: Path) -> None:
    """Each image as a user's drawing: 10x larger, RGB, dark ink on white paper."""
    directory.mkdir()
    for i, image in enumerate(x):
        Image.fromarray(np.kron(255 - image, np.ones((10, 10), np.uint8))).convert("RGB").save(
            directory / f"digit{i:02d}.png")


def test_a_directory_or_glob_of_drawings_predicts_as_the_arrays_do(cli, trained, digits, tmp_path):
    x, _ = digits
    _save_drawings(x, tmp_path / "drawn")
    np.save(tmp_path / "x.npy", x)
    expected = _labels_of(cli("predict", str(trained), str(tmp_path / "x.npy"), "--format", "json"))
    for spec in (tmp_path / "drawn", tmp_path / "drawn" / "*.png"):
        result = cli("predict", str(trained), str(spec), "--format", "json")
        assert result.code == 0, result.err
        rows = json.loads(result.out)
        assert [r["file"] for r in rows] == [f"digit{i:02d}.png" for i in range(len(x))]
        assert [r["label"] for r in rows] == expected
        steps = result.err.strip().splitlines()
        assert [s.split(":")[0] for s in steps] == ["RGB -> grayscale", "resized 60x60 -> 6x6",
                                                   "inverted (dark on a light background; the model expects "
                                                   "light on dark)"]
        assert all(s.endswith("digit00.png, digit01.png, digit02.png (+9 more)") for s in steps)


def test_one_png_and_one_two_dimensional_array(cli, trained, digits, tmp_path):
    x, _ = digits
    Image.fromarray(x[5]).save(tmp_path / "one.png")
    np.save(tmp_path / "one.npy", x[5])
    np.save(tmp_path / "all.npy", x)
    expected = _labels_of(cli("predict", str(trained), str(tmp_path / "all.npy"), "--format", "json"))[5]
    png = cli("predict", str(trained), str(tmp_path / "one.png"), "--format", "json")
    npy = cli("predict", str(trained), str(tmp_path / "one.npy"), "--format", "json")
    assert _labels_of(png) == _labels_of(npy) == [expected]
    assert png.err == "" and npy.err.strip() == f"one 6x6 image: {tmp_path / 'one.npy'}"


def test_labels_give_accuracy_and_the_confusion_matrix(cli, trained, digits, tmp_path):
    from sklearn.metrics import confusion_matrix

    x, y = digits
    y = y.copy()
    y[0] = (y[0] + 1) % 3                                              # one label the model must get wrong
    write_idx(tmp_path / "images-idx3-ubyte", x)
    write_idx(tmp_path / "labels-idx1-ubyte", y.astype(np.uint8))
    np.save(tmp_path / "labels.npy", y)
    predicted = _labels_of(cli("predict", str(trained), str(tmp_path / "images-idx3-ubyte"), "--format", "json"))
    right = int(np.sum(np.asarray(predicted) == y))
    assert right < len(y)
    for labels in ("labels-idx1-ubyte", "labels.npy"):
        result = cli("predict", str(trained), str(tmp_path / "images-idx3-ubyte"), "--labels", str(tmp_path / labels))
        assert result.code == 0, result.err
        assert f"accuracy: {right / len(y):.4f} ({right}/{len(y)} against" in result.out
        matrix = confusion_matrix(y, predicted, labels=[0, 1, 2])
        body = result.out[result.out.index("confusion matrix"):].splitlines()
        cells = [[int(c) for c in line.strip("│ ").split("│")[1:]] for line in body if line.startswith("│")]
        assert cells == matrix.tolist()


def test_csv_and_json_formats(cli, trained, digits, tmp_path):
    np.save(tmp_path / "x.npy", digits[0])
    np.save(tmp_path / "y.npy", digits[1])
    as_json = json.loads(cli("predict", str(trained), str(tmp_path / "x.npy"), "--format", "json",
                             "--labels", str(tmp_path / "y.npy")).out)
    assert [set(r) for r in as_json] == [{"row", "label", "probability", "true_label"}] * len(digits[0])
    assert [r["true_label"] for r in as_json] == digits[1].tolist()
    assert all(1 / 3 <= r["probability"] <= 1 for r in as_json)
    result = cli("predict", "-q", str(trained), str(tmp_path / "x.npy"), "--format", "csv")  # -q: still the rows
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [int(r["label"]) for r in rows] == [r["label"] for r in as_json]
    assert [float(r["probability"]) for r in rows] == [r["probability"] for r in as_json]


def test_an_onnx_model_predicts_as_the_numpy_model_does(cli, trained, digits, tmp_path):
    np.save(tmp_path / "x.npy", digits[0])
    by_numpy = json.loads(cli("predict", str(trained), str(tmp_path / "x.npy"), "--format", "json").out)
    result = cli("predict", str(trained / "model.onnx"), str(tmp_path / "x.npy"), "--format", "json")
    assert result.code == 0, result.err
    by_onnx = json.loads(result.out)
    assert [r["label"] for r in by_onnx] == [r["label"] for r in by_numpy]
    np.testing.assert_allclose([r["probability"] for r in by_onnx], [r["probability"] for r in by_numpy],
                               atol=2e-5)


@pytest.mark.parametrize("case, code, fragments", [
    ("swapped", 2, ["the arguments look swapped", "is a model and", "usage: pipeline predict MODEL INPUT"]),
    ("labels-as-images", 1, ["labels, not images", "--labels FILE"]),
    ("images-as-labels", 1, ["which looks like images", "labels are one-dimensional"]),
    ("no-images", 1, ["holds no PNG or JPEG images (it has: notes.txt)"]),
    ("channels", 1, ["has 3 colour channels", "convert the images to grayscale"]),
    ("foreign-onnx", 1, ["is not a model onnxruntime can load"]),
])
def test_mistakes_get_one_line(cli, trained, digits, tmp_path, case, code, fragments):
    x, y = digits
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "rgb.npy", np.stack([x] * 3, axis=-1))
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "notes.txt").write_text("hello")
    (tmp_path / "fake.onnx").write_bytes(b"not a model")
    args = {"swapped": [str(tmp_path / "x.npy"), str(trained)],
            "labels-as-images": [str(trained), str(tmp_path / "y.npy")],
            "images-as-labels": [str(trained), str(tmp_path / "x.npy"), "--labels", str(tmp_path / "x.npy")],
            "no-images": [str(trained), str(tmp_path / "texts")],
            "channels": [str(trained), str(tmp_path / "rgb.npy")],
            "foreign-onnx": [str(tmp_path / "fake.onnx"), str(tmp_path / "x.npy")]}[case]
    result = cli("predict", *args)
    assert result.code == code and result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("error: ") and "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err


_NO_ONNXRUNTIME = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onnxruntime":
            raise ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime")
sys.meta_path.insert(0, Block())
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_onnx_model_without_onnxruntime_says_how_to_get_it(trained, digits, tmp_path):
    import subprocess
    import sys

    from tests.pipeline.processes import env

    np.save(tmp_path / "x.npy", digits[0])
    done = subprocess.run([sys.executable, "-c", _NO_ONNXRUNTIME, "predict", str(trained / "model.onnx"),
                           str(tmp_path / "x.npy")], env=env(tmp_path / "cache"), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"error: '{trained / 'model.onnx'}': running a .onnx model needs onnxruntime "
                           f"(pip install onnxruntime); or give the run directory to use model.npz\n")
