"""Concurrent runs on one cache directory, as real processes started together.

Each entry is computed under a per-entry lock and looked up again once the
lock is held, so whichever process gets there first computes a stage and the
other one uses its entry: every stage runs exactly once across the runs, and
both finish with the same metrics. Runs started in the same second in the same
directory get distinct run directories.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from pipeline.cache.locks import held, holder_of
from pipeline.cache.store import Cache
from pipeline.registry import stage_names
from tests.conftest import FAST
from tests.pipeline.processes import env, run


def start(cwd: Path, cache_dir: Path, idx_dir: Path, *extra: str, quiet: bool = True) -> subprocess.Popen:
    args = ["run", *(["-q"] if quiet else []), "--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args, *extra], cwd=cwd, env=env(cache_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(processes: list[subprocess.Popen]) -> list[str]:
    errors = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        errors.append(err)
    return errors


def records(runs: Path) -> list[dict]:
    return [json.loads((d / "run.json").read_text()) for d in sorted(runs.iterdir()) if d.name != "latest"]


def test_two_runs_at_once_both_succeed_and_compute_each_stage_once(tmp_path, idx_dir):
    cache_dir = tmp_path / "cache"
    errors = finish([start(tmp_path, cache_dir, idx_dir), start(tmp_path, cache_dir, idx_dir)])
    assert errors == ["", ""]  # not even a warning about a damaged entry
    first, second = records(tmp_path / "runs")  # two run directories, though started in the same second
    assert first["metrics"] == second["metrics"] and first["metrics"]["test_accuracy"] is not None
    ran = {name: 0 for name in stage_names()}
    for record in (first, second):
        for stage in record["stages"]:
            ran[stage["name"]] += stage["status"] == "ran"
    assert ran == {name: 1 for name in stage_names()}, ran  # computed once, used by both
    outs = [tmp_path / "runs" / Path(r["out_dir"]).name for r in (first, second)]
    assert [(o / "model.npz").read_bytes() for o in outs][0] == (outs[1] / "model.npz").read_bytes()
    cache = Cache(cache_dir)
    for name in stage_names():
        assert len(cache.entries(name)) == 1
        entry = cache.entries(name)[0]
        entry.verify()
    assert not list(cache_dir.rglob(".*.tmp"))


def test_forced_runs_replacing_the_same_entries_at_once(tmp_path, idx_dir):
    cache_dir = tmp_path / "cache"
    finish([start(tmp_path, cache_dir, idx_dir, "--out", "first")])
    reference = json.loads((tmp_path / "first" / "run.json").read_text())["metrics"]
    processes = [start(tmp_path, cache_dir, idx_dir, "--force", "--out", f"forced{i}") for i in range(3)]
    assert finish(processes) == ["", "", ""]
    for i in range(3):
        assert json.loads((tmp_path / f"forced{i}" / "run.json").read_text())["metrics"] == reference
    cache = Cache(cache_dir)
    for name in stage_names():  # replaced, never doubled or left half-written
        assert len(cache.entries(name)) == 1
        cache.entries(name)[0].verify()
    assert not list(cache_dir.rglob(".*.tmp"))


def test_runs_with_different_configs_share_the_common_stages(tmp_path, idx_dir):
    cache_dir = tmp_path / "cache"
    processes = [start(tmp_path, cache_dir, idx_dir, "--out", "a"),
                 start(tmp_path, cache_dir, idx_dir, "--set", "train.lr=0.02", "--out", "b")]
    finish(processes)
    a, b = (json.loads((tmp_path / d / "run.json").read_text()) for d in ("a", "b"))
    ran = [s["name"] for r in (a, b) for s in r["stages"] if s["status"] == "ran"]
    shared = ["fetch", "normalize", "encode", "split", "init"]
    assert sorted(ran) == sorted(shared + ["train", "evaluate", "export", "report"] * 2)
    assert a["metrics"] != b["metrics"]


def test_cache_clear_during_a_run_is_refused_and_the_run_finishes(tmp_path, idx_dir):
    cache_dir = tmp_path / "cache"
    training = start(tmp_path, cache_dir, idx_dir, "--set", "train.epochs=400")
    deadline = time.monotonic() + 60
    while not held(cache_dir / "locks" / "cache.lock"):
        assert training.poll() is None and time.monotonic() < deadline, "the run never held the cache"
        time.sleep(0.01)
    clear = run(cache_dir, ["cache", "clear"])
    assert clear.returncode == 1 and clear.stderr.count("\n") == 1, clear.stderr
    assert "is in use by a running pipeline; nothing was removed" in clear.stderr
    assert finish([training]) == [""]
    assert records(tmp_path / "runs")[0]["metrics"]["test_accuracy"] is not None
    after = run(cache_dir, ["cache", "clear"])
    assert after.returncode == 0 and f"removed {len(stage_names())} entries" in after.stdout, \
        after.stdout + after.stderr


def _computing(cache_dir: Path, stage: str) -> int | None:
    """The pid a run wrote into the lock of a ``stage`` entry it holds now, or None."""
    pids = [holder_of(lock) for lock in (cache_dir / "locks").glob(f"{stage}-*.lock")]
    return next((pid for pid in pids if pid is not None), None)


def test_a_second_run_says_what_it_waits_for_and_whose_result_it_reused(tmp_path, idx_dir):
    cache_dir = tmp_path / "cache"
    slow = ("--set", "train.epochs=12000")  # both runs: the same keys, and a train stage that takes a while
    first = start(tmp_path, cache_dir, idx_dir, *slow, "--out", "first")
    deadline = time.monotonic() + 120
    while _computing(cache_dir, "train") is None:
        assert first.poll() is None and time.monotonic() < deadline, "the first run never computed train"
        time.sleep(0.01)
    assert _computing(cache_dir, "train") == first.pid
    sets = [f"data.source=idx:{idx_dir}", *FAST, "train.epochs=12000"]
    status = run(cache_dir, ["status", *[a for s in sets for a in ("--set", s)]])
    line = next(line for line in status.stdout.splitlines() if " train " in line)
    assert "computing" in line and f"pid {first.pid}" in line, status.stdout
    second = start(tmp_path, cache_dir, idx_dir, *slow, "--out", "second", quiet=False)
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    assert finish([first]) == [""]
    assert f"waiting for another run computing 'train' (pid {first.pid})…" in out
    reused = [line for line in out.splitlines() if line.startswith("reused the result of another run")]
    assert len(reused) == 1 and f"(pid {first.pid}) for: train" in reused[0], out
    statuses = {s["name"]: s["status"] for s in json.loads((tmp_path / "second" / "run.json").read_text())["stages"]}
    assert statuses["train"] == "cached"  # computed once, by the first run
