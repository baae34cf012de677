"""Everything the user sees while a run goes on: progress, warnings and the closing screen.

Progress is drawn as live bars on a terminal and as a few plain lines in a pipe
or a CI log (:mod:`pipeline.ui.progress`). Warnings go to stderr, once per run
each, on one unwrapped line. The closing screen ends with the headline (loss
and accuracy, where the outputs are), so it is what stays on screen; the
per-class scores and the confusion matrix come above it with ``-v``.
``rich.progress`` and ``rich.table`` are imported only when something is
drawn, to keep a fully cached run close to the cost of starting Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from pipeline.api import Progress
from pipeline.ui.base import Display, StageResult

_STATUS_STYLE = {"ran": "green", "cached": "cyan", "skipped": "dim", "stale": "yellow", "missing": "red",
                 "damaged": "bold red", "computing": "magenta"}


def styled(status: str) -> str:
    """A status word in its colour."""
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


class RichDisplay(Display):
    """The normal display: a line per stage, progress, the closing screen.

    Parameters
    ----------
    console : rich.console.Console
        Standard output; bars when it is a terminal, plain lines otherwise.
    err : rich.console.Console
        Where warnings go (standard error).
    verbose : bool
        Also print per-class scores and the confusion matrix (``-v``).
    """

    def __init__(self, console: Console | None = None, err: Console | None = None, verbose: bool = False):
        self.console = console or Console()
        self.err = err or Console(stderr=True)
        self.verbose = verbose
        self._progress: Any = None
        self._warned: set[str] = set()

    def progress(self, stage: str) -> Progress:
        from pipeline.ui.progress import PlainProgress, RichProgress

        kind = RichProgress if self.console.is_terminal else PlainProgress
        self._progress = kind(self.console, stage, self.warn)
        return self._progress

    def stage_started(self, stage: str, reason: str) -> None:
        self.console.print(f"[bold]{escape(stage)}[/] running ({escape(reason)})", highlight=False, soft_wrap=True)

    def note(self, message: str) -> None:
        self.console.print(escape(message), highlight=False, soft_wrap=True)

    def stage_done(self, result: StageResult) -> None:
        self.close()

    def warn(self, message: str) -> None:
        if message in self._warned:  # once per run, however many times it comes up
            return
        self._warned.add(message)
        self.err.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self._progress is not None:  # stop the live bar: restores the cursor after Ctrl-C
            self._progress.close()
            self._progress = None

    def summary(self, record: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> None:
        from rich.table import Table

        table = Table(title="stages", title_justify="left")
        for column in ("stage", "status", "seconds", "key"):
            table.add_column(column, justify="right" if column == "seconds" else "left")
        for stage in record["stages"]:
            table.add_row(stage["name"], styled(stage["status"]), f"{stage['seconds']:.2f}", stage["key"][:12])
        self.console.print(table)
        if metrics and self.verbose:
            print_details(self.console, metrics)
        if record.get("data", {}).get("note"):
            self.warn(record["data"]["note"])
        if metrics:
            print_headline(self.console, metrics)
        if record.get("out_dir"):
            more = "" if self.verbose or not metrics else " (per-class scores and confusion matrix: " \
                "metrics.json, or -v)"
            self.console.print(f"outputs in [bold]{escape(str(record['out_dir']))}[/]{more}", highlight=False,
                               soft_wrap=True)
            page = Path(record["out_dir"]) / "report.html"
            if page.is_file():  # the pictures: the one file a learner should open next
                self.console.print(f"report: [bold]{escape(str(page))}[/]", highlight=False, soft_wrap=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def print_headline(console: Console, metrics: Mapping[str, Any]) -> None:
    """Loss and accuracy of the validation and test sets."""
    from rich.table import Table

    head = Table(title="metrics", title_justify="left")
    for column in ("split", "loss", "accuracy"):
        head.add_column(column, justify="left" if column == "split" else "right")
    for split in ("val", "test"):
        loss = metrics.get(f"{split}_loss")
        head.add_row(split, "n/a" if loss is None else f"{loss:.4f}", _pct(metrics.get(f"{split}_accuracy")))
    console.print(head)


def print_details(console: Console, metrics: Mapping[str, Any]) -> None:
    """Per-class scores and the confusion matrix of the test (else val) set."""
    from rich.table import Table

    split = "test" if metrics.get("per_class", {}).get("test") else "val"
    rows = metrics.get("per_class", {}).get(split) or []
    per_class = Table(title=f"per class ({split})", title_justify="left")
    for column in ("class", "precision", "recall", "f1", "support"):
        per_class.add_column(column, justify="right")
    for row in rows:
        per_class.add_row(str(row["class"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                          f"{row['f1']:.3f}", str(row["support"]))
    console.print(per_class)
    matrix = metrics.get("confusion_matrix", {}).get(split)
    if matrix:
        classes = [str(c) for c in metrics.get("classes", range(len(matrix)))]
        confusion = Table(title=f"confusion matrix ({split}; rows true, columns predicted)", title_justify="left")
        confusion.add_column("")
        for c in classes:
            confusion.add_column(c, justify="right")
        for i, (c, row) in enumerate(zip(classes, matrix)):
            confusion.add_row(c, *[f"[bold]{v}[/]" if i == j else str(v) for j, v in enumerate(row)])
        console.print(confusion)


def print_metrics(console: Console, metrics: Mapping[str, Any], details: bool = True) -> None:
    """The details (with ``details``) above the headline, as the end of a run shows them."""
    if details:
        print_details(console, metrics)
    print_headline(console, metrics)
