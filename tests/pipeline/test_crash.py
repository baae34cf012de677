"""Crashes with real processes: SIGKILL (or Ctrl-C) at chosen moments of cache writes, and at random.

A driver runs the real CLI in a subprocess after wrapping one cache or runner function so that
the process SIGKILLs itself at a chosen moment: halfway through an entry's files, just before
the rename into place, between the rename and the LATEST pointer, while replacing an entry
under ``--force``, while writing ``LATEST`` or the run directory, between two stages. Other
runs are killed after random delays. After every kill the cache must hold only complete entries
(each loads and checks out), and a re-run must finish with metrics identical to those of an
uninterrupted run, sweeping the dead writer's temporary files. Two scenarios are
Ctrl-C at a write: one line, exit 130. (Ctrl-C and SIGTERM during training: test_interrupt.py.)
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.pipeline.processes import INTERRUPTED, assert_only_complete_entries, cli_args, debris, env, metrics, run

#: Runs the CLI after arming one kill point; argv: point, stage (or ""), then the CLI arguments.
DRIVER = r'''
import os, signal, sys
import joblib
import pipeline.cache.store as cache
import pipeline.cache.atomic as atomic
import pipeline.runner as runner
from pipeline.cli import main

point, stage, args = sys.argv[1], sys.argv[2], sys.argv[3:]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
sig = signal.SIGINT if point.endswith("+int") else signal.SIGKILL
point = point.removesuffix("+int")
state = {"stage": None, "dumps": 0, "renames": 0}

def wrap(owner, name, before=None, after=None):
    original = getattr(owner, name)
    def wrapper(*a, **kw):
        if before and before(*a, **kw):
            os.kill(os.getpid(), sig)
        result = original(*a, **kw)
        if after and after(*a, **kw):
            os.kill(os.getpid(), sig)
        return result
    setattr(owner, name, wrapper)

def storing(self, name, *a, **kw):
    state["stage"] = name
    return False

wrap(cache.Cache, "store", before=storing)
if point == "mid-entry":        # some of the entry's files written, entry.json not yet
    def dumped(*a, **kw):
        state["dumps"] += 1
        return state["stage"] == stage and state["dumps"] >= 1
    wrap(joblib, "dump", after=dumped)
elif point == "before-rename":  # every file fsynced, about to rename the entry into place
    wrap(cache.Cache, "_move_into_place", before=lambda *a: state["stage"] == stage)
elif point == "mid-replace":    # --force: the old entry moved aside, the new one not yet in place
    def renamed(src, dst, *a, **kw):
        if state["stage"] == stage and ".tmp" in str(dst):
            return True
        return False
    wrap(os, "rename", after=renamed)
elif point == "before-latest":  # entry in place, LATEST pointer not yet updated
    wrap(cache.Cache, "mark_latest", before=lambda self, name, key: name == stage)
elif point == "replace-file":   # atomic_write: temporary file complete, os.replace not yet done
    wrap(atomic.os, "replace", before=lambda src, dst, *a: os.path.basename(dst) == stage)
elif point == "between-stages":
    wrap(runner.Runner, "_visit", after=lambda self, s: s.name == stage)
sys.exit(main(args))
'''


@dataclass
class Scenario:
    """One interrupted run and the re-run after it; what the tests check about them."""

    point: str
    stage: str
    first: bool = False                  # a complete run first, so that entries exist
    extra: tuple[str, ...] = ()          # extra arguments of the interrupted run
    code: int = 0                        # the interrupted run's exit status
    err: str = ""
    problem: str | None = None           # what was wrong with the cache after the interruption
    debris: list = field(default_factory=list)
    again: int = 0
    again_err: str = ""
    metrics: tuple | None = None
    debris_after: list = field(default_factory=list)
    killed_run_json: bool = False

    def play(self, tmp: Path, idx_dir: Path) -> Scenario:
        cache_dir = tmp / "cache"
        if self.first:
            assert run(cache_dir, cli_args(idx_dir, tmp / "first")).returncode == 0
        driver = [sys.executable, "-c", DRIVER, self.point, self.stage]
        killed = run(cache_dir, cli_args(idx_dir, tmp / "killed", *self.extra), driver)
        self.code, self.err = killed.returncode, killed.stderr
        try:
            assert_only_complete_entries(cache_dir)
        except Exception as exc:  # reported by the test, with the scenario's name
            self.problem = f"{type(exc).__name__}: {exc}"
        self.debris = debris(cache_dir) + debris(tmp / "killed")
        self.killed_run_json = (tmp / "killed" / "run.json").exists()
        again = run(cache_dir, cli_args(idx_dir, tmp / "out"))
        self.again, self.again_err = again.returncode, again.stderr
        self.metrics = metrics(tmp / "out") if again.returncode == 0 else None
        self.debris_after = debris(cache_dir)
        return self


SCENARIOS = {  # name -> (scenario, expected exit status, whether it leaves temporary files behind)
    "mid-entry-fetch": (Scenario("mid-entry", "fetch"), -signal.SIGKILL, True),
    "mid-entry-split": (Scenario("mid-entry", "split"), -signal.SIGKILL, True),
    "before-rename-normalize": (Scenario("before-rename", "normalize"), -signal.SIGKILL, True),
    "before-rename-train": (Scenario("before-rename", "train"), -signal.SIGKILL, True),
    "before-latest-init": (Scenario("before-latest", "init"), -signal.SIGKILL, False),
    "writing-LATEST": (Scenario("replace-file", "LATEST"), -signal.SIGKILL, True),
    "writing-model.npz": (Scenario("replace-file", "model.npz"), -signal.SIGKILL, True),
    "writing-run.json": (Scenario("replace-file", "run.json"), -signal.SIGKILL, True),
    "between-encode-and-split": (Scenario("between-stages", "encode"), -signal.SIGKILL, False),
    "between-evaluate-and-export": (Scenario("between-stages", "evaluate"), -signal.SIGKILL, False),
    "mid-replace-under-force": (Scenario("mid-replace", "train", first=True, extra=("--force", "train")),
                                -signal.SIGKILL, True),
    "ctrl-c-mid-entry": (Scenario("mid-entry+int", "split"), 130, False),
    "ctrl-c-writing-run.json": (Scenario("replace-file+int", "run.json"), 130, False),
}


@pytest.fixture(scope="module")
def played(tmp_path_factory, idx_dir):
    """Every scenario, played in parallel (each in its own directory): real processes are slow to start."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(scenario.play, tmp_path_factory.mktemp(name), idx_dir)
                   for name, (scenario, _, _) in SCENARIOS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_interrupted_write_then_rerun_gives_identical_metrics(played, reference, name):
    s, code, leaves_debris = played[name], *SCENARIOS[name][1:]
    assert s.code == code, f"the {s.point} point did not fire: exit {s.code}, {s.err}"
    if code == 130:  # Ctrl-C: one line, and the interrupted write cleaned up after itself
        assert s.err.strip().splitlines() == [INTERRUPTED], s.err
    assert s.problem is None, s.problem          # no entry a later run would read is incomplete
    assert bool(s.debris) == leaves_debris, s.debris
    assert not s.killed_run_json                 # a run directory without run.json is incomplete
    assert s.again == 0, s.again_err
    assert s.metrics == reference
    assert not s.debris_after, f"the dead writer's temporary files were not swept: {s.debris_after}"


