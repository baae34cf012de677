"""Everything the user sees while a run goes on: rich progress, warnings and closing tables.

``rich.progress`` and ``rich.table`` are imported only when something is
drawn, to keep a fully cached run close to the cost of starting Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from pipeline.api import Progress
from pipeline.ui.base import Display, StageResult

_STATUS_STYLE = {"ran": "green", "cached": "cyan", "skipped": "dim", "stale": "yellow", "missing": "red",
                 "damaged": "bold red", "computing": "magenta"}


def styled(status: str) -> str:
    """A status word in its colour."""
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


class _RichProgress(Progress):
    """Progress of one stage as a rich progress bar, one task per reported task name."""

    def __init__(self, console: Console, stage: str):
        self.console, self.stage = console, stage
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}

    def _ensure_bar(self) -> Any:
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, \
                TextColumn, TimeElapsedColumn

            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                            console=self.console, transient=False)
            self._bar.start()
        return self._bar

    def update(self, task: str, completed: float, total: float | None = None, **info: object) -> None:
        bar = self._ensure_bar()
        text = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())
        if task not in self._tasks:
            label = self.stage if task == self.stage else f"{self.stage}: {task}"
            self._tasks[task] = bar.add_task(label, total=total, info=text)
        bar.update(self._tasks[task], completed=completed, total=total, info=text)

    def warn(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {message}", highlight=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class RichDisplay(Display):
    """The normal display: a line per stage, live progress, closing tables."""

    def __init__(self, console: Console | None = None, verbose_tables: bool = True):
        self.console = console or Console()
        self.verbose_tables = verbose_tables
        self._progress: _RichProgress | None = None

    def progress(self, stage: str) -> Progress:
        self._progress = _RichProgress(self.console, stage)
        return self._progress

    def stage_started(self, stage: str, reason: str) -> None:
        self.console.print(f"[bold]{stage}[/] running ({reason})", highlight=False)

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def stage_done(self, result: StageResult) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def warn(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {message}", highlight=False)

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
        if metrics:
            print_metrics(self.console, metrics, self.verbose_tables)
        if record.get("data", {}).get("note"):
            self.warn(record["data"]["note"])
        if record.get("out_dir"):
            self.console.print(f"outputs in [bold]{record['out_dir']}[/]", highlight=False)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def print_metrics(console: Console, metrics: Mapping[str, Any], details: bool = True) -> None:
    """Headline metrics, and per-class scores and the confusion matrix of the test (else val) set."""
    from rich.table import Table

    head = Table(title="metrics", title_justify="left")
    for column in ("split", "loss", "accuracy"):
        head.add_column(column, justify="left" if column == "split" else "right")
    for split in ("val", "test"):
        loss = metrics.get(f"{split}_loss")
        head.add_row(split, "n/a" if loss is None else f"{loss:.4f}", _pct(metrics.get(f"{split}_accuracy")))
    console.print(head)
    if not details:
        return
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
        for c, row in zip(classes, matrix):
            confusion.add_row(c, *[f"[bold]{v}[/]" if i == j else str(v) for j, v in enumerate(row)
                                   for i in [classes.index(c)]])
        console.print(confusion)
