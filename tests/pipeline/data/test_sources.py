"""Data sources: idx and npz loading and validation, digits, source_identity, pixel scale."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError, DataError
from pipeline.data import sources
from pipeline.data.idx import write_idx
from pipeline.data.rawdata import pixel_max
from pipeline.data.sources import load_source, parse_source, source_identity
from tests.datasets import make_images, write_idx_dataset, write_npz_dataset

ROOT = Path(__file__).resolve().parents[3]


# --- idx:DIR -------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_idx_source_loads_train_and_test(tmp_path, gz):
    directory = write_idx_dataset(tmp_path / "d", n_train_per_class=5, n_test_per_class=2, classes=3,
                                  shape=(4, 7), gz=gz)
    data = load_source(f"idx:{directory}")
    assert data.x.shape == (15, 28) and data.x.dtype == np.uint8
    assert data.y.dtype == np.int64 and np.bincount(data.y).tolist() == [5, 5, 5]
    assert data.x_test.shape == (6, 28) and data.y_test.shape == (6,)
    assert data.image_shape == (4, 7) and data.pixel_max == 255.0
    assert data.source == f"idx:{directory.absolute()}" and data.note is None


def test_idx_source_flattening_keeps_pixel_order(tmp_path):
    x, y = make_images(2, 2, shape=(3, 5))
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y)
    data = load_source(f"idx:{tmp_path}")
    np.testing.assert_array_equal(data.x, x.reshape(len(x), 15))
    assert data.x_test is None and data.y_test is None


def test_idx_source_relative_path_is_made_absolute(tmp_path, monkeypatch):
    write_idx_dataset(tmp_path / "rel")
    monkeypatch.chdir(tmp_path)
    assert load_source("idx:rel").source == f"idx:{tmp_path / 'rel'}"
    assert source_identity("idx:rel", None)["path"] == str(tmp_path / "rel")


def test_idx_image_label_count_mismatch(tmp_path):
    x, y = make_images(3, 2)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", y[:-1])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz has 6 images but .*"
                                        r"train-labels-idx1-ubyte.gz has 5 labels"):
        load_source(f"idx:{tmp_path}")


def test_idx_wrong_dimensions_and_test_shape(tmp_path):
    x, y = make_images(3, 2, shape=(4, 4))
    write_idx(tmp_path / "train-images-idx3-ubyte", x.reshape(6, 16))
    write_idx(tmp_path / "train-labels-idx1-ubyte", y)
    with pytest.raises(DataError, match="train-images-idx3-ubyte: images must have 3 dimensions"):
        load_source(f"idx:{tmp_path}")
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", make_images(1, 2, shape=(5, 5))[0])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", y[:2])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: images are \(5, 5\), the training images are \(4, 4\)"):
        load_source(f"idx:{tmp_path}")


def test_idx_corrupt_file_is_named(tmp_path):
    directory = write_idx_dataset(tmp_path / "d")
    path = directory / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: gzip stream is truncated"):
        load_source(f"idx:{directory}")


# --- npz:FILE ------------------------------------------------------------------------------------

def test_npz_source(tmp_path):
    path = write_npz_dataset(tmp_path / "mnist.npz", n_train_per_class=4, n_test_per_class=2, shape=(5, 5))
    data = load_source(f"npz:{path}")
    assert data.x.shape == (12, 25) and data.x_test.shape == (6, 25) and data.image_shape == (5, 5)
    assert data.source == f"npz:{path}" and data.name == "mnist"
    no_test = load_source(f"npz:{write_npz_dataset(tmp_path / 'b.npz', n_test_per_class=0)}")
    assert no_test.x_test is None and no_test.y_test is None


def test_npz_float_images_and_flat_rows(tmp_path):
    x, y = make_images(3, 2, shape=(4, 4))
    path = write_npz_dataset(tmp_path / "f.npz", n_test_per_class=0, x_train=(x / 255.0).reshape(6, 16),
                             y_train=y.astype(np.float64))
    data = load_source(f"npz:{path}")
    assert data.pixel_max == 1.0 and data.x.dtype == np.float64 and data.image_shape == (4, 4)
    assert data.y.dtype == np.int64
    brighter_test = write_npz_dataset(tmp_path / "g.npz", x_train=x / 255.0, y_train=y,
                                      x_test=x[:2] * 1.0, y_test=y[:2])
    assert load_source(f"npz:{brighter_test}").pixel_max == 255.0  # the test rows set the scale too


@pytest.mark.parametrize("extra, message", [
    ({"x_train": None}, r"missing array\(s\) x_train"),
    ({"y_test": None}, r"missing array\(s\) y_test"),
    ({"y_train": np.zeros((60, 2))}, r"array y_train has shape \(60, 2\)"),
    ({"x_train": np.zeros(60)}, r"array x_train has shape \(60,\)"),
    ({"x_train": np.full((60, 4), "a")}, "array x_train has dtype <U1; expected integers or floats"),
    ({"y_train": np.zeros(59, np.uint8)}, r"\[x_train\] has 60 images but .*\[y_train\] has 59 labels"),
    ({"y_train": np.full(60, 0.5)}, "labels must be whole numbers"),
    ({"x_train": np.full((60, 36), -1.0)}, r"pixel values must be finite and >= 0"),
])
def test_npz_bad_arrays(tmp_path, extra, message):
    path = write_npz_dataset(tmp_path / "bad.npz", **extra)
    with pytest.raises(DataError, match=message) as info:
        load_source(f"npz:{path}")
    assert "bad.npz" in str(info.value)


def test_npz_unreadable_files(tmp_path):
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DataError, match="text.npz: not a readable .npz"):
        load_source(f"npz:{tmp_path / 'text.npz'}")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(DataError, match="one.npy: holds a single array"):
        load_source(f"npz:{tmp_path / 'one.npy'}")
    np.savez(tmp_path / "obj.npz", x_train=np.array([{}, {}], dtype=object), y_train=np.zeros(2))
    with pytest.raises(DataError, match="obj.npz: array x_train cannot be read"):
        load_source(f"npz:{tmp_path / 'obj.npz'}")
    with pytest.raises(DataError, match="absent.npz: no such file"):
        load_source(f"npz:{tmp_path / 'absent.npz'}")


# --- digits and scale ----------------------------------------------------------------------------

def test_digits_source():
    data = load_source("digits")
    assert data.x.shape == (1797, 64) and data.x.dtype == np.uint8 and data.x.max() == 16
    assert data.pixel_max == 16.0 and data.image_shape == (8, 8) and data.x_test is None
    assert sorted(set(data.y.tolist())) == list(range(10)) and data.source == "digits"


@pytest.mark.parametrize("x, expected", [
    (np.array([[0, 200]], np.uint8), 255.0), (np.array([[0, 1]], np.uint8), 255.0),
    (np.array([[0.0, 0.5]]), 1.0), (np.array([[0, 1]], np.int32), 1.0), (np.array([[0, 16.0]]), 255.0),
    (np.array([[3, 4000]], np.uint16), 65535.0), (np.array([[0, 1e6]]), 1e6),
])
def test_pixel_max(x, expected):
    assert pixel_max(x, "here") == expected


def test_pixel_max_rejects_nan():
    with pytest.raises(DataError, match="here: pixel values must be finite"):
        pixel_max(np.array([[0.0, np.nan]]), "here")


# --- source strings and identity -----------------------------------------------------------------

@pytest.mark.parametrize("bad", ["mnist", "idx", "idx:", "npz: ", "digits:8", "auto:x", "http://x", ""])
def test_bad_source_strings_list_the_valid_forms(bad):
    with pytest.raises(ConfigError, match=r"auto \| openml:NAME \| idx:DIR \| npz:FILE \| digits"):
        source_identity(bad, None)


def test_parse_source_uses_the_table():
    assert set(sources.SOURCES) == {"auto", "openml", "idx", "npz", "digits"}
    assert parse_source("IDX:/a:b")[0::2] == ("idx", "/a:b")


def test_identity_changes_when_a_file_changes(tmp_path):
    directory = write_idx_dataset(tmp_path / "d")
    first = source_identity(f"idx:{directory}", None)
    assert first["source"] == "idx" and len(first["files"]) == 4
    assert source_identity(f"idx:{directory}", None) == first
    labels = directory / "train-labels-idx1-ubyte.gz"
    st = labels.stat()
    os.utime(labels, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert source_identity(f"idx:{directory}", None) != first
    npz = write_npz_dataset(tmp_path / "m.npz")
    before = source_identity(f"npz:{npz}", None)
    write_npz_dataset(npz, n_train_per_class=21)
    assert source_identity(f"npz:{npz}", None) != before


def test_identity_of_each_scheme(tmp_path):
    import importlib.metadata

    assert source_identity("openml:Fashion-MNIST", tmp_path) == {"source": "openml", "name": "fashion-mnist"}
    version = importlib.metadata.version("scikit-learn")
    assert source_identity("digits", tmp_path) == {"source": "digits", "scikit-learn": version}
    assert source_identity("auto", tmp_path) == {"source": "auto", "openml": "mnist_784", "version": 1,
                                                 "scikit-learn": version}
    with pytest.raises(DataError, match="idx:.*absent: no such directory"):
        source_identity(f"idx:{tmp_path / 'absent'}", tmp_path)
    with pytest.raises(DataError, match="npz:.*absent.npz: no such file"):
        source_identity(f"npz:{tmp_path / 'absent.npz'}", tmp_path)


def test_identity_is_fast(tmp_path):
    directory = write_idx_dataset(tmp_path / "d")
    source_identity("digits", tmp_path)  # warm up importlib.metadata
    for source in (f"idx:{directory}", "auto", "digits", "openml:mnist_784"):
        start = time.perf_counter()
        source_identity(source, tmp_path)
        assert time.perf_counter() - start < 0.02, source


def test_no_scikit_learn_import_until_a_loader_needs_it(tmp_path):
    code = ("import sys\nimport stages.fetch, stages.normalize, stages.encode, stages.split\n"
            f"from pipeline.data.sources import source_identity\nsource_identity('auto', {str(tmp_path)!r})\n"
            "source_identity('digits', None)\nassert 'sklearn' not in sys.modules, 'sklearn imported'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
