"""A running stage's progress: live bars on a terminal, a few plain lines in a pipe or a CI log.

In a pipe, rich cannot redraw a bar, so each redraw would be cut to ``0:0…`` or
``100/…``; :class:`PlainProgress` prints one line per reported step instead
(at most :data:`PLAIN_LINES` per task, and always the last), and nothing for a
task of unknown size (a download), so nothing is left frozen at ``0/?``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from pipeline.api import Progress

#: At most this many lines per task in a pipe (one per epoch when there are fewer epochs).
PLAIN_LINES = 20


def _figures(info: dict[str, object]) -> str:
    return "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())


class RichProgress(Progress):
    """Progress of one stage as a rich progress bar, one task per reported task name.

    Parameters
    ----------
    console : rich.console.Console
        A terminal.
    stage : str
        The stage's name, the label of its tasks.
    warn : callable
        The display's warning (once per run, on stderr).
    """

    def __init__(self, console: Console, stage: str, warn: Callable[[str], None]):
        self.console, self.stage, self._warn = console, stage, warn
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
        text = _figures(info)
        if task not in self._tasks:
            label = self.stage if task == self.stage else f"{self.stage}: {task}"
            self._tasks[task] = bar.add_task(escape(label), total=total, info=text)
        bar.update(self._tasks[task], completed=completed, total=total, info=text)

    def _drop_unfinished(self) -> None:
        """Remove bars that will never finish (a download given up for a fallback): none stays frozen."""
        if self._bar is None:
            return
        tasks = {task.id: task for task in self._bar.tasks}
        for name, task_id in list(self._tasks.items()):
            task = tasks.get(task_id)
            if task is not None and (task.total is None or task.completed < task.total):
                self._bar.remove_task(task_id)
                del self._tasks[name]

    def warn(self, message: str) -> None:
        self._drop_unfinished()
        self._warn(message)

    def close(self) -> None:
        if self._bar is not None:
            self._drop_unfinished()
            self._bar.stop()
            self._bar = None


class PlainProgress(Progress):
    """Progress of one stage as plain lines, for a pipe or a log: ``train 3/20  loss 0.31  ...``."""

    def __init__(self, console: Console, stage: str, warn: Callable[[str], None]):
        self.console, self.stage, self._warn = console, stage, warn
        self._printed: dict[str, float] = {}

    def update(self, task: str, completed: float, total: float | None = None, **info: object) -> None:
        if not total:  # unknown size (a download starting): a line would say nothing
            return
        step = max(1.0, total / PLAIN_LINES)
        last = self._printed.get(task)
        if completed < total and last is not None and completed - last < step:
            return
        if completed == last:
            return
        self._printed[task] = completed
        label = self.stage if task == self.stage else f"{self.stage}: {task}"
        done = f"{completed:g}/{total:g}"
        self.console.print(escape(f"  {label} {done}  {_figures(info)}".rstrip()), highlight=False,
                           soft_wrap=True)

    def warn(self, message: str) -> None:
        self._warn(message)

    def close(self) -> None:
        """Nothing is live."""
