"""The ``openml:NAME`` and ``auto`` data sources: OpenML through scikit-learn's ``fetch_openml``.

Downloads go only to OpenML, only over HTTPS (any other scheme, a redirect to
plain HTTP included, is refused), and only into ``data_home`` (the cache's
``downloads`` directory). scikit-learn writes each file to a temporary
directory and renames it into place when complete, and checks the data file's
MD5 against OpenML's description on every load, so a partial download never
counts as complete; what a killed download leaves behind is swept here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError

import numpy as np

from pipeline.api import Progress
from pipeline.errors import DataError
from pipeline.data.rawdata import RawData, assemble
from pipeline.data.digits import OFFLINE_ALTERNATIVES, identity_digits, load_digits

#: Lower-case OpenML name -> (pinned version, rows at the end that form the official test set).
#: Pinning the version keeps ``openml:NAME`` meaning the same data as OpenML evolves.
OPENML_KNOWN: dict[str, tuple[int, int]] = {
    "mnist_784": (1, 10_000), "fashion-mnist": (1, 10_000), "kuzushiji-mnist": (1, 10_000),
}
#: Fail fast when offline: per-socket-operation timeout (s), sklearn's retries (>= 1) and delay (s).
OPENML_TIMEOUT, OPENML_RETRIES, OPENML_DELAY = 5.0, 1, 0.2
#: A temporary download directory untouched this long belongs to a download that was killed.
ABANDONED_DOWNLOAD_SECONDS = 600
#: JSON files sklearn caches for mnist_784 v1 (OpenML data id 554), under DATA_HOME/openml/openml.org.
_MNIST_JSON = ("api/v1/json/data/list/data_name/mnist_784/limit/2/data_version/1.gz",
               "api/v1/json/data/554.gz", "api/v1/json/data/features/554.gz",
               "api/v1/json/data/qualities/554.gz")
#: The ARFF data file (file id 52667): ``<id>/<name>.arff.gz`` in recent sklearn, ``<id>.gz`` before.
_MNIST_DATA = "data/v1/download/52667"


def _openml_home(data_home) -> Path:
    """sklearn's cache folder of OpenML files, as ``fetch_openml`` computes it (without importing it)."""
    home = data_home or os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")
    return Path(home).expanduser() / "openml" / "openml.org"


def mnist_cached(data_home) -> bool:
    """Whether ``data_home`` holds every file of mnist_784 v1, complete (stat and one listing only).

    sklearn renames a file into place only once it is fully downloaded, so a
    killed download (a ``tmp*`` directory) does not count.
    """
    root = _openml_home(data_home)
    if not all((root / part).is_file() for part in _MNIST_JSON):
        return False
    data = root / _MNIST_DATA
    return Path(f"{data}.gz").is_file() or (data.is_dir() and any(p.is_file() for p in data.glob("*.gz")))


def sweep_partial_downloads(data_home) -> int:
    """Remove the temporary directories of downloads that were killed; returns how many.

    A directory named ``tmp*`` under ``data_home/openml`` whose newest file is
    older than :data:`ABANDONED_DOWNLOAD_SECONDS` is no live download's
    (a live one writes continuously, and a stalled one times out in seconds).
    """
    root = _openml_home(data_home).parent
    if not root.is_dir():
        return 0
    now, removed = time.time(), 0
    for folder, subdirs, _ in os.walk(root):
        for name in [d for d in subdirs if d.startswith("tmp")]:
            path = Path(folder, name)
            try:
                newest = max([path.stat().st_mtime] + [p.stat().st_mtime for p in path.rglob("*")])
            except FileNotFoundError:  # its download just finished or was cleaned up
                continue
            if now - newest > ABANDONED_DOWNLOAD_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        subdirs[:] = [d for d in subdirs if not d.startswith("tmp")]
    return removed


class HttpsOnly(urllib.request.BaseHandler):
    """A urllib handler that refuses every scheme but HTTPS, redirects included."""

    handler_order = 100  # consulted before the default handlers (500)

    def _refuse(self, request: urllib.request.Request) -> None:
        raise URLError(f"refusing to download {request.full_url}: only https:// is allowed")

    http_open = ftp_open = file_open = data_open = _refuse


