"""A run directory (``--out DIR``): the stages' files, then ``report.html``, then ``run.json``.

``run.json`` is written last, in one rename: a directory that has it is complete. An earlier
run's ``run.json`` is removed first, so a run that fails half-way leaves no record claiming the
files are its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pipeline.cache.store import atomic_write, sweep
from pipeline.registry import Stage


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Permissions of the files written into a run directory: the usual ones for new files.
FILE_MODE = 0o666 & ~_umask()


def write_files(out_dir: Path, stages: Iterable[Stage], visit: list[str],
                output: Callable[[str, str], Any]) -> None:
    """Each visited stage's file outputs (names with a dot) into ``out_dir``, from ``output(stage, name)``;
    a file a stage did not produce this time is removed (none is left from an earlier run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep(out_dir)
    (out_dir / "run.json").unlink(missing_ok=True)  # replaced: incomplete until the new one lands
    for stage in stages:
        for name in stage.writes:
            if "." not in name or stage.name not in visit:
                continue
            content = output(stage.name, name)
            if content is not None:
                atomic_write(out_dir / name, bytes(content), mode=FILE_MODE, hint="--out DIR")
            else:
                (out_dir / name).unlink(missing_ok=True)


def write_page(out_dir: Path, record: dict[str, Any], body: str | None, cache: Any) -> None:
    """``report.html``: the report stage's cached ``body`` under this run's header; a body of None
    (the report off) removes an earlier run's page."""
    from pipeline.report import page

    page.write(out_dir / "report.html", page.run_page(out_dir, record, body, cache), FILE_MODE)


def write_record(out_dir: Path, record: dict[str, Any]) -> None:
    """``run.json``, written last: the directory is complete."""
    atomic_write(out_dir / "run.json", json.dumps(record, indent=2, default=str).encode(), mode=FILE_MODE,
                 hint="--out DIR")
