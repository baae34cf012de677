"""The plan-first scheduler: shared stages once and upstream first, each member as soon as its inputs exist.

Only tasks whose inputs are all in the cache are handed to a worker, and never more than the
backend's slots, so no worker waits on a lock while other work is ready and the order of work
stays here (shared stages before members). A failing shared stage fails the members that need
it, with its error; a failing member fails alone. Ctrl-C writes the ``STOP`` file (running tasks
end at their next epoch or stage, storing nothing half-made), stops the backend and re-raises.

Where the workers are other processes (``--jobs N``, Dask), a member's worker computes its stages
up to :data:`WORKER_STOP`, and this process draws the report (:data:`CLIENT_STAGES`) and writes
the run directory, on a thread of its own while the workers go on: drawing imports matplotlib
and its figures, which would otherwise stay in every worker's memory (about 60 MB each, more
than the stages' own buffers), and the worker is free for the next member sooner.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.registry import STAGES
from pipeline.sweep.plan import MemberTask, Node, StageTask, SweepPlan
from pipeline.sweep.tasks import STOP_FILE, Job, execute

#: How often (seconds) the scheduler wakes to redraw progress while tasks run.
TICK = 0.25

#: Stages this process computes for members whose other stages ran on out-of-process workers
#: (the last stages: nothing downstream waits for them), and the last stage such a worker computes.
CLIENT_STAGES = ("report",)
WORKER_STOP = [s.name for s in STAGES if s.name not in CLIENT_STAGES][-1]
assert [s.name for s in STAGES][-len(CLIENT_STAGES):] == list(CLIENT_STAGES)


@dataclass
class Context:
    """What every job of one sweep shares."""

    cache_root: str
    progress_dir: Path
    run_dir: Callable[[MemberTask], Path]
    blocked: tuple[str, ...] = ()
    autoload: bool | None = None


def stage_job(task: StageTask, ctx: Context, keys: dict[str, str]) -> Job:
    stage, key = task.node
    return Job(f"stage-{stage}-{key[:8]}", task.config, ctx.cache_root, keys, str(ctx.progress_dir),
               stage=stage, blocked=ctx.blocked, autoload=ctx.autoload)


def member_job(task: MemberTask, ctx: Context, ran_elsewhere: tuple[dict[str, Any], ...] = ()) -> Job:
    """The whole member: its stages and its run directory (``ran_elsewhere``: see :class:`Job`)."""
    return Job(f"member-{task.member.index:03d}", task.member.config, ctx.cache_root, task.keys,
               str(ctx.progress_dir), run_dir=str(ctx.run_dir(task)), blocked=ctx.blocked, autoload=ctx.autoload,
               ran_elsewhere=ran_elsewhere)


def worker_part(task: MemberTask, ctx: Context) -> Job:
    """The member's stages up to :data:`WORKER_STOP`, no run directory: for an out-of-process worker."""
    return Job(f"member-{task.member.index:03d}", task.member.config, ctx.cache_root, task.keys,
               str(ctx.progress_dir), stage=WORKER_STOP, blocked=ctx.blocked, autoload=ctx.autoload)


