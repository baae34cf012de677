"""The runner on a tiny IDX data set: cache hits, selective invalidation, selections, hooks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import hookimpl
from pipeline.cache.store import Cache
from pipeline.config import load_config
from pipeline.errors import PluginError, TrainingError
from pipeline.hooks.manager import load_plugins
from pipeline.registry import stage_names
from pipeline.registry import Selection
from pipeline.runner import Runner
from tests.conftest import FAST

ALL = stage_names()


def _run(idx_dir, cache_dir, *sets, selection=Selection(), out=None, extra=()):
    cfg = load_config(sets=[f"data.source=idx:{idx_dir}", *FAST, *sets])
    runner = Runner(cfg, Cache(cache_dir), load_plugins(autoload=False, extra=extra))
    record = runner.run(selection, out)
    return record


def _statuses(record):
    return {s["name"]: s["status"] for s in record["stages"]}


def _ran(record):
    return [name for name, status in _statuses(record).items() if status == "ran"]


def test_second_identical_run_is_all_cached(idx_dir, cache_dir, tmp_path):
    first = _run(idx_dir, cache_dir, out=tmp_path / "a")
    assert _ran(first) == ALL
    second = _run(idx_dir, cache_dir, out=tmp_path / "b")
    assert set(_statuses(second).values()) == {"cached"}
    assert second["metrics"] == first["metrics"]
    for name in ("model.npz", "model.json", "metrics.json", "run.json"):   # artifacts written every run
        assert (tmp_path / "b" / name).is_file()
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()


@pytest.mark.parametrize("change, expected", [
    ("train.lr=0.01", ["train", "evaluate", "export", "report"]),
    ("split.seed=7", ["split", "train", "evaluate", "export", "report"]),        # split stores rows: init reads the data
    ("model.activation=tanh", ["train", "evaluate", "export", "report"]),
    ("model.init=glorot_uniform", ["init", "train", "evaluate", "export", "report"]),
    ("normalize.standardize=true", ["normalize", "train", "evaluate", "export", "report"]),
    ("evaluate.batch_size=7", ["evaluate", "export", "report"]),
    ("report.enabled=false", ["export", "report"]),   # export records the whole config
])
def test_a_change_reruns_exactly_what_depends_on_it(idx_dir, cache_dir, change, expected):
    _run(idx_dir, cache_dir)
    assert _ran(_run(idx_dir, cache_dir, change)) == expected


def test_only_reruns_one_stage_and_skips_the_rest(idx_dir, cache_dir):
    _run(idx_dir, cache_dir)
    record = _run(idx_dir, cache_dir, selection=Selection(only="evaluate"))
    statuses = _statuses(record)
    assert statuses["evaluate"] == "ran" and statuses["export"] == "skipped"
    assert all(statuses[n] == "cached" for n in ALL[:6])


def test_only_computes_missing_inputs_first(idx_dir, cache_dir):
    record = _run(idx_dir, cache_dir, selection=Selection(only="split"))   # split reads encode's labels only
    assert _statuses(record) == {**{n: "ran" for n in ("fetch", "encode", "split")},
                                 **{n: "skipped" for n in ("normalize", *ALL[4:])}}


def test_from_to_and_force(idx_dir, cache_dir):
    _run(idx_dir, cache_dir)
    assert _ran(_run(idx_dir, cache_dir, selection=Selection(start="train"))) == ["train", "evaluate", "export", "report"]
    to_split = _statuses(_run(idx_dir, cache_dir, selection=Selection(stop="split")))
    assert [n for n, s in to_split.items() if s == "skipped"] == ["normalize", "init", "train", "evaluate", "export", "report"]
    assert _ran(_run(idx_dir, cache_dir, selection=Selection(force="*"))) == ALL
    assert _ran(_run(idx_dir, cache_dir, selection=Selection(force="init"))) == ["init", "train", "evaluate", "export", "report"]


def test_forced_rerun_reproduces_the_same_metrics(idx_dir, cache_dir):
    first = _run(idx_dir, cache_dir)
    again = _run(idx_dir, cache_dir, selection=Selection(force="*"))
    assert again["metrics"] == first["metrics"]


def test_run_record_contents(idx_dir, cache_dir, tmp_path):
    _run(idx_dir, cache_dir, out=tmp_path / "out")
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert [s["name"] for s in record["stages"]] == ALL
    assert all(set(s) >= {"name", "status", "seconds", "key"} for s in record["stages"])
    assert 0.9 <= record["metrics"]["test_accuracy"] <= 1.0      # the tiny data is easy
    assert record["data"]["source"] == f"idx:{idx_dir}"
    assert record["config"]["train"]["epochs"] == 3
    model = json.loads((tmp_path / "out" / "model.json").read_text())
    assert model["layers"] == [36, 16, 3]
    with np.load(tmp_path / "out" / "model.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "b1", "b2"]


class Recorder:
    """A lifecycle plugin that records every call."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def before_pipeline_run(self, config, stages):
        self.calls.append(("start", tuple(stages)))

    @hookimpl
    def before_stage_run(self, stage, key):
        self.calls.append(("before", stage))

    @hookimpl
    def after_stage_run(self, stage, status, outputs):
        self.calls.append(("after", stage, status, sorted(outputs)))

    @hookimpl
    def on_stage_error(self, stage, error):
        self.calls.append(("error", stage, type(error).__name__))

    @hookimpl
    def on_pipeline_error(self, error):
        self.calls.append(("pipeline error", type(error).__name__))

    @hookimpl
    def after_pipeline_run(self, record):
        self.calls.append(("end", len(record["stages"])))


