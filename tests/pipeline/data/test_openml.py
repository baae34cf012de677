"""Download safety of the OpenML sources: HTTPS only, into data_home, a partial download never complete.

No network: plain-HTTP and file URLs are refused before any connection, a
local HTTP server sees no request, and scikit-learn's ``urlopen`` is replaced
by a fake OpenML that can break off in the middle of the data file.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
import urllib.request
from urllib.error import URLError

import numpy as np
import pytest

from pipeline.errors import DataError
from pipeline.data import openml
from tests.datasets import make_images
from tests.stages.test_fetch import FakeOpenML, Recorder, Response, offline, run_fetch


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/data", "file:///etc/passwd", "ftp://example.org/x"])
def test_only_https_is_opened_while_downloading(url):
    before = getattr(urllib.request, "_opener", None)
    with openml.network_policy(), pytest.raises(URLError, match="only https:// is allowed"):
        urllib.request.urlopen(url)
    assert getattr(urllib.request, "_opener", None) is before  # restored


def test_a_reachable_plain_http_server_is_never_contacted():
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with openml.network_policy(), pytest.raises(URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/api/v1/json/data/554")
    finally:
        server.shutdown()
    assert requests == []


class BrokenOff(Response):
    """A response that dies halfway through, like a dropped connection."""

    def read(self, size=-1):
        if self.tell() > len(self.getvalue()) // 2:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size if size and 0 < size < 64 else 64)


@pytest.fixture
def tiny(monkeypatch):
    x, y = make_images(n_per_class=15, classes=3, shape=(6, 6))
    server = FakeOpenML("mnist_784", x.reshape(len(x), -1), y.tolist(), ["0", "1", "2"])
    monkeypatch.setitem(openml.OPENML_KNOWN, "mnist_784", (1, 15))
    monkeypatch.setattr(openml, "OPENML_DELAY", 0.001)
    return server


def test_a_download_that_breaks_off_never_counts_as_complete(tmp_path, monkeypatch, tiny):
    def breaking(request, *args, **kwargs):
        response = tiny.urlopen(request)
        return BrokenOff(response.getvalue()) if "/data/v1/download/" in request.get_full_url() else response

    monkeypatch.setattr("sklearn.datasets._openml.urlopen", breaking)
    with pytest.raises(DataError, match="openml:mnist_784: cannot load from OpenML"), \
            pytest.warns(RuntimeWarning, match="redownloading"):  # scikit-learn tries once more
        run_fetch("openml:mnist_784", tmp_path)
    assert not openml.mnist_cached(tmp_path)
    arff = [p for p in (tmp_path / "openml").rglob("*.arff.gz")]
    assert arff == []  # nothing half-written under the final name
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", tiny.urlopen)
    out = run_fetch("openml:mnist_784", tmp_path)
    assert out["dataset"]["n_train"] == 30 and openml.mnist_cached(tmp_path)


def test_a_damaged_cached_download_is_fetched_again(tmp_path, monkeypatch, tiny):
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", tiny.urlopen)
    first = run_fetch("openml:mnist_784", tmp_path)
    (arff,) = (tmp_path / "openml").rglob("*.arff.gz")
    arff.write_bytes(os.urandom(arff.stat().st_size))  # the MD5 from OpenML's description no longer matches
    with pytest.warns(RuntimeWarning, match="Invalid cache, redownloading"):
        again = run_fetch("openml:mnist_784", tmp_path)
    np.testing.assert_array_equal(again["x_raw"], first["x_raw"])


def test_killed_downloads_are_swept_but_live_ones_kept(tmp_path):
    folder = tmp_path / "openml" / "openml.org" / "data" / "v1" / "download" / "52667"
    dead, live = folder / "tmpdead", folder / "tmplive"
    for d in (dead, live):
        d.mkdir(parents=True)
        (d / "mnist_784.arff.gz").write_bytes(b"partial")
    old = time.time() - openml.ABANDONED_DOWNLOAD_SECONDS - 60
    for p in (dead / "mnist_784.arff.gz", dead):
        os.utime(p, (old, old))
    assert not openml.mnist_cached(tmp_path)  # a partial download is not a download
    assert openml.sweep_partial_downloads(tmp_path) == 1
    assert not dead.exists() and live.exists()


def test_auto_fallback_note_says_how_to_retry(tmp_path, monkeypatch):
    monkeypatch.setattr(openml, "OPENML_DELAY", 0.001)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", offline)
    progress = Recorder()
    out = run_fetch("auto", tmp_path, progress)
    (note,) = progress.warnings
    assert "--force fetch" in note and "cached" in note and "data.source=idx:DIR" in note
    assert out["dataset"]["note"] == note


def test_a_cached_fallback_is_repeated_in_quiet_mode(cli, monkeypatch):
    monkeypatch.setattr(openml, "OPENML_DELAY", 0.001)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", offline)
    fast = ["--set", "train.epochs=1", "--set", "model.hidden=[8]"]
    first = cli("run", "-q", *fast)
    second = cli("run", "-q", *fast)  # all cached, offline or not: the note says so again
    assert first.code == second.code == 0
    for result in (first, second):
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "--force fetch" in lines[0], result.err
