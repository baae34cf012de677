"""``pipeline status``: per stage, cached / stale / missing for the current config, and why."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.cache.store import Cache, CorruptEntry
from pipeline.cache.keys import Plan, explain
from pipeline.registry import STAGES, Stage


@dataclass(frozen=True)
class StageStatus:
    """The state of one stage for the current config."""

    name: str
    state: str              # "cached", "stale" (an entry exists, for other inputs), "damaged", "missing"
                            # or "computing" (a run holds the entry's lock now)
    key: str
    reasons: tuple[str, ...]  # for "stale": what differs from the most recent entry


def stage_status(plan: Plan, cache: Cache, stages: tuple[Stage, ...] = STAGES) -> list[StageStatus]:
    """Compare each stage's current key with the cache.

    A stale stage is explained against the entry of that stage used most
    recently (like ``dvc status`` against the lock file).
    """
    found = []
    for stage in stages:
        key = plan.keys[stage.name]
        pid = cache.computing(stage.name, key)
        if pid is not None:
            who = f"a run going on now (pid {pid})" if pid else "a run going on now"
            found.append(StageStatus(stage.name, "computing", key, (f"being computed by {who}",)))
            continue
        try:
            entry = cache.find(stage.name, key)
            if entry is not None:
                entry.verify()  # sizes, and checksums of small files: as cheap as a cached run's check
                found.append(StageStatus(stage.name, "cached", key, ()))
                continue
        except CorruptEntry as exc:
            found.append(StageStatus(stage.name, "damaged", key, (f"{exc}; the next run recomputes it",)))
            continue
        latest = cache.latest(stage.name)
        if latest is None:
            entries = sorted(cache.entries(stage.name), key=lambda e: e.path.stat().st_mtime)
            latest = entries[-1] if entries else None
        if latest is None:
            found.append(StageStatus(stage.name, "missing", key, ("never computed",)))
        else:
            reasons = explain(latest.inputs, plan.inputs[stage.name]) or ["entry was removed"]
            found.append(StageStatus(stage.name, "stale", key, tuple(reasons)))
    return found
