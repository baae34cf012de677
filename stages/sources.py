"""The data sources behind ``data.source``: a table of scheme -> (loader, identity).

``source_identity`` is what the runner hashes into fetch's cache key on every
run, so it only stats files; the loaders do the reading. scikit-learn is
imported inside the loaders that need it, never at module level. The OpenML
and ``auto`` sources live in :mod:`stages.openml`, imported when used.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.api import SILENT, Progress
from pipeline.errors import ConfigError, DataError
from stages.idx import IDX_FILES, find_idx_files, read_idx

OFFLINE_ALTERNATIVES = ("data.source=idx:DIR (the four MNIST .gz files), npz:FILE (an mnist.npz) "
                        "or digits (bundled with scikit-learn)")


@dataclass
class RawData:
    """What a loader returns.

    Attributes
    ----------
    x, y : ndarray
        Training images ``(n, h*w)`` numeric (uint8 when the source is) and labels ``(n,)``
        int64, or str when the source's labels are not numbers.
    x_test, y_test : ndarray or None
        The source's own test set ``(m, h*w)``, ``(m,)``, or None when it has none.
    source, name : str
        Resolved source (``"idx:/abs/dir"``, ``"openml:mnist_784"``, ``"digits"``) and data set name.
    image_shape : tuple of int
        ``(h, w)``.
    pixel_max : float
        The value of a fully bright pixel: ``x / pixel_max`` lies in [0, 1].
    note : str or None
        Why the resolved source differs from the requested one (``auto`` fallback).
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    source: str
    name: str
    image_shape: tuple[int, int]
    pixel_max: float
    note: str | None = field(default=None)


# --- shared checks --------------------------------------------------------------------------------

def _labels(y: np.ndarray, where: str) -> np.ndarray:
    """Labels ``(n,)`` as int64, or as str when they are strings that are not integers."""
    if y.dtype.kind in "iu":
        return y.astype(np.int64, copy=False)
    if y.dtype.kind == "f":
        bad = y[~(np.isfinite(y) & (y == np.round(y)))]
        if bad.size:
            raise DataError(f"{where}: labels must be whole numbers, got float values such as {bad[0].item()!r}")
        return y.astype(np.int64)
    try:  # OpenML serves class labels as strings: "5" -> 5
        return np.asarray(y).astype(np.int64)
    except (TypeError, ValueError):
        return np.asarray(y).astype(str)


def pixel_max(x: np.ndarray, where: str) -> float:
    """The bright-pixel value of images ``x``: 255 for uint8, else the smallest of 1, 255, 65535
    that bounds the data (the data maximum beyond that). Negative or non-finite pixels -> DataError."""
    if x.dtype == np.uint8:
        return 255.0
    lo, hi = x.min(), x.max()
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0:
        raise DataError(f"{where}: pixel values must be finite and >= 0, found the range [{lo}, {hi}]")
    return next((b for b in (1.0, 255.0, 65535.0) if hi <= b), float(hi))


def _image_shape(d: int) -> tuple[int, int]:
    """``(h, w)`` of flat rows of ``d`` pixels: square when ``d`` is a square, else ``(1, d)``."""
    side = int(round(d ** 0.5))
    return (side, side) if side * side == d else (1, d)


def _flat(x: np.ndarray, where: str) -> tuple[np.ndarray, tuple[int, int]]:
    """Images ``(n, h, w)`` or rows ``(n, d)`` -> rows ``(n, h*w)`` (a view, no copy) and ``(h, w)``."""
    if x.ndim == 3:
        return x.reshape(len(x), -1), (x.shape[1], x.shape[2])
    if x.ndim == 2:
        return x, _image_shape(x.shape[1])
    raise DataError(f"{where}: images must have shape (n, h, w) or (n, pixels), got shape {x.shape}")


