"""Tiny synthetic image data sets for the tests, written as IDX or npz files.

Every class is a fixed random bright pattern plus uniform noise, so the
classes are far apart and a small MLP separates them in a few epochs. The
IDX bytes are built here with :mod:`struct`, independently of
:mod:`pipeline.data.idx`, so reader tests are not checked against their own writer.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

#: File names of the MNIST distribution (without ``.gz``).
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _patterns(classes: int, n_pixels: int, seed: int) -> np.ndarray:
    """Distinct boolean masks, one per class, shape ``(classes, n_pixels)``."""
    rng = np.random.default_rng([seed, 7919])
    masks: list[np.ndarray] = []
    for _ in range(1000 * classes):
        if len(masks) == classes:
            break
        mask = rng.random(n_pixels) < 0.5
        # Distinct by a margin, not just by one pixel, so classes stay learnable.
        if mask.any() and all(np.count_nonzero(mask != m) >= max(1, n_pixels // 4) for m in masks):
            masks.append(mask)
    if len(masks) < classes:
        raise ValueError(f"cannot draw {classes} distinct patterns of {n_pixels} pixels")
    return np.stack(masks)


def make_images(n_per_class: int = 20, classes: int = 3, shape: tuple[int, int] = (6, 6),
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic labelled images, rows in shuffled order.

    Parameters
    ----------
    n_per_class : int
        Images per class.
    classes : int
        Number of classes; labels are ``0 .. classes - 1``.
    shape : tuple of int
        Image size ``(h, w)``.
    seed : int
        Seeds both the class patterns and the noise.

    Returns
    -------
    x : ndarray of uint8, shape (n, h, w)
        ``n = n_per_class * classes``; pattern pixels are 180..255, others 0..75.
    y : ndarray of uint8, shape (n,)
        The class of each image.
    """
    h, w = shape
    masks = _patterns(classes, h * w, seed)
    rng = np.random.default_rng([seed, 1])
    y = np.repeat(np.arange(classes, dtype=np.uint8), n_per_class)
    rng.shuffle(y)
    noise = rng.integers(0, 76, size=(y.size, h * w), dtype=np.uint8)
    x = (masks[y].astype(np.uint8) * 180 + noise).reshape(y.size, h, w)
    return x, y


def _train_test(n_train_per_class: int, n_test_per_class: int, classes: int,
                shape: tuple[int, int], seed: int) -> tuple[np.ndarray, ...]:
    """Train and test images drawn with the same class patterns; test may be empty."""
    x, y = make_images(n_train_per_class + n_test_per_class, classes, shape, seed)
    # The first n_train_per_class rows of each class go to train, the rest to test.
    rank = np.zeros(y.size, dtype=np.int64)
    for c in range(classes):
        where = np.flatnonzero(y == c)
        rank[where] = np.arange(where.size)
    train = rank < n_train_per_class
    return x[train], y[train], x[~train], y[~train]


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (magic ``0x0000 08 ndim``, big-endian u32 dims)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_dataset(directory: str | Path, n_train_per_class: int = 20, n_test_per_class: int = 10,
                      classes: int = 3, shape: tuple[int, int] = (6, 6), gz: bool = True,
                      seed: int = 0) -> Path:
    """Write an MNIST-style IDX directory.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    n_train_per_class, n_test_per_class : int
        Rows per class; ``n_test_per_class=0`` writes no ``t10k-*`` files.
    classes, shape, seed
        As in :func:`make_images`.
    gz : bool
        Gzip the files and add ``.gz`` to their names.

    Returns
    -------
    Path
        ``directory``, holding ``train-images-idx3-ubyte[.gz]`` (n, h, w),
        ``train-labels-idx1-ubyte[.gz]`` (n,) and, with a test set, the ``t10k-*`` pair.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    x_tr, y_tr, x_te, y_te = _train_test(n_train_per_class, n_test_per_class, classes, shape, seed)
    arrays = {"train_images": x_tr, "train_labels": y_tr}
    if n_test_per_class:
        arrays |= {"test_images": x_te, "test_labels": y_te}
    for key, array in arrays.items():
        data = idx_bytes(array)
        name = IDX_NAMES[key] + (".gz" if gz else "")
        (directory / name).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return directory


def write_npz_dataset(path: str | Path, n_train_per_class: int = 20, n_test_per_class: int = 10,
                      classes: int = 3, shape: tuple[int, int] = (6, 6), seed: int = 0,
                      **extra: np.ndarray | None) -> Path:
    """Write an ``mnist.npz``-style file.

    Parameters
    ----------
    path : str or Path
        The file to write; its parent directory is created if missing.
    n_train_per_class, n_test_per_class : int
        Rows per class; ``n_test_per_class=0`` writes no ``x_test``/``y_test``.
    classes, shape, seed
        As in :func:`make_images`.
    **extra : ndarray or None
        Arrays that replace or add to the generated ones (e.g. a bad ``y_train``);
        ``None`` leaves that array out (e.g. ``x_train=None``).

    Returns
    -------
    Path
        ``path``, holding ``x_train`` uint8 (n, h, w), ``y_train`` uint8 (n,),
        and optionally ``x_test``, ``y_test``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x_tr, y_tr, x_te, y_te = _train_test(n_train_per_class, n_test_per_class, classes, shape, seed)
    arrays = {"x_train": x_tr, "y_train": y_tr}
    if n_test_per_class:
        arrays |= {"x_test": x_te, "y_test": y_te}
    arrays |= extra
    arrays = {name: array for name, array in arrays.items() if array is not None}
    with open(path, "wb") as f:  # a file object keeps np.savez from appending ".npz"
        np.savez(f, **arrays)
    return path


def train_inputs(x, y, x_val=None, y_val=None) -> dict:
    """``train.run``'s data arguments for rows already scaled: float32 ``x`` (n, d), one-hot ``y``
    (n, k), optional validation rows, as the raw pixels, targets, recipe and row numbers the
    stage reads (the identity recipe, training rows then validation rows)."""
    from pipeline.nn.inputs import IDENTITY

    n = len(x)
    has_val = x_val is not None and len(x_val) > 0
    return {"x_raw": np.concatenate([x, x_val]) if has_val else x, "x_raw_test": None,
            "y_all": np.concatenate([y, y_val]) if has_val else y, "y_all_test": None,
            "preprocessing": dict(IDENTITY), "train_rows": np.arange(n),
            "val_rows": np.arange(n, n + len(x_val)) if has_val else None}


def evaluate_inputs(x_val, y_val, x_test=None, y_test=None) -> dict:
    """``evaluate.run``'s data arguments for rows already scaled (as :func:`train_inputs`)."""
    from pipeline.nn.inputs import IDENTITY

    m = len(x_val)
    return {"x_raw": x_val, "x_raw_test": x_test, "y_all": y_val, "y_all_test": y_test,
            "preprocessing": dict(IDENTITY), "val_rows": np.arange(m),
            "test_rows": None if x_test is None else np.arange(m, m + len(x_test))}
