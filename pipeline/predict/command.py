"""The ``predict`` command: load a model, read the images, print the predictions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from pipeline.errors import ConfigError


def check_order(model_path: str, input_path: str) -> None:
    """Refuse ``predict INPUT MODEL``: the usual slip, caught before any file is parsed."""
    from pipeline.predict.models import is_model_path

    if not is_model_path(model_path) and is_model_path(input_path):
        raise ConfigError(f"the arguments look swapped: '{input_path}' is a model and '{model_path}' is not; "
                          f"usage: pipeline predict MODEL INPUT")


def run_predict(model_path: str, input_path: str, *, console: Any, err: Any, plugins: Any = None,
                limit: int = 20, labels: str | None = None, fmt: str = "table", quiet: bool = False) -> int:
    """The ``predict`` command.

    Parameters
    ----------
    model_path, input_path : str
        As given on the command line.
    console, err : rich.console.Console
        Standard output (results) and standard error (conversion notes, in csv/json mode the score).
    plugins : Plugins, optional
        Where a NumPy model's activation is found.
    limit : int
        Table rows to print (0: all).
    labels : str, optional
        An IDX or ``.npy`` file of true labels: prints accuracy and the confusion matrix.
    fmt : str
        ``table``, ``csv`` or ``json``.
    quiet : bool
        Say nothing but the results.
    """
    from pipeline.predict.inputs import Notes, read_inputs, read_labels
    from pipeline.predict.models import open_model
    from pipeline.predict.report import FORMATS, as_table, confusion_table, rows, score

    check_order(model_path, input_path)
    predictor = open_model(model_path, plugins)
    notes = Notes()
    inputs = read_inputs(input_path, predictor.n_features, predictor.image_shape, predictor.pixel_max, notes)
    truth = read_labels(labels, inputs.pixels.shape[0]) if labels else None
    say: Callable[[str], None] = (lambda line: None) if quiet else \
        (lambda line: err.print(line, highlight=False, markup=False, soft_wrap=True))
    for line in notes.lines():
        say(line)
    probs = predictor.proba(inputs.pixels)
    classes = predictor.classes
    records = rows(inputs.names, probs, classes, truth, named_files=inputs.files)
    predicted = [classes[i] for i in probs.argmax(axis=1)]
    if fmt in FORMATS:
        sys.stdout.write(FORMATS[fmt](records))  # plain text, and the result: shown with -q too
        out = err  # keep standard output machine-readable
    else:
        console.print(as_table(records, limit))
        counts = np.bincount(probs.argmax(axis=1), minlength=len(classes))
        console.print("counts: " + ", ".join(f"{c}: {n}" for c, n in zip(classes, counts)), highlight=False)
        out = console
    if truth is not None:
        accuracy, true_labels, matrix = score(truth, predicted, classes)
        out.print(f"accuracy: {accuracy:.4f} ({int(round(accuracy * len(truth)))}/{len(truth)} against '{labels}')",
                  highlight=False)
        out.print(confusion_table(true_labels, classes, matrix))
    return 0
