"""Stage ``evaluate``: loss, accuracy, per-class scores and confusion matrices."""

from __future__ import annotations

import json

import numpy as np

from pipeline.api import Activation
from pipeline.nn import network, scores
from pipeline.nn.inputs import Rows, labels


def _plain(value):
    """A numpy scalar as the matching Python scalar; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _scores(probs, y, classes) -> dict | None:
    """Loss, accuracy, per-class rows and confusion matrix of one split, or None without one."""
    if probs is None or y is None:
        return None
    labels = list(range(len(classes)))
    y_true, y_pred = np.asarray(y).argmax(axis=1), probs.argmax(axis=1)
    matrix = scores.confusion(y_true, y_pred, len(labels))
    precision, recall, f1, support = scores.per_class(matrix)
    per_class = [{"class": _plain(c), "precision": float(p), "recall": float(r), "f1": float(f),
                  "support": int(s)} for c, p, r, f, s in zip(classes, precision, recall, f1, support)]
    return {"loss": network.cross_entropy(probs, y), "accuracy": float(np.mean(y_true == y_pred)),
            "per_class": per_class, "confusion_matrix": [[int(v) for v in row] for row in matrix]}


def _rows(parts_x, parts_y, rows, preprocessing):
    """The inputs (:class:`pipeline.nn.inputs.Rows`) and one-hot targets of ``rows``; None, None without rows."""
    if rows is None or len(rows) == 0:
        return None, None
    return Rows(parts_x, rows, preprocessing), labels(parts_y, rows)


def run(cfg, *, params: list[np.ndarray], x_raw: np.ndarray, x_raw_test: np.ndarray | None,
        y_all: np.ndarray, y_all_test: np.ndarray | None, preprocessing: dict,
        val_rows: np.ndarray, test_rows: np.ndarray | None, classes: list,
        activation: Activation) -> dict:
    """Score the trained network on the validation and test rows.

    Reads ``evaluate.batch_size`` (rows per forward pass; memory only).

    Parameters
    ----------
    cfg : Config
        The configuration.
    params : list of ndarray
        Trained ``[W1, b1, ...]``.
    x_raw, x_raw_test, y_all, y_all_test, preprocessing
        The source's pixels (and test pixels, or None), one-hot targets and normalize's recipe;
        rows are read through ``val_rows`` and ``test_rows`` (:class:`pipeline.nn.inputs.Rows`).
    val_rows, test_rows : ndarray of int, or None
        From split; no test rows give None test metrics.
    classes : list
        Label of each output column.
    activation : Activation
        Hidden-layer activation.

    Returns
    -------
    dict
        ``{"metrics": {...}, "metrics.json": bytes, "probabilities": {...}}``: ``val_loss``,
        ``val_accuracy``, ``test_loss``, ``test_accuracy``, ``classes``,
        ``per_class`` and ``confusion_matrix`` (each ``{"val": ..., "test": ...}``),
        in plain Python types; the bytes are that dict as UTF-8 JSON; ``probabilities``
        ``{"val": (m, k), "test": (t, k) or None}`` float32, the softmax output of each row
        (the report's gallery reads them instead of running the network again).
    """
    batch_size = cfg.evaluate.batch_size
    parts_x, parts_y = [x_raw, x_raw_test], [y_all, y_all_test]
    x_val, y_val = _rows(parts_x, parts_y, val_rows, preprocessing)
    x_test, y_test = _rows(parts_x, parts_y, test_rows, preprocessing)
    probabilities = {split: None if x is None or y is None else
                     network.predict_proba(params, x, activation, batch_size)
                     for split, x, y in (("val", x_val, y_val), ("test", x_test, y_test))}
    val = _scores(probabilities["val"], y_val, classes)
    test = _scores(probabilities["test"], y_test, classes)

    def pick(scores, key):
        return None if scores is None else scores[key]

    metrics = {
        "val_loss": pick(val, "loss"), "val_accuracy": pick(val, "accuracy"),
        "test_loss": pick(test, "loss"), "test_accuracy": pick(test, "accuracy"),
        "classes": [_plain(c) for c in classes],
        "per_class": {"val": pick(val, "per_class"), "test": pick(test, "per_class")},
        "confusion_matrix": {"val": pick(val, "confusion_matrix"), "test": pick(test, "confusion_matrix")},
    }
    return {"metrics": metrics, "metrics.json": (json.dumps(metrics, indent=2) + "\n").encode("utf-8"),
            "probabilities": probabilities}
