"""Stage ``normalize``: pixels to float32 in [0, 1], optionally standardized."""

from __future__ import annotations

import math

import numpy as np

from pipeline.errors import DataError

#: Elements per chunk when squaring: a reused 1 MB float32 buffer instead of a full-size temporary.
_CHUNK = 1 << 18


def _moments(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of every element of the float32 array ``x``.

    Sums are accumulated in float64 (NumPy casts in small buffers, no float64 copy of ``x``);
    squares are formed chunk by chunk in one reused float32 buffer.
    """
    flat = x.reshape(-1)
    mean = float(flat.sum(dtype=np.float64)) / flat.size
    buffer = np.empty(min(_CHUNK, flat.size), dtype=np.float32)
    total_sq = 0.0
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start:start + _CHUNK]
        squares = np.multiply(chunk, chunk, out=buffer[:chunk.size])
        total_sq += float(squares.sum(dtype=np.float64))
    return mean, math.sqrt(max(total_sq / flat.size - mean * mean, 0.0))


def _scale(x: np.ndarray | None, pixel_max: float) -> np.ndarray | None:
    """``x * float32(1 / pixel_max)`` as a new float32 array: never float64, never in place on ``x``."""
    if x is None:
        return None
    scale = np.float32(1.0 / pixel_max)
    out = np.multiply(x, scale, dtype=np.float32)
    if np.float32(pixel_max) * scale > np.float32(1.0):
        # 1/pixel_max rounded up in float32 can put the brightest pixel one ulp above 1.
        np.minimum(out, np.float32(1.0), out=out)
    return out


def run(cfg, *, x_raw: np.ndarray, x_raw_test: np.ndarray | None, dataset: dict) -> dict:
    """Scale pixels by ``1 / dataset["pixel_max"]``; with ``cfg.normalize.standardize`` also
    subtract the training mean and divide by the training standard deviation.

    Parameters
    ----------
    cfg : Config
        Reads ``cfg.normalize.standardize`` (bool).
    x_raw : ndarray, shape (n, d)
        Training pixels, any numeric dtype; not modified (may be a read-only memory map).
    x_raw_test : ndarray, shape (m, d), or None
        Test pixels, transformed with the training statistics.
    dataset : dict
        From fetch; uses ``pixel_max`` and ``image_shape``.

    Returns
    -------
    dict
        ``x_all`` float32 (n, d) and ``x_all_test`` float32 (m, d) or None, in [0, 1] unless
        standardized; ``preprocessing`` = ``{"scale": float, "mean": float, "std": float,
        "image_shape": [h, w]}`` with ``x_norm = (x * scale - mean) / std`` for raw pixels ``x``
        (``mean`` 0 and ``std`` 1 when not standardizing), which predict applies to new images.

    Raises
    ------
    DataError
        Standardizing images whose pixels are all equal (std 0).
    """
    scale = np.float32(1.0 / dataset["pixel_max"])
    x_all, x_all_test = _scale(x_raw, dataset["pixel_max"]), _scale(x_raw_test, dataset["pixel_max"])
    mean, std = 0.0, 1.0
    if cfg.normalize.standardize:
        # Global scalars rather than per-pixel statistics: MNIST's border pixels are always 0, so
        # a per-pixel std is 0 there (division by zero) and tiny elsewhere (noise blown up); one
        # scalar pair keeps the map a plain brightness/contrast change that predict can apply
        # to any image. Computed on the training rows only so nothing leaks from the test set.
        mean, std = _moments(x_all)
        if std == 0.0:
            raise DataError(f"normalize.standardize: every training pixel equals {mean * dataset['pixel_max']}; "
                            "the standard deviation is 0, so set normalize.standardize=false")
        for out in (x_all, x_all_test):  # our own new arrays: in place is safe and saves memory
            if out is not None:
                np.subtract(out, np.float32(mean), out=out)
                np.divide(out, np.float32(std), out=out)
    preprocessing = {"scale": float(scale), "mean": float(mean), "std": float(std),
                     "image_shape": [int(s) for s in dataset["image_shape"]]}
    return {"x_all": x_all, "x_all_test": x_all_test, "preprocessing": preprocessing}
