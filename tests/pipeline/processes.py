"""Helpers of the tests that run the real CLI in processes of their own (crashes, interrupts, concurrency)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.cache.store import Cache
from tests.conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = "interrupted: stopped cleanly; completed stages stay cached, re-run to continue"


def env(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "PIPELINE_CACHE_DIR": str(cache_dir), "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def cli_args(idx_dir: Path, out: Path, *extra: str) -> list[str]:
    args = ["run", "-q", "--out", str(out), "--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return args + list(extra)


def run(cache_dir: Path, args: list[str], command: list[str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI (or ``command``, which takes the CLI's arguments) in a process of its own, to the end."""
    command = command or [sys.executable, "-m", "pipeline"]
    return subprocess.run(command + args, env=env(cache_dir), cwd=cache_dir.parent, capture_output=True,
                          text=True, timeout=timeout)


def metrics(out: Path) -> tuple[dict, bytes, bytes]:
    record = json.loads((out / "run.json").read_text())
    return record["metrics"], (out / "metrics.json").read_bytes(), (out / "model.npz").read_bytes()


def assert_only_complete_entries(cache_dir: Path) -> int:
    """Every entry a run would read is whole: its files check out and unpickle. Returns the count."""
    cache = Cache(cache_dir)
    count = 0
    for stage_dir in [p for p in cache_dir.iterdir() if p.is_dir() and p.name not in ("locks", "downloads")]:
        for path in stage_dir.iterdir():
            if path.name.startswith(".") or path.name == "LATEST":
                continue
            entry = cache.find(stage_dir.name, path.name)  # raises CorruptEntry on a half entry
            entry.verify()
            for name in entry.meta["outputs"]:
                entry.load(name)
            count += 1
    return count


def debris(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.rglob(".*.tmp")]
