"""Charts of several runs: curves overlaid, and a metric against one varied key with error bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.report import draw


def overlay(histories: Sequence[tuple[str, dict]], legend: bool = True, train: bool = True) -> bytes:
    """Validation loss and accuracy per epoch of every run, one colour each; train loss dashed.

    Parameters
    ----------
    histories : sequence of (label, history)
        A run's label and its train history (``epoch``, ``loss``, ``val_loss``, ``val_acc``, ...).
    legend : bool
        Label each run (off for many runs, where the table names them).
    train : bool
        Draw the train loss too (dashed).
    """
    from matplotlib.ticker import MaxNLocator

    with draw.figure(10, 3.8) as fig:
        axes = fig.subplots(1, 2)
        draw.margins(fig, 0.6, 0.2, 0.5, 0.3, wspace=0.22)
        for i, (label, history) in enumerate(histories):
            colour = draw.SERIES[i % len(draw.SERIES)]
            epochs = history.get("epoch") or []
            val_loss = [np.nan if v is None else v for v in history.get("val_loss") or []]
            val_acc = [np.nan if v is None else 100 * v for v in history.get("val_acc") or []]
            if len(val_loss) == len(epochs) and epochs:
                axes[0].plot(epochs, val_loss, color=colour, linewidth=1.6, label=label)
                axes[1].plot(epochs, val_acc, color=colour, linewidth=1.6, label=label)
            if train and history.get("loss") and len(history["loss"]) == len(epochs):
                axes[0].plot(epochs, history["loss"], color=colour, linewidth=0.9, linestyle="--", alpha=0.7)
        axes[0].set_title("Loss (validation solid, train dashed)" if train else "Validation loss", loc="left")
        axes[1].set_title("Validation accuracy (%)", loc="left")
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if legend and histories:
            axes[1].legend(loc="lower right")
        return draw.png(fig)


def against(key: str, values: Sequence[str], lines: Sequence[tuple[str, list[float], list[float], list[int]]],
            metric: str) -> bytes:
    """``metric`` against the values of ``key``: one line per setting of the other keys.

    Parameters
    ----------
    key : str
        The varied config key (x axis).
    values : sequence of str
        Its values, in axis order, as text (they may be lists or words).
    lines : sequence of (label, means, stds, counts)
        Per line: the mean of ``metric`` at each value (NaN where no member ran), its standard
        deviation over seeds (the error bar) and how many members the mean is over.
    metric : str
        Name of the metric, for the axis.
    """
    x = np.arange(len(values))
    with draw.figure(min(max(4.5, 1.1 * len(values) + 2.5), 10), 3.4) as fig:
        ax = fig.subplots()
        draw.margins(fig, 0.65, 0.15, 0.6, 0.3)
        shift = 0.06 * (np.arange(len(lines)) - (len(lines) - 1) / 2)   # keep error bars apart
        for i, (label, means, stds, _) in enumerate(lines):
            ax.errorbar(x + shift[i], 100 * np.asarray(means, float), yerr=100 * np.asarray(stds, float),
                        color=draw.SERIES[i % len(draw.SERIES)], marker="o", capsize=4, linewidth=1.6,
                        label=label or None)
        ax.set_xticks(x, values)
        ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(key)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(f"{metric} against {key}", loc="left")
        if any(label for label, *_ in lines):
            ax.legend(loc="best")
        return draw.png(fig)