def test_lifecycle_hooks_are_called_in_order(idx_dir, cache_dir):
    rec = Recorder()
    _run(idx_dir, cache_dir, extra=[(rec, "recorder")])
    assert rec.calls[0] == ("start", tuple(ALL)) and rec.calls[-1] == ("end", len(ALL))
    assert ("before", "train") in rec.calls
    assert ("after", "train", "ran", ["history", "params"]) in rec.calls
    rec2 = Recorder()
    _run(idx_dir, cache_dir, extra=[(rec2, "recorder")])
    assert not [c for c in rec2.calls if c[0] == "before"]              # cache hits do not run
    assert ("after", "fetch", "cached", ["dataset", "x_raw", "x_raw_test", "y_raw", "y_raw_test"]) in rec2.calls


def test_stage_error_calls_error_hooks_and_reraises(idx_dir, cache_dir):
    rec = Recorder()
    with pytest.raises(TrainingError, match="lr"):
        _run(idx_dir, cache_dir, "train.lr=1e30", extra=[(rec, "recorder")])
    assert ("error", "train", "TrainingError") in rec.calls
    assert rec.calls[-1] == ("pipeline error", "TrainingError")
    cache = Cache(cache_dir)
    assert cache.entries("train") == []                      # nothing half-written
    assert len(cache.entries("init")) == 1                   # finished stages stay cached


class Raiser:
    @hookimpl
    def after_stage_run(self, stage):
        raise RuntimeError("boom")


def test_a_raising_lifecycle_hook_is_named(idx_dir, cache_dir):
    with pytest.raises(PluginError, match="plugin 'raiser' raised in after_stage_run: RuntimeError: boom"):
        _run(idx_dir, cache_dir, extra=[(Raiser(), "raiser")])


def test_corrupt_entry_is_reported_and_recomputed(idx_dir, cache_dir, tmp_path):
    first = _run(idx_dir, cache_dir)
    entry = Cache(cache_dir).latest("train")
    for info in entry.meta["outputs"].values():
        path = entry.path / info["file"]
        path.write_bytes(b"\0garbage" * 10)
    second = _run(idx_dir, cache_dir, selection=Selection(only="evaluate"))
    assert _statuses(second)["evaluate"] == "ran"
    assert second["metrics"] == first["metrics"]
