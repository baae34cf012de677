"""Ctrl-C during a sweep with worker processes: every worker gone within seconds, one line, exit 130,
what finished stays cached, and sweep.json says the sweep is incomplete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.pipeline.processes import INTERRUPTED, assert_only_complete_entries, debris, env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_every_worker_keeps_finished_work_and_exits_130(tmp_path, base_sets):
    cache_dir, out = tmp_path / "cache", tmp_path / "s"
    args = [sys.executable, "-m", "pipeline", "sweep", "-q", "--jobs", "2", "--out", str(out),
            "--grid", "train.lr=0.05,0.1", "--set", "train.epochs=100000"]
    for item in base_sets:
        args[-2:-2] = ["--set", item]
    process = subprocess.Popen(args, env=env(cache_dir), cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    workers, deadline = set(), time.monotonic() + 90
    while len(workers) < 2:  # both members training, each in a worker process
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the members never started training"
        for path in (out / ".progress").glob("member-*.json"):
            try:
                state = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if state.get("stage") == "train" and state.get("epoch"):
                workers.add(int(state["worker"].rsplit(":", 1)[1]))
        time.sleep(0.1)
    assert process.pid not in workers
    process.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    assert process.wait(timeout=30) == 130
    err = process.stderr.read()
    assert err.strip().splitlines() == [INTERRUPTED], err
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() - stopped < 10, "a worker outlived the sweep by 10 s"
        time.sleep(0.1)
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["complete"] is False and doc["members"] == [] and doc["planned"] == 2
    assert {c["stage"] for c in doc["computed"]} == {"fetch", "normalize", "encode", "split", "init"}
    assert not debris(cache_dir) and not (out / ".progress").exists()
    assert not list((cache_dir / "train").glob("*/entry.json"))
    assert assert_only_complete_entries(cache_dir) == 5  # the shared prefix, computed once, cached
