"""What a sweep shows while it runs: one overall bar, and a line per running task (stage, epoch, val accuracy).

Workers write their progress into small JSON files (:class:`pipeline.sweep.tasks.FileDisplay`);
this display reads them on every tick. A finished member prints one line that stays (so a log
holds every member's result); ``-q`` shows only failures, on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.markup import escape


class QuietEvents:
    """``-q`` and the Python API: nothing while running; failures as one line on stderr when asked."""

    def __init__(self, labels: dict[int, str], report_failures: bool = True):
        self.labels, self.report_failures = labels, report_failures

    def started(self, kind: str, task: Any) -> None:
        """A task went to a worker."""

    def finished(self, kind: str, task: Any, result: dict[str, Any]) -> None:
        if self.report_failures and kind == "member" and result["status"] == "failed":
            Console(stderr=True).print(f"failed: {self.labels[task.member.index]}: {result['error']}",
                                       highlight=False, markup=False, soft_wrap=True)

    def tick(self) -> None:
        """Time passed."""

    def close(self) -> None:
        """Nothing live to stop."""


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # not written yet, or replaced while read: next tick
        return {}


def _line(label: str, state: dict[str, Any], shared: bool) -> str:
    stage = state.get("stage")
    parts = [f"[bold]{escape(label)}[/]", "running" if shared and stage else escape(stage or "starting")]
    if state.get("epochs"):
        parts.append(f"epoch {state['epoch']}/{state['epochs']}")
    if state.get("val_acc") is not None:
        parts.append(f"val acc {state['val_acc']:.4f}")
    return "  ".join(parts)


class LiveEvents(QuietEvents):
    """The terminal display: a rich live area (bar + running tasks) and a line per finished member."""

    def __init__(self, console: Console, labels: dict[int, str], total: int, progress_dir: Path):
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        super().__init__(labels)
        self.console, self.progress_dir = console, progress_dir
        self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.fields[info]}"), console=console)
        self.task = self.bar.add_task("sweep", total=total, info="")
        self.running: dict[str, str] = {}       # job name -> label
        self.failures = 0
        self.live = Live(self._render(), console=console, refresh_per_second=4, transient=True)
        self.live.start()

    def _render(self) -> Any:
        lines = [_line(label, _read(self.progress_dir / f"{name}.json"), name.startswith("stage-"))
                 for name, label in self.running.items()]
        return Group(self.bar, *lines)

    def started(self, kind: str, task: Any) -> None:
        if kind == "stage":
            stage, key = task.node
            self.running[f"stage-{stage}-{key[:8]}"] = f"shared {stage} (for {len(task.members)} members)"
        else:
            self.running[f"member-{task.member.index:03d}"] = self.labels[task.member.index]
        self.tick()

    def finished(self, kind: str, task: Any, result: dict[str, Any]) -> None:
        if kind == "stage":
            stage, key = task.node
            self.running.pop(f"stage-{stage}-{key[:8]}", None)
            if result["status"] == "failed":
                self.console.print(f"[red]✗[/] shared stage {stage} failed: {escape(result['error'])}")
            return
        self.running.pop(f"member-{task.member.index:03d}", None)
        label = escape(self.labels[task.member.index])
        if result["status"] == "ok":
            val = result["metrics"].get("val_accuracy")
            acc = f"val acc {val:.4f}" if val is not None else "done"
            self.console.print(f"[green]✓[/] {label}  {acc}  {result['seconds']:.1f} s", highlight=False)
        elif result["status"] == "failed":
            self.failures += 1
            self.console.print(f"[red]✗[/] {label}  failed: {escape(result['error'])}", highlight=False)
        self.bar.advance(self.task)
        self.bar.update(self.task, info=f"[red]{self.failures} failed[/]" if self.failures else "")
        self.tick()

    def tick(self) -> None:
        self.live.update(self._render())

    def close(self) -> None:
        self.live.stop()
