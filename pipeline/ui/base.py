"""What a run reports: each stage's result, and the display interface the runner talks to.

:class:`Display` says nothing (tests, embedding); :class:`QuietDisplay` is ``-q``;
:class:`pipeline.ui.terminal.RichDisplay` draws progress bars and tables.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.api import SILENT, Progress


@dataclass
class StageResult:
    """What happened to one stage in a run."""

    name: str
    status: str          # "ran", "cached" or "skipped"
    seconds: float = 0.0
    key: str = ""


class Display:
    """What the runner tells the user; this base class says nothing (``-q``, tests)."""

    def progress(self, stage: str) -> Progress:
        """The :class:`Progress` handed to a running stage."""
        return SILENT

    def stage_started(self, stage: str, reason: str) -> None:
        """A stage starts computing; ``reason`` says why it was not a cache hit."""

    def stage_done(self, result: StageResult) -> None:
        """A stage finished (ran or cached)."""

    def note(self, message: str) -> None:
        """One line of information (not shown with ``-q``)."""

    def warn(self, message: str) -> None:
        """One visible warning line."""

    def summary(self, record: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> None:
        """The closing tables."""

    def close(self) -> None:
        """Stop anything live (progress bars); called when a run stops on an error or Ctrl-C."""


class _StderrProgress(Progress):
    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)


class QuietDisplay(Display):
    """``-q``: nothing but warnings, one line each on stderr."""

    def progress(self, stage: str) -> Progress:
        return _StderrProgress()

    def warn(self, message: str) -> None:
        _StderrProgress().warn(message)

    def summary(self, record: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> None:
        fetched = any(s["name"] == "fetch" and s["status"] == "ran" for s in record["stages"])
        if record.get("data", {}).get("note") and not fetched:  # a cached fallback: say so every run
            self.warn(record["data"]["note"])
