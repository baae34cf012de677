"""Stage ``normalize``: pixels to float32 in [0, 1], optionally standardized."""

from __future__ import annotations

import math

import numpy as np

from pipeline.errors import DataError

#: Rows per block when accumulating statistics in float64: bounds the temporary to a few MB.
_BLOCK_ROWS = 2048


def _moments(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of every element of ``x``, accumulated in float64 by blocks
    (a whole-array float64 copy of MNIST would take 376 MB)."""
    total = total_sq = 0.0
    for start in range(0, len(x), _BLOCK_ROWS):
        block = np.asarray(x[start:start + _BLOCK_ROWS], dtype=np.float64).ravel()
        total += float(block.sum())
        total_sq += float(np.dot(block, block))
    mean = total / x.size
    return mean, math.sqrt(max(total_sq / x.size - mean * mean, 0.0))


def _apply(x: np.ndarray | None, factor: np.float32, offset: np.float32) -> np.ndarray | None:
    """``x * factor - offset`` as a new float32 array (never float64, never in place on ``x``)."""
    if x is None:
        return None
    out = np.multiply(x, factor, dtype=np.float32)
    if offset:
        np.subtract(out, offset, out=out)
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
    mean, std = 0.0, 1.0
    if cfg.normalize.standardize:
        # Global scalars rather than per-pixel statistics: MNIST's border pixels are always 0, so
        # a per-pixel std is 0 there (division by zero) and tiny elsewhere (noise blown up); one
        # scalar pair keeps the map a plain brightness/contrast change that predict can apply
        # to any image. Computed on the training rows only so nothing leaks from the test set.
        raw_mean, raw_std = _moments(x_raw)
        mean, std = raw_mean * float(scale), raw_std * float(scale)
        if std == 0.0:
            raise DataError(f"normalize.standardize: every training pixel equals {raw_mean}; "
                            "the standard deviation is 0, so set normalize.standardize=false")
    # One fused pass: (x * scale - mean) / std == x * (scale / std) - mean / std.
    factor, offset = np.float32(float(scale) / std), np.float32(mean / std)
    x_all, x_all_test = _apply(x_raw, factor, offset), _apply(x_raw_test, factor, offset)
    if not cfg.normalize.standardize and np.float32(dataset["pixel_max"]) * scale > 1:
        # 1/pixel_max rounded up in float32 can put the brightest pixel one ulp above 1.
        for out in (x_all, x_all_test):
            if out is not None:
                np.minimum(out, np.float32(1.0), out=out)
    preprocessing = {"scale": float(scale), "mean": float(mean), "std": float(std),
                     "image_shape": [int(s) for s in dataset["image_shape"]]}
    return {"x_all": x_all, "x_all_test": x_all_test, "preprocessing": preprocessing}
