"""A sweep end to end: same bytes as a lone run (in this process and in joblib's pool), failing
members isolated, sweep.json in its documented shape, the closing table."""

from __future__ import annotations

import csv
import json

import pytest

from pipeline.sweep import run_sweep
from pipeline.sweep.local import threads_per_worker

MEMBER_KEYS = {"overrides", "status", "run_dir", "metrics", "seconds", "error"}


def _lone_run(cli, tmp_path, base_sets, overrides, name):
    """``pipeline run`` of one member's config, on a cache of its own."""
    args = ["run", "-q", "--cache-dir", str(tmp_path / f"cache-{name}"), "--out", str(tmp_path / name)]
    for item in base_sets + [f"{k}={v}" for k, v in overrides]:
        args += ["--set", item]
    result = cli(*args)
    assert result.code == 0, result.err
    return tmp_path / name


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_members_outputs_are_the_bytes_of_a_lone_run_of_its_config(cli, base_sets, tmp_path, jobs):
    """jobs 2 runs the members in joblib's worker processes, whose BLAS is limited by environment."""
    result = run_sweep(grid_args=["train.lr=0.05,0.3"], seeds=2, sets=base_sets, jobs=jobs, out=tmp_path / "s",
                       autoload=False)
    assert not result.failed
    if jobs == 2:
        assert result.document["backend"] == f"2 local processes x {threads_per_worker(2)} BLAS thread" + (
            "s" if threads_per_worker(2) > 1 else "")
        assert len(result.document["workers_peak_mb"]) >= 1
    member = next(m for m in result.members if m["overrides"] == {"train.lr": 0.3, "train.seed": 43})
    lone = _lone_run(cli, tmp_path, base_sets, [("train.lr", 0.3), ("train.seed", 43)], f"lone{jobs}")
    for name in ("model.npz", "metrics.json", "model.json"):
        assert (result.out / member["run_dir"] / name).read_bytes() == (lone / name).read_bytes(), name
    assert member["metrics"] == json.loads((lone / "run.json").read_text())["metrics"]


def test_a_failing_member_is_isolated_and_the_sweep_exits_1(cli, base_sets, tmp_path):
    args = ["sweep", "--jobs", "2", "--out", str(tmp_path / "s"), "--grid", "train.lr=0.1,1e9",
            "--grid", "train.optimizer_options={},{bogus=1}"]
    for item in base_sets:
        args += ["--set", item]
    result = cli(*args)
    assert result.code == 1
    assert "3 of 4 members failed" in result.err
    doc = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert [set(m) for m in doc["members"]] == [MEMBER_KEYS] * 4
    by_point = {(m["overrides"]["train.lr"], json.dumps(m["overrides"]["train.optimizer_options"])): m
                for m in doc["members"]}
    ok = by_point[(0.1, "{}")]
    assert ok["status"] == "ok" and ok["error"] is None and ok["metrics"]["val_accuracy"] > 0.5
    assert (tmp_path / "s" / ok["run_dir"] / "model.npz").is_file()
    diverged = by_point[(1e9, "{}")]
    assert diverged["status"] == "failed" and "training loss became nan" in diverged["error"]
    assert "\n" not in diverged["error"] and diverged["metrics"] == {}
    plugin = by_point[(0.1, '{"bogus": 1}')]
    assert plugin["status"] == "failed" and "not accepted by optimizer 'momentum'" in plugin["error"]
    assert doc["complete"] is True and doc["varying"] == ["train.lr", "train.optimizer_options"]
    rows = list(csv.DictReader((tmp_path / "s" / "sweep.csv").open()))
    assert [r["status"] for r in rows] == [m["status"] for m in doc["members"]]
    assert rows[0]["train.lr"] == "0.1" and rows[0]["val_accuracy"] == str(ok["metrics"]["val_accuracy"])
    # the closing table: the one finished point is the best, failures counted
    assert "best" in result.out and result.out.count("1 failed") == 3
    # the sweep's page links every member's report, the failed ones with their error
    page = (tmp_path / "s" / "report.html").read_text()
    assert f'href="{ok["run_dir"]}/report.html"' in page and "training loss became nan" in page


def test_the_table_shows_only_varying_keys_with_mean_and_std_over_seeds(cli, base_sets, tmp_path):
    args = ["sweep", "--jobs", "1", "--out", str(tmp_path / "s"), "--grid", "train.lr=0.05,0.3",
            "--grid", "train.epochs=2", "--seeds", "2"]
    for item in base_sets:
        args += ["--set", item]
    result = cli(*args)
    assert result.code == 0, result.err
    doc = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert doc["varying"] == ["train.lr", "train.seed"]  # epochs has one value: it does not vary
    assert all(set(m["overrides"]) == {"train.lr", "train.seed"} for m in doc["members"])
    header = next(line for line in result.out.splitlines() if "lr" in line and "seeds" in line)
    assert "epochs" not in header
    from pipeline.sweep.summary import points

    rows = points(doc["members"], doc["varying"])
    assert [r["n"] for r in rows] == [2, 2] and rows[0]["best"] and not rows[1]["best"]
    assert rows[0]["val"][0] >= rows[1]["val"][0]
    accs = [m["metrics"]["val_accuracy"] for m in doc["members"] if m["overrides"]["train.lr"] == rows[0]["values"]["train.lr"]]
    assert rows[0]["val"][0] == pytest.approx(sum(accs) / 2)
    assert f"{rows[0]['val'][0]:.4f} ± {rows[0]['val'][1]:.4f}" in result.out


def test_an_existing_sweep_directory_is_not_overwritten(base_sets, tmp_path):
    from pipeline.errors import ConfigError

    run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=tmp_path / "s", autoload=False)
    with pytest.raises(ConfigError, match="already holds a sweep"):
        run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=tmp_path / "s", autoload=False)


def test_threads_per_worker_never_oversubscribe():
    for cpus in (1, 2, 3, 8):
        for jobs in (1, 2, 3, 8):
            threads = threads_per_worker(jobs, cpus)
            assert threads >= 1 and (jobs * threads <= cpus or threads == 1)


def test_the_python_entry_point_takes_python_values(base_sets, tmp_path):
    import pipeline

    result = pipeline.run_sweep({"train.lr": [0.05, 0.3], "model.hidden": [[8], [16]]}, sets=base_sets, jobs=1,
                                out=tmp_path / "s", autoload=False)
    assert isinstance(result, pipeline.SweepResult) and len(result.members) == 4 and not result.failed
    assert result.members[1]["overrides"] == {"train.lr": 0.05, "model.hidden": [16]}
    best = result.best
    assert best["metrics"]["val_accuracy"] == max(m["metrics"]["val_accuracy"] for m in result.members)
    assert result.document == __import__("json").loads((tmp_path / "s" / "sweep.json").read_text())