def assemble(x, y, x_test, y_test, where: dict[str, str], source: str, name: str,
             scale: float | None = None) -> RawData:
    """Check and shape train (and optional test) arrays into a :class:`RawData`.

    ``where`` names the origin of each of ``"x", "y", "x_test", "y_test"`` for messages.
    """
    pairs = [("x", "y", x, y)] + ([("x_test", "y_test", x_test, y_test)] if x_test is not None else [])
    out, shape = {}, None
    for kx, ky, xs, ys in pairs:
        flat, image_shape = _flat(xs, where[kx])
        if ys.ndim != 1:
            raise DataError(f"{where[ky]}: labels must have shape (n,), got shape {ys.shape}")
        if len(flat) != len(ys):
            raise DataError(f"{where[kx]} has {len(flat)} images but {where[ky]} has {len(ys)} labels")
        if len(flat) == 0:
            raise DataError(f"{where[kx]}: holds no images")
        if shape is not None and image_shape != shape:
            raise DataError(f"{where[kx]}: images are {image_shape}, the training images are {shape}")
        shape = image_shape
        out[kx], out[ky] = flat, _labels(ys, where[ky])
    classes = np.unique(out["y"])
    if classes.size < 2:
        raise DataError(f"{where['y']}: every training label is {classes[0].item()!r}; a classifier needs "
                        "at least 2 classes")
    if "y_test" in out:
        unseen = np.setdiff1d(out["y_test"], classes)
        if unseen.size:
            shown = ", ".join(repr(v.item()) for v in unseen[:5]) + (", ..." if unseen.size > 5 else "")
            raise DataError(f"{where['y_test']}: test labels {shown} are not among the training classes "
                            f"{_short_list(classes)}; train and test sets must use the same classes")
    if scale is None:  # the test rows count too: they must also land in [0, 1]
        scale = max(pixel_max(out[k], where[k]) for k in ("x", "x_test") if k in out)
    return RawData(out["x"], out["y"], out.get("x_test"), out.get("y_test"), source, name, shape, scale)


def _short_list(values: np.ndarray, limit: int = 12) -> str:
    shown = [v.item() for v in values[:limit]]
    return str(shown) if values.size <= limit else str(shown)[:-1] + ", ...]"


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


# --- digits --------------------------------------------------------------------------------------

def identity_digits(arg: str, data_home) -> dict:
    import importlib.metadata  # the bundled file can only change with scikit-learn itself

    return {"scikit-learn": importlib.metadata.version("scikit-learn")}


def load_digits(arg: str, data_home, progress: Progress) -> RawData:
    from sklearn.datasets import load_digits as sklearn_digits

    x, y = sklearn_digits(return_X_y=True)
    # Values are whole numbers 0..16 stored as float64: uint8 is lossless and 8x smaller.
    where = {"x": "digits", "y": "digits"}
    return assemble(x.astype(np.uint8), y, None, None, where, "digits", "digits", scale=16.0)


# --- openml:NAME and auto: in stages.openml, imported when used --------------------------------

def _identity_openml(arg: str, data_home) -> dict:
    from stages import openml

    return openml.identity_openml(arg, data_home)


def _load_openml(arg: str, data_home, progress: Progress) -> RawData:
    from stages import openml

    return openml.load_openml(arg, data_home, progress)


def _identity_auto(arg: str, data_home) -> dict:
    from stages import openml

    return openml.identity_auto(arg, data_home)


def _load_auto(arg: str, data_home, progress: Progress) -> RawData:
    from stages import openml

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


def parse_source(source: str) -> tuple[str, Source, str]:
    """Split ``"idx:DIR"`` into ``("idx", SOURCES["idx"], "DIR")``; a bad string -> ConfigError."""
    scheme, _, arg = source.partition(":")
    entry = SOURCES.get(scheme.strip().lower())
    if entry is None or entry.takes_argument != bool(arg.strip()):
        forms = " | ".join(s.form for s in SOURCES.values())
        raise ConfigError(f"data.source '{source}' is not valid; use one of: {forms}")
    return scheme.strip().lower(), entry, arg.strip()


def source_identity(source: str, data_home: str | Path | None) -> dict:
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
    scheme, entry, arg = parse_source(source)
    return {"source": scheme, **entry.identity(arg, data_home)}


def load_source(source: str, data_home: str | Path | None = None, progress: Progress = SILENT) -> RawData:
    """Load the data set named by ``data.source`` (see :data:`SOURCES`)."""
    _, entry, arg = parse_source(source)
    return entry.load(arg, data_home, progress)
