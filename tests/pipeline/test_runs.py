"""``runs``: the list, ``runs diff`` (keys that differ, metric deltas, per class), and ``runs prune``,
which never removes runs/latest, a running sweep, or a member of a kept sweep."""

from __future__ import annotations

import fcntl
import json
import os
import time

import pytest

from pipeline.runs import diff, discover, prune_plan


def _run(cli, fast_sets, *extra, out=None):
    args = ["run", "-q", *fast_sets, *extra] + (["--out", str(out)] if out else [])
    result = cli(*args)
    assert result.code == 0, result.err
    return result


def _age(path, seconds):
    """Make a run look ``seconds`` old (listing and pruning go by when run.json / sweep.json were written)."""
    for name in ("run.json", "sweep.json"):
        if (path / name).exists():
            t = time.time() - seconds
            os.utime(path / name, (t, t))


@pytest.fixture
def two_runs(cli, fast_sets, tmp_path):
    a, b = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    _run(cli, fast_sets, out=a)
    _run(cli, fast_sets, "--set", "train.lr=0.05", "--set", "train.epochs=1", out=b)
    _age(a, 100)
    return a, b


def test_diff_shows_only_the_keys_that_differ_and_the_metric_deltas(cli, two_runs):
    a, b = two_runs
    d = diff(a, b, per_class=True)
    assert d["config"] == [("train.epochs", 3, 1), ("train.lr", "auto", 0.05)]
    ma, mb = (json.loads((p / "run.json").read_text())["metrics"] for p in (a, b))
    assert d["metrics"][0] == ("val_accuracy", ma["val_accuracy"], mb["val_accuracy"],
                               mb["val_accuracy"] - ma["val_accuracy"])
    pa = json.loads((a / "metrics.json").read_text())["per_class"]["val"][1]
    pb = json.loads((b / "metrics.json").read_text())["per_class"]["val"][1]
    row = next(r for r in d["per_class"] if r[:3] == ("val", str(pa["class"]), "f1"))
    assert row[3:] == (pa["f1"], pb["f1"], pb["f1"] - pa["f1"])
    result = cli("runs", "diff", "a", "b", "--per-class")  # names under runs/
    assert result.code == 0, result.err
    assert "train.lr" in result.out and "train.epochs" in result.out and "train.seed" not in result.out
    assert f"{mb['val_loss'] - ma['val_loss']:+.4f}" in result.out


def test_diff_of_something_that_is_no_run_is_one_line(cli, two_runs):
    result = cli("runs", "diff", "a", "nope")
    assert result.code == 2 and result.err.count("\n") == 1 and "'nope' is not a finished run directory" in result.err
    assert cli("runs", "diff", "a").code == 2


def test_runs_lists_runs_and_sweeps_newest_first(cli, two_runs, base_sets, tmp_path):
    from pipeline.sweep import run_sweep

    run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=tmp_path / "runs" / "sw",
              autoload=False)
    infos = discover(tmp_path / "runs")
    assert [(i.path.name, i.kind, i.status) for i in infos] == [("sw", "sweep", "ok"), ("b", "run", "ok"),
                                                               ("a", "run", "ok")]
    assert infos[1].changes["train.lr"] == 0.05 and "train.seed" not in infos[1].changes
    assert infos[0].changes["train.lr"] == "swept" and infos[0].members == 2
    result = cli("runs")
    assert result.code == 0 and result.out.index("sw") < result.out.index(" b ") < result.out.index(" a ")
    assert "lr=0.05" in result.out and "lr=*" in result.out


def test_prune_keeps_the_newest_latest_and_running_sweeps_and_asks_first(cli, fast_sets, base_sets, tmp_path):
    from pipeline.sweep import run_sweep

    runs = tmp_path / "runs"
    for i in range(3):
        _run(cli, fast_sets)  # default run directories, runs/latest -> the newest
        time.sleep(1.1)       # distinct names (one per second)
    names = sorted(p.name for p in runs.iterdir() if p.name != "latest")
    for age, name in zip((500, 400, 300), names):
        _age(runs / name, age)
    (runs / "latest").unlink()
    (runs / "latest").symlink_to(names[0])  # latest points at the oldest run
    run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=runs / "kept", autoload=False)
    run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=runs / "busy", autoload=False)
    _age(runs / "busy", 1000)
    (runs / "unfinished").mkdir()  # a run that may still be going: no run.json, started a minute ago
    os.utime(runs / "unfinished", (time.time() - 60, time.time() - 60))
    with open(runs / "busy" / ".sweep.lock", "a") as lock:  # as a running sweep holds it
        fcntl.flock(lock, fcntl.LOCK_SH)
        doomed, spared = prune_plan(runs, keep=1)
        assert sorted(i.path.name for i in doomed) == names[1:]
        assert sorted((i.path.name, why) for i, why in spared) == sorted([
            ("busy", "the sweep is running"), (names[0], "runs/latest points at it"),
            ("unfinished", "no run.json yet: it may still be running")])
        refused = cli("runs", "prune", "--keep", "1")  # stdin is no terminal: ask for --yes
        assert refused.code == 2 and "pass --yes" in refused.err and (runs / names[1]).exists()
        done = cli("runs", "prune", "--keep", "1", "--yes")
    assert done.code == 0, done.err
    left = sorted(p.name for p in runs.iterdir())
    assert left == sorted(["busy", "kept", "latest", "unfinished", names[0]])
    kept = json.loads((runs / "kept" / "sweep.json").read_text())
    assert all((runs / "kept" / m["run_dir"] / "run.json").exists() for m in kept["members"])
