"""What every data source returns, and the checks that make its arrays trustworthy.

A loader hands its raw arrays to :func:`assemble`, which flattens images,
validates labels and pixel values, and records the scale, so every source
reaches ``normalize`` in the same shape: :class:`RawData`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import DataError


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
