"""The charts of one run: training curves, confusion matrices, per-class scores.

Each function takes plain data (as stored in ``model.json`` and ``metrics.json``) and returns
PNG bytes, so the ``report`` stage and ``pipeline report RUN`` draw the same pictures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.report import draw


def _marks(ax, history: dict) -> None:
    """The best epoch (lowest validation loss) and the epoch early stopping ended on, as lines."""
    best, epochs = history.get("best_epoch"), history.get("epoch") or []
    if best is not None:
        ax.axvline(best, color=draw.BEST, linestyle=":", linewidth=1.4, label=f"best epoch ({best})")
    if history.get("stopped_early") and epochs:
        ax.axvline(epochs[-1], color=draw.STOP, linestyle="--", linewidth=1.2,
                   label=f"early stop ({epochs[-1]})")


def _lr_axis(ax, history: dict):
    """The learning rate per epoch on a second y axis of ``ax``."""
    lr = ax.twinx()
    lr.plot(history["epoch"], history["lr"], color=draw.LR, linestyle="--", linewidth=1, label="learning rate")
    lr.set_ylabel("learning rate", color=draw.LR)
    lr.tick_params(axis="y", colors=draw.LR)
    lr.grid(False)
    lr.spines["right"].set_visible(True)
    lr.set_ylim(0, max(history["lr"]) * 1.08 or 1)
    return lr


def curves(history: dict) -> bytes:
    """Loss and accuracy per epoch, train against validation, learning rate on a second axis.

    Parameters
    ----------
    history : dict
        ``epoch, lr, loss, acc, val_loss, val_acc`` (lists, one value per epoch; the ``val_``
        ones None without a validation set), ``best_epoch`` and ``stopped_early``.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = history["epoch"]
    has_val = any(v is not None for v in history.get("val_loss") or [])
    with draw.figure(10, 3.6) as fig:
        axes = fig.subplots(1, 2)
        draw.margins(fig, 0.6, 0.65, 0.5, 0.3, wspace=0.42)
        for ax, key, title, scale in ((axes[0], "loss", "Loss (cross-entropy)", 1),
                                      (axes[1], "acc", "Accuracy (%)", 100)):
            ax.plot(epochs, np.asarray(history[key], float) * scale, color=draw.TRAIN, linewidth=1.8,
                    marker="o" if len(epochs) <= 30 else None, markersize=3, label="train")
            if has_val:
                ax.plot(epochs, np.asarray(history[f"val_{key}"], float) * scale, color=draw.VAL, linewidth=1.8,
                        marker="o" if len(epochs) <= 30 else None, markersize=3, label="validation")
            _marks(ax, history)
            ax.set_title(title, loc="left")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
            lr = _lr_axis(ax, history)
            lines = ax.get_legend_handles_labels()
            extra = lr.get_legend_handles_labels()
            ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="best")
        return draw.png(fig)


def confusion(matrix: Sequence[Sequence[int]], classes: Sequence, split: str) -> bytes:
    """The confusion matrix as counts and row-normalised (each true class sums to 100 %), as heatmaps."""
    counts = np.asarray(matrix, dtype=np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    rows = np.divide(counts * 100.0, totals, out=np.zeros(counts.shape), where=totals > 0)
    k = len(classes)
    side = min(max(3.2, 0.42 * k + 1.6), 7.5)
    labels = [str(c) for c in classes]
    with draw.figure(2 * side + 1.6, side + 0.8) as fig:
        axes = fig.subplots(1, 2)
        draw.margins(fig, 0.55, 0.45, 0.55, 0.3, wspace=0.3)
        for ax, values, title, fmt, vmax in (
                (axes[0], counts, f"Counts ({split})", "d", None),
                (axes[1], rows, f"Row-normalised, % of each true class ({split})", ".0f", 100)):
            image = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, format="%.0f")
            ax.set_title(title, loc="left")
            ax.set_xlabel("predicted class")
            ax.set_ylabel("true class")
            ax.set_xticks(range(k), labels, rotation=90 if max(map(len, labels)) > 3 else 0)
            ax.set_yticks(range(k), labels)
            ax.grid(False)
            if k <= 20:
                _annotate(ax, values, fmt, minimum=0.5 if vmax else 1)
        return draw.png(fig)


def _annotate(ax, values: np.ndarray, fmt: str, minimum: float) -> None:
    """The value of each cell of at least ``minimum`` (the rest stay blank), white on dark cells."""
    high = values.max() or 1
    size = 8 if values.shape[0] <= 12 else 6
    for (i, j), v in np.ndenumerate(values):
        if v >= minimum:
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=size,
                    color="white" if v > 0.55 * high else "#1f2328")


def per_class(rows: Sequence[dict], split: str) -> bytes:
    """Precision, recall and F1 of each class as grouped bars.

    The value axis starts a little below the lowest score (said on the axis) so that the
    differences between classes are visible; each bar carries no label, the table does.
    """
    names = [str(r["class"]) for r in rows]
    scores = np.array([[r["precision"], r["recall"], r["f1"]] for r in rows], dtype=float)
    low = float(scores.min()) if scores.size else 0.0
    floor = max(0.0, math.floor((low - 0.02) * 20) / 20) if low > 0.5 else 0.0
    x = np.arange(len(names))
    with draw.figure(min(max(5.0, 0.55 * len(names) + 2.5), 10), 3.4) as fig:
        ax = fig.subplots()
        draw.margins(fig, 0.65, 0.15, 0.5, 0.55)
        for i, (label, colour) in enumerate((("precision", draw.TRAIN), ("recall", draw.VAL),
                                             ("F1", draw.BEST))):
            ax.bar(x + (i - 1) * 0.27, scores[:, i], width=0.27, color=colour, label=label, bottom=0)
        ax.set_xticks(x, names, rotation=90 if max(map(len, names), default=0) > 3 else 0)
        ax.set_ylim(floor, 1.0)
        ax.set_xlabel("class")
        ax.set_ylabel("score" + (f" (axis starts at {floor:.2f})" if floor else ""))
        ax.set_title(f"Per class ({split})", loc="left")
        ax.legend(ncols=3, loc="lower right", bbox_to_anchor=(1, 1.0), borderaxespad=0.2)
        ax.grid(axis="x", visible=False)
        return draw.png(fig)
