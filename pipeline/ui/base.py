"""What a run reports: each stage's result, and the display interface the runner talks to.

:class:`Display` says nothing (tests, embedding); :class:`QuietDisplay` is ``-q``;
:class:`pipeline.ui.terminal.RichDisplay` draws progress (bars, or plain lines in a pipe) and tables.
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


class _WarnOnly(Progress):
    """A stage's progress under ``-q``: no figures; warnings through the display (once per run)."""

    def __init__(self, display: Display):
        self._display = display

    def warn(self, message: str) -> None:
        self._display.warn(message)


class QuietDisplay(Display):
    """``-q``: nothing but warnings, each once per run, one unwrapped line on stderr."""

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def progress(self, stage: str) -> Progress:
        return _WarnOnly(self)

    def warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            print(f"warning: {message}", file=sys.stderr, flush=True)

    def summary(self, record: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> None:
        if record.get("data", {}).get("note"):  # a cached fallback: say so every run (once)
            self.warn(record["data"]["note"])
