"""The data sources behind ``data.source``: a table of scheme -> (loader, identity).

``source_identity`` is what the runner hashes into fetch's cache key on every
run, so it only stats files; the loaders do the reading. scikit-learn is
imported inside the loaders that need it, never at module level. The OpenML
and ``auto`` sources live in :mod:`pipeline.data.openml`, imported when used.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.api import SILENT, Progress
from pipeline.errors import ConfigError, DataError
from pipeline.data.idx import IDX_FILES, find_idx_files, read_idx
from pipeline.data.digits import identity_digits, load_digits
from pipeline.data.rawdata import RawData, assemble

def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


# --- idx:DIR -------------------------------------------------------------------------------------

def _identity_idx(arg: str, data_home) -> dict:
    directory = Path(arg).expanduser().absolute()
    files = find_idx_files(directory)
    return {"path": str(directory),
            "files": {p.name: [st.st_size, st.st_mtime_ns] for p, st in files.values()}}


def _load_idx(arg: str, data_home, progress: Progress) -> RawData:
    directory = Path(arg).expanduser().absolute()
    files = {key: path for key, (path, _) in find_idx_files(directory).items()}
    arrays = {key: read_idx(path) for key, path in files.items()}
    for key, array in arrays.items():
        if key.startswith("x") and array.ndim != 3:
            raise DataError(f"{files[key]}: images must have 3 dimensions (n, rows, cols), got shape {array.shape}")
    where = {key: str(files.get(key, key)) for key in IDX_FILES}
    return assemble(arrays["x"], arrays["y"], arrays.get("x_test"), arrays.get("y_test"), where,
                    f"idx:{directory}", directory.name)


# --- npz:FILE ------------------------------------------------------------------------------------

def _identity_npz(arg: str, data_home) -> dict:
    path = Path(arg).expanduser().absolute()
    st = _stat(path)
    if st is None or not stat.S_ISREG(st.st_mode):
        raise DataError(f"data.source npz:{path}: no such file")
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def numpy_file_kind(path: Path) -> str | None:
    """``"npz"`` (a zip archive), ``"npy"`` (one array) or None, from the file's first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "npz"
    return "npy" if head == b"\x93NUMPY" else None


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """The mnist.npz arrays of ``path``, checked for presence, ndim and numeric dtype."""
    import zipfile

    if numpy_file_kind(path) is None:  # else np.load would try it as a pickle
        raise DataError(f"{path}: not a readable .npz file (no zip signature); expected the output of "
                        "numpy.savez with x_train, y_train[, x_test, y_test]")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    if not hasattr(archive, "files"):
        raise DataError(f"{path}: holds a single array (.npy); expected an .npz with x_train, y_train[, x_test, y_test]")
    with archive:
        names = [n for n in ("x_train", "y_train", "x_test", "y_test") if n in archive.files]
        missing = {"x_train", "y_train"} - set(names)
        if ("x_test" in names) != ("y_test" in names):
            missing.add("y_test" if "x_test" in names else "x_test")
        if missing:
            raise DataError(f"{path}: missing array(s) {', '.join(sorted(missing))}; an npz source needs "
                            f"x_train, y_train and optionally x_test with y_test (has: {', '.join(archive.files)})")
        arrays = {}
        for name in names:
            try:
                arrays[name] = archive[name]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                raise DataError(f"{path}: array {name} cannot be read ({exc})") from None
            a = arrays[name]
            if a.dtype.kind not in "uif":
                raise DataError(f"{path}: array {name} has dtype {a.dtype}; expected integers or floats")
            ndims = (1,) if name.startswith("y") else (2, 3)
            if a.ndim not in ndims:
                raise DataError(f"{path}: array {name} has shape {a.shape}; expected "
                                f"{'(n,)' if ndims == (1,) else '(n, h, w) or (n, pixels)'}")
    return arrays


