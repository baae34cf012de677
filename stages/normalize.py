"""Stage ``normalize``: how pixels become the network's inputs (float32 in [0, 1], optionally standardized).

The stage stores the recipe, not a float32 copy of the data: train, evaluate and predict apply it
to the rows they read (:func:`pipeline.nn.inputs.scale_into`), so the cache holds the pixels once,
as the source gave them.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.errors import DataError
from pipeline.nn.inputs import scale_into

#: Rows per chunk when measuring the mean and std: a bounded float32 buffer, never a full-size copy.
_CHUNK_ROWS = 4096


def _moments(x_raw: np.ndarray, preprocessing: dict) -> tuple[float, float]:
    """Mean and standard deviation of every scaled training pixel, accumulated in float64 chunk by chunk."""
    n, d = x_raw.shape
    buffer = np.empty((min(_CHUNK_ROWS, n), d), np.float32)
    total = total_sq = 0.0
    for start in range(0, n, _CHUNK_ROWS):
        chunk = scale_into(x_raw[start:start + _CHUNK_ROWS], buffer[:min(_CHUNK_ROWS, n - start)], preprocessing)
        total += float(chunk.sum(dtype=np.float64))
        np.multiply(chunk, chunk, out=chunk)
        total_sq += float(chunk.sum(dtype=np.float64))
    mean = total / x_raw.size
    return mean, math.sqrt(max(total_sq / x_raw.size - mean * mean, 0.0))


def run(cfg, *, x_raw: np.ndarray, dataset: dict) -> dict:
    """The map from raw pixels to inputs: ``x * (1 / dataset["pixel_max"])``; with
    ``cfg.normalize.standardize``, minus the training mean, divided by the training std.

    Parameters
    ----------
    cfg : Config
        Reads ``cfg.normalize.standardize`` (bool).
    x_raw : ndarray, shape (n, d)
        Training pixels, any numeric dtype; not modified (may be a read-only memory map).
    dataset : dict
        From fetch; uses ``pixel_max`` and ``image_shape``.

    Returns
    -------
    dict
        ``preprocessing`` = ``{"scale": float, "mean": float, "std": float, "clip": bool,
        "image_shape": [h, w]}``: ``x_norm = (min(x * scale, 1) - mean) / std`` in float32 for raw
        pixels ``x`` (``mean`` 0 and ``std`` 1 when not standardizing; the ``min`` only where
        ``clip``, i.e. where ``pixel_max * scale`` rounds above 1), which train, evaluate and
        predict apply to the rows they read.

    Raises
    ------
    DataError
        Standardizing images whose pixels are all equal (std 0).
    """
    pixel_max = dataset["pixel_max"]
    scale = np.float32(1.0 / pixel_max)
    # 1/pixel_max rounded up in float32 can put the brightest pixel one ulp above 1.
    preprocessing = {"scale": float(scale), "mean": 0.0, "std": 1.0,
                     "clip": bool(np.float32(pixel_max) * scale > np.float32(1.0)),
                     "image_shape": [int(s) for s in dataset["image_shape"]]}
    if cfg.normalize.standardize:
        # Global scalars rather than per-pixel statistics: MNIST's border pixels are always 0, so
        # a per-pixel std is 0 there (division by zero) and tiny elsewhere (noise blown up); one
        # scalar pair keeps the map a plain brightness/contrast change that predict can apply
        # to any image. Computed on the training rows only so nothing leaks from the test set.
        mean, std = _moments(x_raw, preprocessing)
        if std == 0.0:
            raise DataError(f"normalize.standardize: every training pixel equals {mean * pixel_max}; "
                            "the standard deviation is 0, so set normalize.standardize=false")
        preprocessing |= {"mean": float(mean), "std": float(std)}
    return {"preprocessing": preprocessing}
