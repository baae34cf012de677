"""Stage fetch: the dataset record, OpenML through scikit-learn's real code path, auto's fallback.

No network: scikit-learn's ``urlopen`` is replaced by a fake OpenML server that
serves a tiny dataset (as scikit-learn's own test_openml.py does), or by one
that fails like an offline machine.
"""

import hashlib
import io
import json
import socket
from urllib.error import URLError
from urllib.parse import urlparse

import numpy as np
import pytest

from pipeline.api import Progress
from pipeline.config import build_config
from pipeline.errors import DataError
from stages import fetch
from pipeline.data import openml, sources
from tests.datasets import make_images, write_idx_dataset, write_npz_dataset

KEYS = {"x_raw", "y_raw", "x_raw_test", "y_raw_test", "dataset"}


class Recorder(Progress):
    """Keeps every update and warning."""

    def __init__(self):
        self.updates, self.warnings = [], []

    def update(self, task, completed, total=None, **info):
        self.updates.append((task, completed, total))

    def warn(self, message):
        self.warnings.append(message)


class Response(io.BytesIO):
    """What scikit-learn reads from ``urlopen``: a stream with ``info()`` headers."""

    def info(self):
        return {}


class FakeOpenML:
    """Serves one dense ARFF dataset at the URLs ``fetch_openml`` requests."""

    def __init__(self, name, x, y, classes, data_id=554, file_id=52667, version=1):
        self.calls = []
        arff = [f"@RELATION {name}"] + [f"@ATTRIBUTE pixel{i + 1} NUMERIC" for i in range(x.shape[1])]
        arff += ["@ATTRIBUTE class {" + ",".join(classes) + "}", "@DATA"]
        arff += [",".join(map(str, row)) + f",{label}" for row, label in zip(x.tolist(), y)]
        data = ("\n".join(arff) + "\n").encode()
        features = [{"index": str(i), "name": f"pixel{i + 1}", "data_type": "numeric", "is_target": "false",
                     "is_ignore": "false", "is_row_identifier": "false", "number_of_missing_values": "0"}
                    for i in range(x.shape[1])]
        features.append({"index": str(x.shape[1]), "name": "class", "data_type": "nominal",
                         "nominal_value": classes, "is_target": "true", "is_ignore": "false",
                         "is_row_identifier": "false", "number_of_missing_values": "0"})
        listing = {"data": {"dataset": [{"did": data_id, "name": name, "version": version, "status": "active"}]}}
        api = "/api/v1/json/data"
        self.pages = {
            f"{api}/list/data_name/{name}/limit/2/data_version/{version}": listing,
            f"{api}/list/data_name/{name}/limit/2/status/active": listing,
            f"{api}/{data_id}": {"data_set_description": {
                "id": str(data_id), "name": name, "version": str(version), "format": "ARFF", "status": "active",
                "file_id": str(file_id), "default_target_attribute": "class", "description": "tiny fake",
                "url": f"https://api.openml.org/data/v1/download/{file_id}/{name}.arff",
                "md5_checksum": hashlib.md5(data).hexdigest()}},
            f"{api}/features/{data_id}": {"data_features": {"feature": features}},
            f"{api}/qualities/{data_id}": {"data_qualities": {"quality": [
                {"name": "NumberOfInstances", "value": f"{len(x)}.0"}]}},
            f"/data/v1/download/{file_id}/{name}.arff": data,
        }

    def urlopen(self, request, *args, **kwargs):
        url = request.get_full_url()
        self.calls.append(url)
        page = self.pages.get(urlparse(url).path.rstrip("/"))
        if page is None:
            raise URLError(f"fake OpenML has no {url}")
        return Response(page if isinstance(page, bytes) else json.dumps(page).encode())


def offline(request, *args, **kwargs):
    raise URLError(socket.gaierror(-3, "Temporary failure in name resolution"))


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setattr(openml, "OPENML_DELAY", 0.001)


@pytest.fixture
def tiny_mnist(monkeypatch):
    """A fake mnist_784: 45 rows of 6x6 (last 15 the official test set), served by a FakeOpenML."""
    x, y = make_images(n_per_class=15, classes=3, shape=(6, 6))
    server = FakeOpenML("mnist_784", x.reshape(len(x), -1), y.tolist(), ["0", "1", "2"])
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", server.urlopen)
    monkeypatch.setitem(openml.OPENML_KNOWN, "mnist_784", (1, 15))
    return server, x, y


def run_fetch(source, data_home=None, progress=None):
    cfg = build_config(overrides=[("data.source", str(source))])
    out = fetch.run(cfg, progress=progress or Recorder(), data_home=data_home)
    assert set(out) == KEYS
    json.dumps(out["dataset"])  # JSON-able
    return out


