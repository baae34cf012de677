"""Pictures of inputs and weights: the gallery of mistakes and what the first layer looks for.

Many small images are tiled into one array and drawn with a single ``imshow`` (dozens of axes
would cost a second of matplotlib time per picture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.report import draw

#: Images per gallery row, and per gallery.
GALLERY_COLUMNS, GALLERY_SIZE = 8, 16
#: Hidden units drawn at most (the ones with the largest incoming weights).
MAX_UNITS = 64


def is_image(shape: Sequence[int], width: int) -> bool:
    """Whether rows of ``width`` values are images of ``shape`` (h, w); flat rows are ``(1, d)``."""
    return len(shape) == 2 and min(shape) > 1 and shape[0] * shape[1] == width


@dataclass(frozen=True)
class Gallery:
    """Rows picked for the gallery (indices into the split's rows) with their labels.

    ``wrong``: misclassified rows, most confident first; ``right``: correctly classified rows
    whose true class got the lowest probability first (the hardest ones it still gets right).
    """

    wrong: np.ndarray
    right: np.ndarray
    true: np.ndarray
    pred: np.ndarray
    confidence: np.ndarray   # probability of the predicted class, per row


def pick(proba: np.ndarray, y: np.ndarray, size: int = GALLERY_SIZE) -> Gallery:
    """Choose the gallery rows from the softmax output.

    Parameters
    ----------
    proba : ndarray, shape (n, k)
        Class probabilities of each row.
    y : ndarray, shape (n, k) or (n,)
        One-hot targets or class indices.
    size : int
        Rows per gallery.
    """
    proba = np.asarray(proba)
    true = np.asarray(y).argmax(axis=1) if np.ndim(y) == 2 else np.asarray(y)
    pred = proba.argmax(axis=1)
    confidence = proba[np.arange(len(pred)), pred]
    wrong = np.flatnonzero(pred != true)
    right = np.flatnonzero(pred == true)
    # stable sorts: ties keep row order, so the gallery is the same on every machine
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:size]
    right = right[np.argsort(confidence[right], kind="stable")][:size]
    return Gallery(wrong, right, true, pred, confidence)


def _tiles(images: np.ndarray, columns: int, pad: int, below: int = 0) -> np.ndarray:
    """``images`` (n, h, w) tiled ``columns`` per row, ``pad`` pixels apart and ``below`` more under each
    row (room for labels); the gaps are NaN, which the colour maps draw white."""
    n, h, w = images.shape
    rows = -(-n // columns)
    step_y, step_x = h + pad + below, w + pad
    out = np.full((rows * step_y + pad, columns * step_x + pad), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[pad + r * step_y:pad + r * step_y + h, pad + c * step_x:pad + c * step_x + w] = image
    return out


def _cmap(name: str):
    """The colour map ``name`` with NaN (the gaps between tiles) in white."""
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad="white")


def _pixels(x: np.ndarray, preprocessing: dict) -> np.ndarray:
    """Network inputs back to pixel intensities in [0, 1] (undo standardising)."""
    return np.clip(np.asarray(x, np.float32) * preprocessing.get("std", 1.0) + preprocessing.get("mean", 0.0), 0, 1)


def gallery(x: np.ndarray, picked: Gallery, classes: Sequence, shape: Sequence[int],
            preprocessing: dict, split: str) -> bytes:
    """Most confidently wrong and hardest right images with true class, prediction and probability.

    ``x`` (n, h*w) are the split's network inputs; only the picked rows are read.
    """
    h, w = shape
    panels = [(f"Most confidently wrong ({split})", picked.wrong), (f"Hardest right ({split})", picked.right)]
    panels = [(title, rows) for title, rows in panels if len(rows)]
    pad, below = max(1, w // 5), max(2, h // 3)
    mosaic_rows = [-(-len(rows) // GALLERY_COLUMNS) for _, rows in panels]
    aspect = (h + pad + below) / (w + pad)           # height / width of one tile with its gaps
    height = sum(9.9 / GALLERY_COLUMNS * aspect * r + 0.5 for r in mosaic_rows)
    with draw.figure(10, height + 0.1) as fig:
        axes = fig.subplots(len(panels), 1, height_ratios=mosaic_rows, squeeze=False)[:, 0]
        draw.margins(fig, 0.05, 0.05, 0.05, 0.3, hspace=0.4 / (height / len(panels)))
        for ax, (title, rows) in zip(axes, panels):
            images = _pixels(x[np.sort(rows)], preprocessing)[np.argsort(np.argsort(rows))].reshape(-1, h, w)
            ax.imshow(_tiles(images, GALLERY_COLUMNS, pad, below), cmap=_cmap("gray_r"), vmin=0, vmax=1,
                      interpolation="nearest", aspect="equal")
            ax.set_title(title, loc="left")
            ax.set_axis_off()
            for i, row in enumerate(rows):
                r, c = divmod(i, GALLERY_COLUMNS)
                ok = picked.true[row] == picked.pred[row]
                label = f"{classes[picked.true[row]]}" + ("" if ok else f" → {classes[picked.pred[row]]}")
                ax.text(pad + c * (w + pad) + w / 2 - 0.5, pad + r * (h + pad + below) + h - 0.5 + below * 0.12,
                        f"{label}   p={picked.confidence[row]:.2f}", ha="center", va="top", fontsize=8.5,
                        color="#1f2328" if ok else "#b31b1b")
        return draw.png(fig)


def weights(w1: np.ndarray, shape: Sequence[int]) -> bytes:
    """Each hidden unit's incoming weights as an image of the input's shape, on a diverging map centred on 0.

    ``w1`` (d, hidden); at most :data:`MAX_UNITS` units are drawn, those with the largest weight
    norm, all on one colour scale (clipped at the 99.5th percentile of |w|) so that strengths compare.
    """
    h, w = shape
    w1 = np.asarray(w1, dtype=np.float32)
    order = np.argsort(-np.linalg.norm(w1, axis=0), kind="stable")[:MAX_UNITS]
    images = w1[:, order].T.reshape(-1, h, w)
    limit = float(np.percentile(np.abs(images), 99.5)) or 1.0
    columns = min(len(order), 16)
    tiles = _tiles(images, columns, max(1, h // 8))
    rows = -(-len(order) // columns)
    with draw.figure(10, max(1.6, 8.9 * rows / columns * (h + 1) / (w + 1)) + 0.5) as fig:
        ax = fig.subplots()
        draw.margins(fig, 0.05, 0.05, 0.1, 0.3)
        image = ax.imshow(tiles, cmap=_cmap("RdBu_r"), vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_axis_off()
        shown = f"{len(order)} of {w1.shape[1]}" if len(order) < w1.shape[1] else f"all {w1.shape[1]}"
        ax.set_title(f"First-layer weights: {shown} hidden units, {h}×{w} each, largest first", loc="left")
        bar = fig.colorbar(image, ax=ax, shrink=0.8, aspect=25, pad=0.01)
        bar.set_label("weight (red +, blue −)")
        return draw.png(fig)