def _load_npz(arg: str, data_home, progress: Progress) -> RawData:
    path = Path(arg).expanduser().absolute()
    _identity_npz(arg, data_home)
    a = _npz_arrays(path)
    where = {"x": f"{path}[x_train]", "y": f"{path}[y_train]",
             "x_test": f"{path}[x_test]", "y_test": f"{path}[y_test]"}
    return assemble(a["x_train"], a["y_train"], a.get("x_test"), a.get("y_test"), where,
                    f"npz:{path}", path.stem)


# --- openml:NAME and auto: in pipeline.data.openml, imported when used --------------------------------

def _identity_openml(arg: str, data_home) -> dict:
    from pipeline.data import openml

    return openml.identity_openml(arg, data_home)


def _load_openml(arg: str, data_home, progress: Progress) -> RawData:
    from pipeline.data import openml

    return openml.load_openml(arg, data_home, progress)


def _identity_auto(arg: str, data_home) -> dict:
    from pipeline.data import openml

    return openml.identity_auto(arg, data_home)


def _load_auto(arg: str, data_home, progress: Progress) -> RawData:
    from pipeline.data import openml

    return openml.load_auto(arg, data_home, progress)


# --- the table -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """One ``data.source`` scheme: its usage form, its loader and its cheap identity."""

    form: str
    takes_argument: bool
    load: Callable[[str, str | Path | None, Progress], RawData]
    identity: Callable[[str, str | Path | None], dict]


SOURCES: dict[str, Source] = {
    "auto": Source("auto", False, _load_auto, _identity_auto),
    "openml": Source("openml:NAME", True, _load_openml, _identity_openml),
    "idx": Source("idx:DIR", True, _load_idx, _identity_idx),
    "npz": Source("npz:FILE", True, _load_npz, _identity_npz),
    "digits": Source("digits", False, load_digits, identity_digits),
}


def parse_source(source: str, sources: Mapping[str, Source] | None = None) -> tuple[str, Source, str]:
    """Split ``"idx:DIR"`` into ``("idx", SOURCES["idx"], "DIR")``; a bad string -> ConfigError.

    ``sources`` is the table to look the scheme up in: the plugin registry of
    sources in a run (the built-in ones plus those of plugins), :data:`SOURCES` by default.
    """
    sources = SOURCES if sources is None else sources
    scheme, _, arg = source.partition(":")
    entry = sources.get(scheme.strip().lower())
    if entry is None or entry.takes_argument != bool(arg.strip()):
        forms = " | ".join(s.form for s in sources.values())
        raise ConfigError(f"data.source '{source}' is not valid; use one of: {forms}")
    return scheme.strip().lower(), entry, arg.strip()


def source_identity(source: str, data_home: str | Path | None, sources: Mapping[str, Source] | None = None) -> dict:
    """What fetch's output depends on, cheaply (``os.stat`` only): part of fetch's cache key.

    Returns
    -------
    dict
        JSON-able; ``{"source": scheme, ...}`` with absolute path(s) and ``[size, mtime_ns]`` for
        idx/npz, the name for openml, the scikit-learn version for digits, and for auto the
        OpenML data set and version (plus the scikit-learn version of the digits fallback).

    Raises
    ------
    ConfigError
        Unknown scheme or malformed source string.
    DataError
        The directory or file of an idx/npz source is missing.
    """
    scheme, entry, arg = parse_source(source, sources)
    return {"source": scheme, **entry.identity(arg, data_home)}


def load_source(source: str, data_home: str | Path | None = None, progress: Progress = SILENT,
                sources: Mapping[str, Source] | None = None) -> RawData:
    """Load the data set named by ``data.source`` (see :data:`SOURCES`); a loader must return RawData."""
    scheme, entry, arg = parse_source(source, sources)
    data = entry.load(arg, data_home, progress)
    if not isinstance(data, RawData):
        raise DataError(f"data source '{scheme}' returned {type(data).__name__}, not a RawData; build it with "
                        f"pipeline.data.rawdata.assemble")
    return data
