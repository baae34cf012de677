"""The sections of a run's report: every picture drawn once, as PNG bytes and as embedded HTML.

:func:`build` is what the ``report`` stage computes (so it is cached under the stage's key) and
what ``pipeline report RUN`` recomputes from a run directory; :mod:`pipeline.report.page` adds
the header of the run it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from pipeline.report import figures, html, pictures

#: Files of the pictures, in page order (each also written beside report.html).
FILES = ("curves.png", "confusion.png", "per_class.png", "mistakes.png", "weights.png")

#: (anchor, title) of each section, in page order.
SECTIONS = (("curves", "Training curves"), ("confusion", "Confusion matrix"), ("per-class", "Per class"),
            ("mistakes", "Mistakes"), ("weights", "What the first layer looks for"))


@dataclass
class Inputs:
    """What a run's report shows, as the stages produce it.

    Attributes
    ----------
    history : dict
        The train stage's history (lists per epoch, ``best_epoch``, ``stopped_early``).
    metrics : dict
        The evaluate stage's metrics (``per_class`` and ``confusion_matrix`` per split).
    w1 : ndarray, shape (d, hidden)
        First-layer weights.
    image_shape : list of int
        ``[h, w]`` of the inputs (``[1, d]`` when they are not images).
    preprocessing : dict
        ``scale, mean, std``, to turn inputs back into pixels.
    classes : list
        Label of each output column.
    gallery : tuple or None
        ``(split, x (n, d), y (n, k) one-hot or (n,), proba (n, k))`` of the rows the gallery picks
        from (the test rows, else the validation rows), or None when they are not available.
    """

    history: dict
    metrics: dict
    w1: np.ndarray
    image_shape: list
    preprocessing: dict
    classes: list
    gallery: tuple | None


def _split(metrics: dict) -> str:
    """``"test"`` when the run has test metrics, else ``"val"``."""
    return "test" if (metrics.get("confusion_matrix") or {}).get("test") is not None else "val"


def build(inputs: Inputs) -> tuple[str, dict[str, bytes | None]]:
    """Draw every picture and lay out the sections.

    Returns
    -------
    body : str
        HTML of the sections, pictures embedded.
    files : dict
        :data:`FILES` -> PNG bytes, or None where there is nothing to draw.
    """
    split = _split(inputs.metrics)
    split_name = {"test": "test set", "val": "validation set"}[split]
    files: dict[str, bytes | None] = dict.fromkeys(FILES)
    parts: dict[str, str] = {}
    files["curves.png"] = figures.curves(inputs.history)
    parts["curves"] = html.figure(files["curves.png"], "loss and accuracy per epoch, train and validation",
                                  _curves_caption(inputs.history))
    files["confusion.png"] = figures.confusion(inputs.metrics["confusion_matrix"][split], inputs.classes, split)
    parts["confusion"] = html.figure(files["confusion.png"], f"confusion matrix on the {split_name}",
                                     f"Rows: the true class; columns: the predicted class ({split_name}). "
                                     "The diagonal is what the model gets right; on the right, cells under "
                                     "0.5 % are left blank (their counts are on the left).")
    rows = inputs.metrics["per_class"][split]
    files["per_class.png"] = figures.per_class(rows, split)
    parts["per-class"] = html.figure(files["per_class.png"], f"precision, recall and F1 per class ({split_name})") \
        + _per_class_table(rows)
    parts["mistakes"], files["mistakes.png"] = _mistakes(inputs)
    parts["weights"], files["weights.png"] = _weights(inputs)
    body = "".join(html.section(anchor, title, parts[anchor]) for anchor, title in SECTIONS)
    return body, files


def _curves_caption(history: dict) -> str:
    best, epochs = history.get("best_epoch"), history.get("epoch") or []
    text = "Train (blue) against validation (orange); the dashed grey line is the learning rate (right axis)."
    if best is not None:
        text += f" The lowest validation loss was at epoch {best}."
    if history.get("stopped_early"):
        text += f" Early stopping ended training at epoch {epochs[-1]} and restored epoch {best}'s weights."
    return text


def _per_class_table(rows: list[dict]) -> str:
    body = [[escape(str(r["class"])), html.number(r["precision"], 3), html.number(r["recall"], 3),
             html.number(r["f1"], 3), str(r["support"])] for r in rows]
    return html.table(["class", "precision", "recall", "F1", "support"], body, numeric=(1, 2, 3, 4))


def _mistakes(inputs: Inputs) -> tuple[str, bytes | None]:
    if inputs.gallery is None:
        return html.note("The predictions of this run's rows are no longer in the cache, so the gallery "
                         "cannot be drawn; run <code>pipeline run</code> with the run's config again."), None
    split, x, y, proba = inputs.gallery
    if not pictures.is_image(inputs.image_shape, x.shape[1]):
        return html.note(f"The inputs are rows of {x.shape[1]} values, not images: nothing to draw."), None
    picked = pictures.pick(proba, y)
    split_name = {"test": "test set", "val": "validation set"}[split]
    wrong = len(np.flatnonzero(picked.true != picked.pred))
    if not len(picked.wrong) and not len(picked.right):
        return html.note(f"The {split_name} is empty."), None
    png = pictures.gallery(x, picked, inputs.classes, inputs.image_shape, inputs.preprocessing, split)
    caption = (f"{wrong} of {len(picked.true)} images of the {split_name} are misclassified. Under each "
               "image: its true class, → the predicted class when wrong, and the probability the model "
               "gave its prediction. Hardest right: correct, but with the least confidence.")
    return html.figure(png, f"gallery of misclassified and hardest correctly classified images ({split_name})",
                       caption), png


def _weights(inputs: Inputs) -> tuple[str, bytes | None]:
    d = inputs.w1.shape[0]
    if not pictures.is_image(inputs.image_shape, d):
        return html.note(f"The inputs are rows of {d} values, not images, so the first layer's weights have "
                         "no picture to show."), None
    png = pictures.weights(inputs.w1, inputs.image_shape)
    norms = np.linalg.norm(np.asarray(inputs.w1, dtype=np.float64), axis=0)
    faint = int(np.count_nonzero(norms < 0.05 * norms.max())) if norms.size and norms.max() > 0 else 0
    caption = ("Each tile is one hidden unit: the weight it gives each input pixel. Red pixels push the unit "
               "up when ink is there, blue ones push it down; white is no effect (0 is the centre of the "
               "colour scale).")
    if faint:
        caption += (f" {faint} of {norms.size} units have almost no incoming weight (a norm under 5 % of the "
                    "largest unit's): they barely look at the image; a smaller layer might do as well.")
    return html.figure(png, "first-layer weights of the hidden units as images", caption), png


def from_stage(params: list, history: dict, metrics: dict, probabilities: dict, splits: dict[str, Any],
               classes: list, preprocessing: dict, dataset: dict) -> Inputs:
    """:class:`Inputs` from stage outputs; ``splits`` maps ``val``/``test`` to ``(x, y)``."""
    split = "test" if probabilities.get("test") is not None else "val"
    x, y = splits[split]
    gallery = None if x is None or probabilities.get(split) is None else (split, x, y, probabilities[split])
    return Inputs(history, metrics, params[0], list(dataset["image_shape"]), preprocessing, list(classes), gallery)
