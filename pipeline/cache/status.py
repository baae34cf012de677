"""``pipeline status``: per stage, cached / stale / missing for the current config, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.cache.entry import ENTRY_FILE, Entry
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
        latest, which = cache.latest(stage.name), "used last"
        if latest is None:
            entries = sorted(cache.entries(stage.name), key=lambda e: e.path.stat().st_mtime)
            latest, which = (entries[-1] if entries else None), "written last"
        if latest is None:
            found.append(StageStatus(stage.name, "missing", key, ("not in the cache (never computed, or cleared)",)))
        else:
            reasons = explain(latest.inputs, plan.inputs[stage.name]) or ["entry was removed"]
            # the entry's config may come from another --preset, --set or pipeline.toml: say which it is
            since = f"vs the entry {which} ({_when(latest)}): "
            found.append(StageStatus(stage.name, "stale", key, (since + reasons[0], *reasons[1:])))
    return _note_missing_inputs(found, plan)


def _when(entry: Entry) -> str:
    try:
        return datetime.fromtimestamp((entry.path / ENTRY_FILE).stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return "time unknown"


def _note_missing_inputs(found: list[StageStatus], plan: Plan) -> list[StageStatus]:
    """A cached stage whose input is not cached stays usable, but a run recomputes the input first."""
    state = {st.name: st.state for st in found}
    noted = []
    for st in found:
        upstream = plan.inputs[st.name].get("upstream", {})
        gone = [name for name in upstream if state.get(name, "cached") not in ("cached", "computing")]
        if st.state == "cached" and gone:
            st = StageStatus(st.name, st.state, st.key, (
                f"input {', '.join(gone)} {'is' if len(gone) == 1 else 'are'} not cached: a run recomputes "
                f"{'it' if len(gone) == 1 else 'them'} first (same key), then reuses this entry",))
        noted.append(st)
    return noted
