"""The plan: every member's keys first, each distinct (stage, key) once, upstream first."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cache.store import Cache
from pipeline.hooks.manager import load_plugins
from pipeline.registry import STAGES, get_stage, upstream
from pipeline.runner import Runner
from pipeline.sweep import grid as g, run_sweep
from pipeline.sweep.local import InProcess
from pipeline.sweep.plan import build
from pipeline.sweep.scheduler import WORKER_STOP
from pipeline.toml_io import parse_assignment


def _plan(base_sets, cache_dir, *grids, seeds=None):
    grid = g.parse_grids(list(grids))
    g.add_seeds(grid, seeds, 42)
    members = g.members(grid, None, {}, [parse_assignment(s) for s in base_sets])
    cache, plugins = Cache(cache_dir), load_plugins(autoload=False)
    return build(members, lambda c: Runner(c, cache, plugins).make_plan().keys, cache), members


def test_shared_stages_are_planned_once_and_what_one_member_needs_stays_with_it(base_sets, cache_dir):
    plan, members = _plan(base_sets, cache_dir, "train.lr=0.05,0.1", seeds=2)
    by_stage = {}
    for stage, key in plan.stages:
        by_stage.setdefault(stage, []).append(len(plan.stages[(stage, key)].members))
    # lr changes train's key only; the seed changes init's and train's
    assert by_stage == {"fetch": [4], "normalize": [4], "encode": [4], "split": [4], "init": [2, 2]}
    # each member's own: train, evaluate, export, report
    assert plan.summary() == {"nodes": 4 + 2 + 4 * 4, "cached": 0, "shared": 6, "own": 16}
    for task in plan.members:  # each member waits for exactly its shared prefix
        assert task.needs == {(s, task.keys[s]) for s in ("fetch", "normalize", "encode", "split", "init")}
        assert not task.cached
    init = [t for n, t in plan.stages.items() if n[0] == "init"]
    keys = plan.members[0].keys  # init waits for exactly the shared stages it reads from
    assert all(t.needs == {(u, keys[u]) for u in upstream(get_stage("init"), STAGES)} for t in init)


class Recording(InProcess):
    """The in-process backend, checking at each submit that the job's inputs are in the cache."""

    def __init__(self, cache: Cache):
        super().__init__()
        self.cache, self.submitted = cache, []

    def submit(self, job):
        if job.stage:  # a shared stage: everything upstream of it
            needed = [(u, job.keys[u]) for u in upstream(get_stage(job.stage), STAGES)]
        else:          # a member: its shared prefix (its own stages it computes itself)
            needed = [(s, k) for s, k in job.keys.items() if (s, k) in self.shared]
        assert all(self.cache.has(*node) for node in needed), (job.name, needed)
        self.submitted.append(job.name)
        return super().submit(job)


def test_each_distinct_stage_key_is_computed_exactly_once_upstream_first(base_sets, cache_dir, tmp_path,
                                                                         monkeypatch):
    plan, _ = _plan(base_sets, cache_dir, "train.lr=0.05,0.1", seeds=2)
    recording = Recording(Cache(cache_dir))
    recording.shared = set(plan.stages)
    monkeypatch.setattr("pipeline.sweep.local.local_backend", lambda jobs, scheduler=None: recording)
    result = run_sweep(grid_args=["train.lr=0.05,0.1"], seeds=2, sets=base_sets, jobs=1, out=tmp_path / "s",
                       autoload=False)
    assert not result.failed and len(result.members) == 4
    computed = [(c["stage"], c["key"]) for c in result.document["computed"]]
    assert sorted(computed) == sorted(plan.stages) and all(c["status"] == "ran" for c in result.document["computed"])
    ran = list(computed)
    for member in result.members:
        record = json.loads((tmp_path / "s" / member["run_dir"] / "run.json").read_text())
        ran += [(s["name"], s["key"]) for s in record["stages"] if s["status"] == "ran"]
    assert sorted(ran) == sorted(set(ran)) and len(ran) == plan.summary()["nodes"]  # each once, all of them
    order = recording.submitted
    assert order.index("stage-split-" + plan.members[0].keys["split"][:8]) < min(
        i for i, name in enumerate(order) if name.startswith("stage-init"))
    assert all(name.startswith("stage-") for name in order[:6]) and len(order) == 10


def test_a_fully_cached_sweep_costs_nothing(base_sets, cache_dir, tmp_path, monkeypatch):
    run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=1, out=tmp_path / "first", autoload=False)
    plan, _ = _plan(base_sets, cache_dir, "train.lr=0.05,0.1")
    assert all(t.cached for t in plan.members) and not plan.stages

    def no_backend(*args, **kwargs):
        raise AssertionError("a fully cached sweep started a backend")

    monkeypatch.setattr("pipeline.sweep.local.local_backend", no_backend)
    again = run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=2, out=tmp_path / "again",
                      autoload=False)
    assert again.document["computed"] == [] and not again.failed
    for member in again.members:
        record = json.loads(Path(again.out / member["run_dir"] / "run.json").read_text())
        assert {s["status"] for s in record["stages"]} == {"cached"}


class OutOfProcess(InProcess):
    """The in-process backend posing as one whose workers are other processes: records the jobs."""

    out_of_process = True

    def __init__(self):
        super().__init__()
        self.jobs = []

    def submit(self, job):
        self.jobs.append(job)
        return super().submit(job)


def test_where_workers_are_other_processes_the_client_draws_each_report_once(base_sets, tmp_path, monkeypatch):
    backend = OutOfProcess()
    monkeypatch.setattr("pipeline.sweep.local.local_backend", lambda jobs, scheduler=None: backend)
    result = run_sweep(grid_args=["train.lr=0.05,0.1"], sets=base_sets, jobs=2, out=tmp_path / "s", autoload=False)
    assert not result.failed and len(result.members) == 2
    parts = [job for job in backend.jobs if job.name.startswith("member-")]
    assert len(parts) == 2 and all(job.stage == WORKER_STOP and job.run_dir is None for job in parts)
    ran = [(c["stage"], c["key"]) for c in result.document["computed"]]
    for member in result.members:
        run_dir = tmp_path / "s" / member["run_dir"]
        record = json.loads((run_dir / "run.json").read_text())
        statuses = {s["name"]: s["status"] for s in record["stages"]}
        assert statuses["train"] == statuses["report"] == "ran"  # train on the worker, the report here
        assert (run_dir / "report.html").is_file() and (run_dir / "weights.png").is_file()
        assert member["status"] == "ok" and member["seconds"] > 0
        ran += [(s["name"], s["key"]) for s in record["stages"] if s["status"] == "ran"]
    assert len(ran) == len(set(ran))  # every (stage, key) once: the worker's stages are not drawn twice
