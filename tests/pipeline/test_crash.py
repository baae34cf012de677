"""Crashes and interrupts with real processes: SIGKILL during cache writes, Ctrl-C, SIGTERM.

A driver runs the real CLI in a subprocess after wrapping one cache or runner function so that
the process SIGKILLs itself at a chosen moment: halfway through an entry's files, just before
the rename into place, between the rename and the LATEST pointer, while replacing an entry
under ``--force``, while writing ``LATEST`` or the run directory, between two stages. Other
runs are killed after random delays. After every kill the cache must hold only complete entries
(each loads and checks out), and a re-run must finish with metrics identical to those of an
uninterrupted run, sweeping the dead writer's temporary files. Ctrl-C and SIGTERM must stop
cleanly: exit 130 or 143, one line, no traceback.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.cache import Cache
from tests.conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = "interrupted: stopped cleanly; completed stages stay cached, re-run to continue"

#: Runs the CLI after arming one kill point; argv: point, stage (or ""), then the CLI arguments.
DRIVER = r'''
import os, signal, sys
import joblib
import pipeline.cache as cache
import pipeline.atomic as atomic
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


def env(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "PIPELINE_CACHE_DIR": str(cache_dir), "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def cli_args(idx_dir: Path, out: Path, *extra: str) -> list[str]:
    args = ["run", "-q", "--out", str(out), "--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return args + list(extra)


def run(cache_dir: Path, args: list[str], driver: tuple[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", DRIVER, *driver] if driver else [sys.executable, "-m", "pipeline"]
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


@pytest.fixture(scope="module")
def reference(tmp_path_factory, idx_dir):
    """Metrics of an uninterrupted run, in its own process."""
    base = tmp_path_factory.mktemp("reference")
    result = run(base / "cache", cli_args(idx_dir, base / "out"))
    assert result.returncode == 0, result.stderr
    return metrics(base / "out")


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
        killed = run(cache_dir, cli_args(idx_dir, tmp / "killed", *self.extra), (self.point, self.stage))
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
    statuses = []
    for attempt in range(5):
        extra = ["--force"] if attempt % 2 else []  # also kill while entries are being replaced
        process = subprocess.Popen([sys.executable, "-m", "pipeline", *cli_args(idx_dir, tmp_path / f"k{attempt}"),
                                    *extra], env=env(cache_dir), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.4))
        process.send_signal(signal.SIGKILL)
        statuses.append(process.wait(timeout=30))
        assert_only_complete_entries(cache_dir)
    assert -signal.SIGKILL in statuses  # at least one kill landed mid-run
    again = run(cache_dir, cli_args(idx_dir, tmp_path / "out"))
    assert again.returncode == 0, again.stderr
    assert metrics(tmp_path / "out") == reference
    assert assert_only_complete_entries(cache_dir) >= 8


def _interrupt_when(process: subprocess.Popen, marker: str, sig=signal.SIGINT, timeout: float = 30) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        line = process.stdout.readline()
        assert line or process.poll() is None, f"ended before {marker!r}: {seen}"
        seen += line
        assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s"
    process.send_signal(sig)
    return seen


@pytest.mark.parametrize("sig, code, message", [
    (signal.SIGINT, 130, INTERRUPTED), (signal.SIGTERM, 143, INTERRUPTED.replace("interrupted", "terminated (SIGTERM)"))])
def test_ctrl_c_or_sigterm_during_training_stops_cleanly_and_finished_stages_stay_cached(
        tmp_path, idx_dir, reference, sig, code, message):
    cache_dir = tmp_path / "cache"
    long = cli_args(idx_dir, tmp_path / "out", "--set", "train.epochs=100000")
    long.remove("-q")  # show the stage lines and the live progress bar
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *long], env=env(cache_dir), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _interrupt_when(process, "train running", sig=sig)
    err = process.stderr.read()
    assert process.wait(timeout=30) == code
    assert err.strip().splitlines() == [message], err
    assert not debris(cache_dir) and not (tmp_path / "out" / "run.json").exists()
    assert not list((cache_dir / "train").glob("*/entry.json"))
    assert assert_only_complete_entries(cache_dir) == 5  # fetch .. init
    again = run(cache_dir, cli_args(idx_dir, tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    record = json.loads((tmp_path / "again" / "run.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["cached"] * 5 + ["ran"] * 3
    assert metrics(tmp_path / "again") == reference


def test_ctrl_c_stops_the_live_display(idx_dir, cache_dir):
    """The runner closes the display (rich's live progress bar, which hides the cursor) on Ctrl-C."""
    from pipeline.api import Progress
    from pipeline.config import load_config
    from pipeline.plugin_manager import load_plugins
    from pipeline.report import Display
    from pipeline.runner import Runner

    class Interrupting(Progress):
        def update(self, task, completed, total=None, **info):
            if task == "train" and completed == 2:
                raise KeyboardInterrupt

    class Recording(Display):
        closed = False

        def progress(self, stage):
            return Interrupting()

        def close(self):
            Recording.closed = True

    config = load_config(sets=[f"data.source=idx:{idx_dir}", *FAST])
    runner = Runner(config, Cache(cache_dir), load_plugins(autoload=False), Recording())
    with pytest.raises(KeyboardInterrupt):
        runner.run()
    assert Recording.closed and not debris(cache_dir)
    assert assert_only_complete_entries(cache_dir) == 5
