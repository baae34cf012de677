"""Stage ``report``: the pictures of the run (curves, confusion, per class, mistakes, weights).

A thin function over :mod:`pipeline.report.body`. The pictures are cached like any output, so a
re-run with nothing changed draws nothing; the runner then wraps the cached sections with the
run's own header into ``report.html`` (:mod:`pipeline.report.page`).
"""

from __future__ import annotations

import numpy as np

from pipeline.report.body import FILES


def run(cfg, *, params: list[np.ndarray], history: dict, metrics: dict, probabilities: dict,
        x_raw: np.ndarray, x_raw_test: np.ndarray | None, y_all: np.ndarray, y_all_test: np.ndarray | None,
        preprocessing: dict, val_rows: np.ndarray, test_rows: np.ndarray | None, classes: list,
        dataset: dict) -> dict:
    """Draw the report's pictures, unless ``report.enabled`` is false.

    Parameters
    ----------
    cfg : Config
        Reads ``report.enabled``.
    params : list of ndarray
        Trained ``[W1, b1, ...]``; W1 (d, hidden) is drawn.
    history, metrics : dict
        From train and evaluate.
    probabilities : dict
        ``{"val": (m, k), "test": (t, k) or None}`` from evaluate: the gallery's predictions.
    x_raw, x_raw_test, y_all, y_all_test, val_rows, test_rows
        The source's pixels, one-hot targets and split's row numbers: the rows those
        probabilities belong to (read through :class:`pipeline.nn.inputs.Rows`, as evaluate does).
    classes : list
        Label of each output column.
    preprocessing, dataset : dict
        From normalize and fetch (``image_shape``, and how pixels become inputs and back).

    Returns
    -------
    dict
        ``report_body`` (HTML of the sections, str) and each picture of
        :data:`pipeline.report.body.FILES` (PNG bytes, None where there is nothing to draw);
        everything None when the report is off.
    """
    if not cfg.report.enabled:
        return dict.fromkeys(("report_body",) + FILES)
    from pipeline.nn.inputs import Rows, labels
    from pipeline.report.body import build, from_stage

    parts_x, parts_y = [x_raw, x_raw_test], [y_all, y_all_test]
    splits = {name: (None, None) if rows is None or len(rows) == 0 else
              (Rows(parts_x, rows, preprocessing), labels(parts_y, rows))
              for name, rows in (("val", val_rows), ("test", test_rows))}
    inputs = from_stage(params, history, metrics, probabilities, splits, classes, preprocessing, dataset)
    body, files = build(inputs)
    return {"report_body": body, **files}