def test_fetch_idx_record(tmp_path):
    directory = write_idx_dataset(tmp_path / "digits3", n_train_per_class=6, n_test_per_class=2, shape=(5, 4))
    out = run_fetch(f"idx:{directory}")
    assert out["dataset"] == {"source": f"idx:{directory}", "requested": f"idx:{directory}", "name": "digits3",
                              "image_shape": [5, 4], "pixel_max": 255.0, "n_train": 18, "n_test": 6, "note": None}
    assert out["x_raw"].shape == (18, 20) and out["x_raw"].dtype == np.uint8
    assert out["y_raw"].dtype == np.int64 and out["x_raw_test"].shape == (6, 20)


def test_fetch_npz_without_test_set(tmp_path):
    out = run_fetch(f"npz:{write_npz_dataset(tmp_path / 'a.npz', n_test_per_class=0)}")
    assert out["x_raw_test"] is None and out["y_raw_test"] is None and out["dataset"]["n_test"] == 0


def test_fetch_openml_through_scikit_learn(tmp_path, tiny_mnist):
    server, x, y = tiny_mnist
    progress = Recorder()
    out = run_fetch("openml:MNIST_784", tmp_path, progress)
    assert out["dataset"]["source"] == "openml:mnist_784" and out["dataset"]["image_shape"] == [6, 6]
    assert (out["dataset"]["n_train"], out["dataset"]["n_test"]) == (30, 15)
    assert out["x_raw"].dtype == np.uint8 and out["y_raw"].dtype == np.int64  # float64 / "0".."2" converted
    np.testing.assert_array_equal(out["x_raw"], x[:30].reshape(30, 36))
    np.testing.assert_array_equal(out["y_raw_test"], y[30:])
    assert progress.updates == [("download openml:mnist_784", 0, None), ("download openml:mnist_784", 1, 1)]
    assert any("data_version/1" in url for url in server.calls)  # the known version is pinned
    assert openml.mnist_cached(tmp_path) and socket.getdefaulttimeout() is None


def test_auto_uses_cached_mnist_without_network(tmp_path, tiny_mnist, monkeypatch):
    server, x, _ = tiny_mnist
    before = sources.source_identity("auto", tmp_path)
    assert not openml.mnist_cached(tmp_path)
    run_fetch("openml:mnist_784", tmp_path)  # fills scikit-learn's cache in data_home
    assert openml.mnist_cached(tmp_path)
    assert sources.source_identity("auto", tmp_path) == before  # the download does not change the key

    def no_network(request, *args, **kwargs):
        raise AssertionError(f"network touched: {request.get_full_url()}")

    monkeypatch.setattr("sklearn.datasets._openml.urlopen", no_network)
    progress = Recorder()
    out = run_fetch("auto", tmp_path, progress)
    assert out["dataset"]["source"] == "openml:mnist_784" and out["dataset"]["requested"] == "auto"
    assert out["dataset"]["note"] is None and progress.warnings == []
    np.testing.assert_array_equal(out["x_raw"], x[:30].reshape(30, 36))


def test_auto_falls_back_to_digits_offline(tmp_path, monkeypatch, fast_retry):
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", offline)
    progress = Recorder()
    out = run_fetch("auto", tmp_path, progress)
    assert len(progress.warnings) == 1
    warning = progress.warnings[0]
    assert "MNIST could not be downloaded" in warning and "digits" in warning and "data.source=idx:DIR" in warning
    assert "\n" not in warning
    assert out["dataset"]["source"] == "digits" and out["dataset"]["note"] == warning
    assert out["dataset"]["image_shape"] == [8, 8] and out["dataset"]["pixel_max"] == 16.0
    assert socket.getdefaulttimeout() is None  # the global timeout was restored


def test_openml_failure_names_source_and_alternatives(tmp_path, monkeypatch, fast_retry):
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", offline)
    with pytest.raises(DataError) as info:
        run_fetch("openml:Fashion-MNIST", tmp_path)
    message = str(info.value)
    assert "openml:fashion-mnist" in message and "name resolution" in message
    assert all(alt in message for alt in ("idx:DIR", "npz:FILE", "digits"))


def test_openml_unknown_name_has_no_test_set_and_keeps_string_labels(tmp_path, monkeypatch):
    x, y = make_images(n_per_class=5, classes=2, shape=(3, 3))
    letters = ["cat" if v else "dog" for v in y]
    server = FakeOpenML("pets", x.reshape(len(x), -1) / 255.0, letters, ["cat", "dog"], data_id=9, file_id=99)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", server.urlopen)
    out = run_fetch("openml:pets", tmp_path)
    assert out["x_raw_test"] is None and out["dataset"]["n_train"] == 10
    assert out["x_raw"].dtype == np.float64 and out["dataset"]["pixel_max"] == 1.0
    assert out["y_raw"].tolist() == letters
    assert any("status/active" in url for url in server.calls)  # unknown names: the active version
