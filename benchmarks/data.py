"""Data for the benchmark: real MNIST IDX files, or a synthetic MNIST-shaped set written as IDX.

Every system reads the same arrays from ``.npy`` files prepared once per benchmark run
(:func:`prepare`): float32 pixels in [0, 1] exactly as the ``normalize`` stage makes them, the
first 90 % of the training rows for training and the rest for validation, as the ``split``
stage's default proportions.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

#: The four IDX files of the MNIST distribution, gzipped.
IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_bytes(array: np.ndarray) -> bytes:
    """An uint8 array as IDX: magic ``00 00 08 ndim``, big-endian sizes, the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def synthetic_images(n: int, seed: int, shape: tuple[int, int] = (28, 28)) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like digits: ten fixed blurry strokes, shifted and noisy, mostly black (compresses like MNIST).

    Returns
    -------
    x : ndarray of uint8, shape (n, h, w)
    y : ndarray of uint8, shape (n,)
    """
    h, w = shape
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, h + 4, w + 4), np.float32)
    stroke = np.random.default_rng(1234)                    # the same ten "digits" for every seed
    for digit in range(10):
        for _ in range(4):                                  # four thick line segments per digit
            r0, c0, r1, c1 = stroke.integers(6, min(h, w) - 2, 4)
            for t in np.linspace(0, 1, 4 * max(h, w)):
                r, c = int(r0 + t * (r1 - r0)), int(c0 + t * (c1 - c0))
                templates[digit, r:r + 3, c:c + 3] = 1.0
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = np.empty((n, h, w), np.uint8)
    for start in range(0, n, 4096):                         # bounded temporaries
        stop = min(start + 4096, n)
        dr, dc = rng.integers(0, 5, (2, stop - start))
        rows = np.arange(h)[None, :, None] + dr[:, None, None]
        cols = np.arange(w)[None, None, :] + dc[:, None, None]
        img = templates[y[start:stop, None, None], rows, cols]
        img *= rng.uniform(0.6, 1.0, (stop - start, 1, 1)).astype(np.float32)
        img += (rng.random(img.shape, dtype=np.float32) < 0.02) * rng.random(img.shape, dtype=np.float32)
        x[start:stop] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return x, y


def write_synthetic_idx(directory: Path, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Write a synthetic MNIST-shaped set as the four gzipped IDX files; returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    x, y = synthetic_images(n_train, seed)
    xt, yt = synthetic_images(n_test, seed + 1)
    for name, array in zip(IDX_FILES, (x, y, xt, yt)):
        (directory / name).write_bytes(gzip.compress(_idx_bytes(array), compresslevel=6))
    return directory


def prepare(idx_dir: Path, out: Path, max_train: int | None = None) -> dict:
    """Decode the IDX files once and save float32 train/val/test arrays as ``.npy`` in ``out``.

    Returns
    -------
    dict
        ``{"n_train", "n_val", "n_test", "d", "k"}``.
    """
    from pipeline.data.idx import read_idx                            # the repository is on sys.path (bench.py)

    out.mkdir(parents=True, exist_ok=True)
    x, y, xt, yt = (read_idx(idx_dir / name) for name in IDX_FILES)
    x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    y, yt = y.astype(np.intp), yt.astype(np.intp)
    if max_train:
        x, y = x[:max_train], y[:max_train]
    scale = np.float32(1 / 255)                               # as stages.normalize
    n_val = len(x) // 10
    arrays = {"x_train": x[n_val:], "y_train": y[n_val:], "x_val": x[:n_val], "y_val": y[:n_val],
              "x_test": xt, "y_test": yt}
    for name, array in arrays.items():
        if name.startswith("x"):
            array = np.minimum(np.multiply(array, scale, dtype=np.float32), np.float32(1))
        np.save(out / f"{name}.npy", array)
    return {"n_train": len(x) - n_val, "n_val": n_val, "n_test": len(xt), "d": x.shape[1], "k": 10}


def load(out: Path, names: tuple[str, ...] = ("x_train", "y_train", "x_val", "y_val")) -> list[np.ndarray]:
    """The prepared arrays, read into memory (not memory-mapped, as every system gets them)."""
    return [np.load(out / f"{name}.npy") for name in names]


def one_hot(labels: np.ndarray, k: int = 10) -> np.ndarray:
    """float32 one-hot rows of integer ``labels``."""
    return np.eye(k, dtype=np.float32)[labels]


def stage_inputs(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> dict:
    """The train stage's data arguments for prepared float32 rows: raw rows (here already scaled,
    so the identity recipe), targets, and row numbers (training rows, then validation rows)."""
    from pipeline.nn.inputs import IDENTITY

    n = len(x)
    return {"x_raw": np.concatenate([x, x_val]), "x_raw_test": None, "y_all": np.concatenate([y, y_val]),
            "y_all_test": None, "preprocessing": dict(IDENTITY), "train_rows": np.arange(n),
            "val_rows": np.arange(n, n + len(x_val))}
