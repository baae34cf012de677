"""A sweep on a real dask.distributed cluster (LocalCluster with worker processes, on 127.0.0.1)."""

from __future__ import annotations

import os
import json
from pathlib import Path

import pytest

from pipeline.errors import CacheError, ConfigError
from pipeline.sweep import run_sweep
from pipeline.sweep.cluster import SCHEDULER_ENV, check_shared, scheduler_address
from tests.pipeline.sweep.clusters import local_cluster

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two single-thread worker processes, started from ``home`` (their working directory)."""
    home = tmp_path_factory.mktemp("workers")
    before = os.getcwd()
    os.chdir(home)
    try:
        with local_cluster() as local:
            os.chdir(before)
            yield local
    finally:
        os.chdir(before)


def test_a_sweep_on_the_cluster_gives_the_bytes_of_a_lone_run(cluster, cli, base_sets, tmp_path, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)   # the address from the environment
    result = run_sweep(grid_args=["train.lr=0.05,0.3"], seeds=2, sets=base_sets, backend="dask",
                       out=tmp_path / "s", autoload=False)
    assert not result.failed and len(result.members) == 4
    assert result.document["backend"].startswith(f"dask cluster {cluster.scheduler_address} (2 workers")
    workers = {c["worker"] for c in result.document["computed"]}
    assert workers and all(w.split(":")[1] != str(os.getpid()) for w in workers)  # not this process
    assert [c["stage"] for c in result.document["computed"]].count("fetch") == 1
    member = next(m for m in result.members if m["overrides"] == {"train.lr": 0.3, "train.seed": 43})
    args = ["run", "-q", "--cache-dir", str(tmp_path / "lone-cache"), "--out", str(tmp_path / "lone")]
    for item in base_sets + ["train.lr=0.3", "train.seed=43"]:
        args += ["--set", item]
    assert cli(*args).code == 0
    for name in ("model.npz", "metrics.json"):
        assert (result.out / member["run_dir"] / name).read_bytes() == (tmp_path / "lone" / name).read_bytes()


def test_a_worker_that_does_not_see_the_directories_is_named_before_anything_runs(cluster, tmp_path, monkeypatch):
    """``/proc/self/cwd`` is this process's directory here and the workers' own one there."""
    monkeypatch.chdir(tmp_path)
    client = distributed.Client(cluster.scheduler_address)
    try:
        check_shared(client, [tmp_path])                      # a real shared directory passes
        with pytest.raises(CacheError) as info:
            check_shared(client, [Path("/proc/self/cwd")])
    finally:
        client.close()
    message = str(info.value)
    assert message.startswith("dask worker tcp://127.0.0.1:") and "/proc/self/cwd" in message
    assert "\n" not in message and not list(tmp_path.glob(".pipeline-marker-*"))


def test_no_scheduler_address_is_a_one_line_config_error(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with pytest.raises(ConfigError, match="--scheduler tcp://HOST:8786"):
        scheduler_address(None)
    assert scheduler_address("tcp://h:1") == "tcp://h:1"


def test_an_unreachable_scheduler_is_one_line(cli, base_sets, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["sweep", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--grid", "train.lr=0.1,0.2",
            "--out", str(tmp_path / "s")]
    for item in base_sets:
        args += ["--set", item]
    result = cli(*args)
    assert result.code == 1 and result.err.count("\n") == 1
    assert f"cannot reach the dask scheduler at tcp://127.0.0.1:{port}" in result.err
    assert not (tmp_path / "s").exists()  # nothing ran, nothing written


def _executing(dask_worker) -> int:
    return len(dask_worker.state.executing)


def test_ctrl_c_stops_the_tasks_running_on_the_cluster_within_seconds(cluster, base_sets, tmp_path):
    """The client cancels what has not started; running tasks stop at their next epoch, seeing the STOP
    file (or their sweep's progress directory gone)."""
    import time

    from pipeline.sweep.display import QuietEvents

    class CtrlC(QuietEvents):
        def __init__(self, labels, total, progress_dir):
            super().__init__(labels)
            self.progress_dir = progress_dir

        def tick(self):
            states = [p.read_text() for p in self.progress_dir.glob("member-*.json")]
            if sum('"stage": "train"' in s and '"epoch"' in s for s in states) >= 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(grid_args=["train.lr=0.05,0.1,0.2"], sets=base_sets + ["train.epochs=100000"], backend="dask",
                  scheduler=cluster.scheduler_address, out=tmp_path / "s", autoload=False, events=CtrlC)
    stopped = time.monotonic()
    client = distributed.Client(cluster.scheduler_address)
    try:
        while any(client.run(_executing).values()):
            assert time.monotonic() - stopped < 10, "a task still runs on the cluster 10 s after Ctrl-C"
            time.sleep(0.2)
    finally:
        client.close()
    doc = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert doc["complete"] is False and doc["members"] == []
