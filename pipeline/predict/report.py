"""How ``predict`` shows its results: a table, CSV or JSON, and the score against true labels."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def rows(names: list[str], probs: np.ndarray, classes: list[Any], truth: np.ndarray | None = None,
         named_files: bool = False) -> list[dict[str, Any]]:
    """One record per image: ``row`` (or ``file``), ``label``, ``probability`` (and ``true_label``)."""
    best = probs.argmax(axis=1)
    out = []
    for i, name in enumerate(names):
        record: dict[str, Any] = {"file": name} if named_files else {"row": i}
        record.update(label=_plain(classes[best[i]]), probability=round(float(probs[i, best[i]]), 6))
        if truth is not None:
            record["true_label"] = _plain(truth[i])
        out.append(record)
    return out


def as_csv(records: list[dict[str, Any]]) -> str:
    """The records as CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def as_json(records: list[dict[str, Any]]) -> str:
    """The records as a JSON list."""
    return json.dumps(records, indent=1) + "\n"


def as_table(records: list[dict[str, Any]], limit: int) -> Any:
    """A rich table of the first ``limit`` records (all when ``limit <= 0``)."""
    from rich.table import Table

    shown = records if limit <= 0 else records[:limit]
    table = Table(title=f"predictions ({len(records)} images)", title_justify="left")
    if len(shown) < len(records):
        table.caption = f"{len(records) - len(shown)} more (--limit 0: all)"
    for column in records[0]:
        table.add_column(column.replace("_", " "), justify="left" if column == "file" else "right")
    for record in shown:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in record.values()))
    return table


def score(truth: np.ndarray, predicted: np.ndarray, classes: list[Any]) -> tuple[float, list[Any], np.ndarray]:
    """Accuracy and the confusion matrix (rows: true label, columns: predicted).

    Labels of ``truth`` the model does not know get their own row (they are always wrong).
    """
    known = [_plain(c) for c in classes]
    extra = sorted({_plain(t) for t in truth} - set(known), key=str)
    labels = known + extra
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(known)), dtype=np.int64)
    for t, p in zip(truth, predicted):
        matrix[index[_plain(t)], index[_plain(p)]] += 1
    accuracy = float(np.mean([_plain(t) == _plain(p) for t, p in zip(truth, predicted)]))
    return accuracy, labels, matrix


def confusion_table(labels: list[Any], known: list[Any], matrix: np.ndarray) -> Any:
    """The confusion matrix as a rich table."""
    from rich.table import Table

    table = Table(title="confusion matrix", title_justify="left")
    table.add_column("true \\ predicted", justify="right")
    for label in known:
        table.add_column(str(label), justify="right")
    for label, counts in zip(labels, matrix):
        table.add_row(str(label), *(str(c) if c else "[dim]0[/]" for c in counts))
    return table


#: --format -> renderer of the records (text formats only; "table" is drawn by rich).
FORMATS: dict[str, Callable[[list[dict[str, Any]]], str]] = {"csv": as_csv, "json": as_json}
