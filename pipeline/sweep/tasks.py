"""What a worker runs: one shared stage, or one member (its own stages and its run directory).

A task travels as a :class:`Job` (a config, paths, the keys the client planned) and comes back
as a small dict: no array ever goes through a pool or a scheduler. Workers read stage outputs
from the shared cache, memory-mapped, exactly as a lone ``run`` does, through the same
:class:`pipeline.runner.Runner`. Progress goes to a small JSON file per task that the client
polls; the client asks running tasks to stop by creating a ``STOP`` file next to them.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.api import Progress
from pipeline.config import Config
from pipeline.errors import PipelineError
from pipeline.ui.base import Display, StageResult

STOP_FILE = "STOP"


class Stopped(Exception):
    """The client asked the sweep to stop (Ctrl-C): the task ends without storing anything more."""


@dataclass(frozen=True)
class Job:
    """One task of a sweep.

    Attributes
    ----------
    name : str
        The task's name (its progress file's name).
    config : Config
        The member's (or, for a shared stage, one of its members') config.
    cache_root : str
        The cache directory, as the client sees it (workers must see the same).
    keys : dict of str to str
        The keys the client planned; a worker computing other keys refuses to run.
    progress_dir : str
        Where progress files and the ``STOP`` file live.
    stage : str or None
        For a shared stage task: the stage to compute (with what it needs from the cache).
    run_dir : str or None
        For a member task: its run directory.
    blocked : tuple of str
        Plugins blocked with ``-p no:NAME``.
    autoload : bool or None
        Whether to load entry-point plugins (None: as the environment says).
    ran_elsewhere : tuple of dict
        Stage results (``name, status, seconds, key``) of a worker that computed this member's
        stages for it (the client then draws the report): recorded in ``run.json`` as they ran.
    """

    name: str
    config: Config
    cache_root: str
    keys: dict[str, str]
    progress_dir: str
    stage: str | None = None
    run_dir: str | None = None
    blocked: tuple[str, ...] = ()
    autoload: bool | None = None
    ran_elsewhere: tuple[dict[str, Any], ...] = ()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace a small file in one rename (readers never see half of it; no fsync: it is transient)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class _FileProgress(Progress):
    """A stage's progress as ``{"stage", "epoch", "epochs", "val_acc", ...}`` in the task's file."""

    def __init__(self, display: FileDisplay, stage: str):
        self.display, self.stage = display, stage

    def update(self, task: str, completed: float, total: float | None = None, **info: object) -> None:
        self.display.check_stop()
        figures = {k: v for k, v in info.items() if isinstance(v, (int, float)) or v is None}
        self.display.write({"stage": self.stage, "epoch": completed, "epochs": total, **figures})

    def warn(self, message: str) -> None:
        self.display.warn(message)


class FileDisplay(Display):
    """A worker's display: progress into a file the client polls, warnings kept for the result."""

    def __init__(self, directory: str, name: str):
        self.directory = Path(directory)
        self.path = self.directory / f"{name}.json"
        self.warnings: list[str] = []

    def check_stop(self) -> None:
        """Raise :class:`Stopped` when the client asked to stop, or its sweep has ended (directory gone)."""
        if (self.directory / STOP_FILE).exists() or not self.directory.is_dir():
            raise Stopped("the sweep was interrupted")

    def write(self, data: dict[str, Any]) -> None:
        try:
            _write_json(self.path, data | {"worker": worker_name()})
        except FileNotFoundError:  # the client removed the directory: its sweep is over
            raise Stopped("the sweep has ended") from None

    def progress(self, stage: str) -> Progress:
        return _FileProgress(self, stage)

    def stage_started(self, stage: str, reason: str) -> None:
        self.check_stop()
        self.write({"stage": stage})

    def stage_done(self, result: StageResult) -> None:
        self.check_stop()

    def warn(self, message: str) -> None:
        self.warnings.append(message)


_PLUGINS: dict[tuple, Any] = {}  # per worker process: loading entry points once is enough


def _plugins(blocked: tuple[str, ...], autoload: bool | None) -> Any:
    from pipeline.hooks.manager import load_plugins

    if (blocked, autoload) not in _PLUGINS:
        _PLUGINS[(blocked, autoload)] = load_plugins(blocked=blocked, autoload=autoload)
    return _PLUGINS[(blocked, autoload)]


def worker_name() -> str:
    """``host:pid`` of this process, as results and errors name a worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _check_keys(runner: Any, job: Job) -> None:
    """Refuse to compute when this worker's keys differ from the client's (other code or plugins)."""
    mine = runner.make_plan().keys
    for stage, key in job.keys.items():
        if mine.get(stage) != key:
            raise PipelineError(f"worker {worker_name()} computes another key for stage '{stage}' than the client "
                                f"(its pipeline code, plugins or library versions differ); install the same "
                                f"versions on every worker")


def execute(job: Job) -> dict[str, Any]:
    """Run one task; never raises for a failing member (the error comes back as one line).

    Returns
    -------
    dict
        ``status`` ("ok", "failed" or "stopped"), ``seconds``, ``error``, ``metrics``,
        ``stages`` (the run record's stage results), ``warnings``, ``worker`` and
        ``peak_mb`` (this worker process's peak resident memory so far).
    """
    from pipeline.cache.store import Cache
    from pipeline.registry import Selection
    from pipeline.runner import Runner

    started = time.perf_counter()
    display = FileDisplay(job.progress_dir, job.name)
    result: dict[str, Any] = {"status": "ok", "error": None, "metrics": {}, "stages": [], "worker": worker_name()}
    try:
        ran = {r["name"]: StageResult(**r) for r in job.ran_elsewhere if r["status"] == "ran"}
        runner = Runner(job.config, Cache(job.cache_root), _plugins(job.blocked, job.autoload), display,
                        ran_elsewhere=ran)
        _check_keys(runner, job)
        selection = Selection(stop=job.stage) if job.stage else Selection()
        record = runner.run(selection, Path(job.run_dir) if job.run_dir else None)
        result.update(metrics=record["metrics"], stages=record["stages"])
    except Stopped:
        result.update(status="stopped", error="interrupted")
    except PipelineError as exc:
        result.update(status="failed", error=" ".join(str(exc).split()))
    except Exception as exc:  # a bug in a plugin or the code: this member fails, the others go on
        result.update(status="failed", error=f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}")
    finally:
        display.path.unlink(missing_ok=True)
    result.update(seconds=time.perf_counter() - started, warnings=display.warnings,
                  peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def sees_marker(path: str, token: str) -> str | None:
    """Run on a worker: None when ``path`` holds ``token``, else why not (for the client's message)."""
    try:
        found = Path(path).read_text().strip()
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror or exc})"
    return None if found == token else f"{path} holds another marker (another directory of the same name)"