@contextlib.contextmanager
def network_policy() -> Iterator[None]:
    """While downloading: a short socket timeout and an HTTPS-only ``urlopen``; both restored after."""
    previous_timeout = socket.getdefaulttimeout()
    previous_opener = getattr(urllib.request, "_opener", None)
    socket.setdefaulttimeout(OPENML_TIMEOUT)  # sklearn's urlopen takes no timeout argument
    urllib.request.install_opener(urllib.request.build_opener(HttpsOnly))
    try:
        yield
    finally:
        urllib.request.install_opener(previous_opener)
        socket.setdefaulttimeout(previous_timeout)


def identity_openml(arg: str, data_home) -> dict:
    return {"name": arg.lower()}


def _fetch_openml(name: str, data_home):
    """``fetch_openml`` under :func:`network_policy`, with one quick retry; returns ``(X, y)``."""
    from sklearn.datasets import fetch_openml

    version = OPENML_KNOWN.get(name, ("active",))[0]
    if data_home is not None:
        sweep_partial_downloads(data_home)
    with network_policy(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A network error occurred")
        return fetch_openml(name, version=version, as_frame=False, data_home=data_home, parser="liac-arff",
                            return_X_y=True, n_retries=OPENML_RETRIES, delay=OPENML_DELAY)


def load_openml(arg: str, data_home, progress: Progress) -> RawData:
    """The ``openml:NAME`` loader; the last rows of known MNIST-like sets are their test set."""
    name = arg.lower()  # OpenML names are case-insensitive; sklearn caches them lower-cased
    task = f"download openml:{name}"
    progress.update(task, 0, None)
    try:
        x, y = _fetch_openml(name, data_home)
    except (OSError, ValueError) as exc:  # URLError, timeouts, HTTP 412 (OpenMLError), bad checksum
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"data.source openml:{name}: cannot load from OpenML ({reason}); offline "
                        f"alternatives: {OFFLINE_ALTERNATIVES}") from exc
    progress.update(task, 1, 1)
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    if x.dtype.kind == "f" and x.size and x.min() >= 0 and x.max() <= 255:
        as_bytes = x.astype(np.uint8)
        if np.array_equal(as_bytes, x):  # MNIST arrives as float64 whole numbers: uint8 is lossless
            x = as_bytes
    y = np.asarray(y)
    n_test = OPENML_KNOWN.get(name, (None, 0))[1]
    where = {k: f"openml:{name}" for k in ("x", "y", "x_test", "y_test")}
    if n_test and len(x) <= n_test:
        raise DataError(f"openml:{name}: has {len(x)} rows, expected more than its {n_test} test rows")
    if n_test:  # the official test set is the last n_test rows
        return assemble(x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:], where, f"openml:{name}", name)
    return assemble(x, y, None, None, where, f"openml:{name}", name)


def identity_auto(arg: str, data_home) -> dict:
    """What ``auto`` depends on: OpenML's mnist_784 v1, else the digits of this scikit-learn.

    Whether MNIST is already downloaded is deliberately not part of it: the
    outcome of the first run (MNIST, or the digits fallback when offline) stays
    cached, so re-runs are all hits; ``--force fetch`` tries MNIST again.
    """
    return {"openml": "mnist_784", "version": OPENML_KNOWN["mnist_784"][0], **identity_digits("", data_home)}


def load_auto(arg: str, data_home, progress: Progress) -> RawData:
    """MNIST from the download cache or OpenML; offline, the bundled digits with a one-line note."""
    try:  # from sklearn's cache when present (no network), else downloaded
        return load_openml("mnist_784", data_home, progress)
    except DataError as exc:
        cause = exc.__cause__
        reason = " ".join(str(getattr(cause, "reason", None) or cause or exc).split())
    note = (f"MNIST could not be downloaded from OpenML ({reason}); using the bundled 8x8 digits instead, "
            "and this fallback is cached: `--force fetch` tries MNIST again, "
            "data.source=idx:DIR uses local MNIST files")
    progress.warn(note)
    data = load_digits("", data_home, progress)
    data.note = note
    return data