def merged(worker: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    """One member's result from its worker's part and this process's (report and run directory)."""
    return client | {"seconds": worker["seconds"] + client["seconds"], "worker": worker["worker"],
                     "peak_mb": worker["peak_mb"], "warnings": worker["warnings"] + client["warnings"]}


def _upstream_keys(task: StageTask, plan: SweepPlan) -> dict[str, str]:
    """The keys, up to the task's stage, of a member that needs it (checked by the worker)."""
    keys = plan.members[task.members[0]].keys
    names = list(keys)
    return {n: keys[n] for n in names[:names.index(task.node[0]) + 1]}


class Scheduler:
    """Runs a :class:`SweepPlan` on a backend.

    Parameters
    ----------
    plan : SweepPlan
        Stage and member tasks.
    backend : object
        ``slots``, ``submit``, ``wait``, ``result``, ``stop`` (see :mod:`pipeline.sweep.local`).
    ctx : Context
        Paths and plugin options of the jobs.
    events : object
        ``started(kind, task)``, ``finished(kind, task, result)`` and ``tick()``; the display.
    """

    def __init__(self, plan: SweepPlan, backend: Any, ctx: Context, events: Any):
        self.plan, self.backend, self.ctx, self.events = plan, backend, ctx, events
        self.done: set[Node] = set(plan.cached)
        self.failed: dict[Node, str] = {}
        self.results: dict[int, dict[str, Any]] = {}
        self.computed: list[dict[str, Any]] = []       # the shared stage tasks, as they ran
        self._stages = dict(plan.stages)
        self._members = [m for m in plan.members if not m.cached]
        self._running: dict[Any, tuple[str, Any]] = {}
        # Members whose worker part is done, being finished here (report, run directory).
        self._client = cf.ThreadPoolExecutor(1, thread_name_prefix="sweep-report") \
            if getattr(backend, "out_of_process", False) else None
        self._finishing: dict[cf.Future, tuple[MemberTask, dict[str, Any]]] = {}

    def run(self) -> dict[int, dict[str, Any]]:
        """Run every task; returns ``{member index: result}`` (see :func:`pipeline.sweep.tasks.execute`)."""
        try:
            for task in [m for m in self.plan.members if m.cached]:  # all cached: no worker, no wait
                self._finish("member", task, execute(member_job(task, self.ctx)))
            while self._fill() or self._running or self._finishing:
                if not self._running and not self._finishing:  # tasks left, none ready or running: a bug
                    raise RuntimeError("sweep scheduler: tasks wait for inputs nothing computes")
                if self._running:
                    for future in self.backend.wait(list(self._running), TICK):
                        kind, task = self._running.pop(future)
                        self._finish(kind, task, self.backend.result(future), from_worker=True)
                else:
                    cf.wait(list(self._finishing), TICK, return_when=cf.FIRST_COMPLETED)
                self._collect_finished()
                self.events.tick()
        except BaseException:  # Ctrl-C, SIGTERM: stop every worker, keep what finished
            (self.ctx.progress_dir / STOP_FILE).touch()
            self.backend.stop()
            raise
        finally:
            if self._client is not None:
                self._client.shutdown(wait=True, cancel_futures=True)
        return self.results

    def _collect_finished(self) -> None:
        """Members this process has finished drawing: their results, worker part and report merged."""
        for future in [f for f in self._finishing if f.done()]:
            task, worker = self._finishing.pop(future)
            self._finish("member", task, merged(worker, future.result()))

    def _ready_stage(self) -> StageTask | None:
        for node, task in self._stages.items():
            if task.needs & set(self.failed):
                self._fail_stage(node, task)
                return self._ready_stage()
            if task.needs <= self.done:
                return self._stages.pop(node)
        return None

    def _fail_stage(self, node: Node, task: StageTask) -> None:
        self._stages.pop(node)
        self.failed[node] = next(self.failed[n] for n in task.needs if n in self.failed)

    def _ready_member(self) -> MemberTask | None:
        for task in list(self._members):
            broken = [n for n in task.needs if n in self.failed]
            if broken:
                self._members.remove(task)
                stage = broken[0][0]
                self._finish("member", task, {"status": "failed", "error": f"stage '{stage}' failed: "
                                              f"{self.failed[broken[0]]}", "metrics": {}, "stages": [],
                                              "seconds": 0.0, "warnings": [], "worker": None, "peak_mb": None})
            elif task.needs <= self.done:
                self._members.remove(task)
                return task
        return None

    def _fill(self) -> bool:
        """Hand ready tasks to free slots, shared stages first; False when nothing is left to start."""
        while len(self._running) < self.backend.slots:
            stage = self._ready_stage()
            if stage is not None:
                job = stage_job(stage, self.ctx, _upstream_keys(stage, self.plan))
                self._running[self.backend.submit(job)] = ("stage", stage)
                self.events.started("stage", stage)
                continue
            member = self._ready_member()
            if member is None:
                break
            job = member_job(member, self.ctx) if self._client is None else worker_part(member, self.ctx)
            self._running[self.backend.submit(job)] = ("member", member)
            self.events.started("member", member)
        return bool(self._stages or self._members)

    def _finish(self, kind: str, task: Any, result: dict[str, Any], from_worker: bool = False) -> None:
        if kind == "stage":
            status = {s["name"]: s["status"] for s in result["stages"]}.get(task.node[0])
            self.computed.append({"stage": task.node[0], "key": task.node[1], "status": status or result["status"],
                                  "members": len(task.members), "seconds": result["seconds"],
                                  "worker": result["worker"], "peak_mb": result["peak_mb"]})
            if result["status"] == "ok":
                self.done.add(task.node)
            else:
                self.failed[task.node] = result["error"]
        elif from_worker and self._client is not None and result["status"] == "ok":  # draw it here
            job = member_job(task, self.ctx, tuple(result["stages"]))
            self._finishing[self._client.submit(execute, job)] = (task, result)
            return
        else:
            self.results[task.member.index] = result
        self.events.finished(kind, task, result)
