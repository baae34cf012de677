"""One exception family for user mistakes.

Every :class:`PipelineError` carries a one-line message that names the bad
thing (key, file, value, plugin) and what would be valid. The CLI prints it
without a traceback and exits with :attr:`PipelineError.exit_code`.
Anything that is not a ``PipelineError`` is a bug. SIGTERM stops a run the way
Ctrl-C does (:class:`Terminated`).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class PipelineError(Exception):
    """Base class of every error that is the user's to fix."""

    #: Process exit status used by the CLI.
    exit_code = 1


class ConfigError(PipelineError):
    """Something is wrong in the command line or the configuration (exit 2)."""

    exit_code = 2


class PluginError(PipelineError):
    """A plugin cannot be loaded, registers badly, or is not known (exit 2)."""

    exit_code = 2


class DataError(PipelineError):
    """A data source is missing, unreachable, corrupt or inconsistent (exit 1)."""


class TrainingError(PipelineError):
    """Training cannot go on, e.g. the loss became NaN or infinite (exit 1)."""


class ModelFileError(PipelineError):
    """A model file given to ``predict`` is missing, foreign or malformed (exit 1)."""


class CacheError(PipelineError):
    """The cache directory cannot be used safely (exit 1)."""


class DiskError(PipelineError):
    """A file cannot be written: the disk is full or read-only (exit 1)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a batch scheduler's time limit): stops like Ctrl-C, exit 143.

    A subclass of KeyboardInterrupt, so every clean-up that Ctrl-C runs (temporary files,
    locks, the live display) runs for it too.
    """

    exit_code = 143


@contextmanager
def sigterm_stops_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread."""
    def stop(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:              # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