def test_sigkill_after_random_delays(tmp_path, idx_dir, reference):
    """Kill real runs at random moments; each leaves only complete entries, and the last run completes."""
    cache_dir = tmp_path / "cache"
    rng = random.Random(5)
    # kill within the time a whole forced run takes here, measured now: a fixed window misses
    # every run once runs get faster than it (or lands only in interpreter start-up on a slow machine)
    started = time.perf_counter()
    assert run(cache_dir, cli_args(idx_dir, tmp_path / "timed", "--force")).returncode == 0
    whole = time.perf_counter() - started
    statuses = []
    for attempt in range(5):
        extra = ["--force"] if attempt % 2 else []  # also kill while entries are being replaced
        process = subprocess.Popen([sys.executable, "-m", "pipeline", *cli_args(idx_dir, tmp_path / f"k{attempt}"),
                                    *extra], env=env(cache_dir), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 0.9) * whole)
        process.send_signal(signal.SIGKILL)
        statuses.append(process.wait(timeout=30))
        assert_only_complete_entries(cache_dir)
    assert -signal.SIGKILL in statuses  # at least one kill landed mid-run
    again = run(cache_dir, cli_args(idx_dir, tmp_path / "out"))
    assert again.returncode == 0, again.stderr
    assert metrics(tmp_path / "out") == reference
    assert assert_only_complete_entries(cache_dir) >= 8
