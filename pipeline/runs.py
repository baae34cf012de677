"""The runs and sweeps under ``runs/``: listing them, comparing two runs, pruning old ones.

A run directory holds ``run.json`` (written last, so its presence means the run finished); a
sweep directory holds ``sweep.json`` and one run directory per member. ``prune`` removes whole
top-level entries only, so a member of a kept sweep is never touched, and it keeps the target
of ``runs/latest``, a sweep that is still running (it holds its lock) and a run directory
without ``run.json`` younger than :data:`RECENT` seconds (it may still be running).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cache.locks import held
from pipeline.errors import ConfigError

#: A run directory without run.json that changed more recently than this may belong to a running run.
RECENT = 3600.0
SWEEP_LOCK = ".sweep.lock"  # pipeline.sweep.sweeper.LOCK_FILE (not imported: runs stays light)
HEADLINE = ("val_accuracy", "test_accuracy", "val_loss", "test_loss")


@dataclass
class RunInfo:
    """One entry of ``runs/``: a run or a sweep."""

    path: Path
    kind: str                       # "run" or "sweep"
    time: float                     # when it finished (or last changed)
    status: str                     # "ok", "failed", "N failed", "incomplete", "interrupted"
    changes: dict[str, Any] = field(default_factory=dict)  # config keys that differ from the defaults
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    members: int = 0


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def defaults() -> dict[str, Any]:
    """Every config key's default, as run.json writes it."""
    from pipeline.config import Config

    return Config().flat()


def flat_config(record: dict[str, Any]) -> dict[str, Any]:
    """``{"section.key": value}`` of a run record's config."""
    return {f"{s}.{k}": v for s, keys in record.get("config", {}).items() for k, v in keys.items()}


def _run_info(path: Path, default: dict[str, Any]) -> RunInfo:
    record = _json(path / "run.json")
    if record is None:
        return RunInfo(path, "run", path.stat().st_mtime, "incomplete")
    changes = {k: v for k, v in flat_config(record).items() if default.get(k) != v}
    seconds = sum(s.get("seconds", 0.0) for s in record.get("stages", []))
    return RunInfo(path, "run", (path / "run.json").stat().st_mtime, "ok", changes, record.get("metrics", {}),
                   seconds)


def _sweep_info(path: Path) -> RunInfo:
    doc = _json(path / "sweep.json") or {}
    members = doc.get("members", [])
    failed = sum(1 for m in members if m.get("status") != "ok")
    status = "interrupted" if not doc.get("complete", True) else (f"{failed} failed" if failed else "ok")
    ok = [m for m in members if m.get("status") == "ok" and m.get("metrics", {}).get("val_accuracy") is not None]
    best = max(ok, key=lambda m: m["metrics"]["val_accuracy"], default={"metrics": {}})
    changes = dict(doc.get("base", {})) | {k: "swept" for k in doc.get("varying", [])}
    return RunInfo(path, "sweep", (path / "sweep.json").stat().st_mtime, status, changes, best["metrics"],
                   doc.get("seconds"), len(members))


def discover(root: Path = Path("runs")) -> list[RunInfo]:
    """Every run and sweep directly under ``root``, newest first (``latest`` is a link, not listed)."""
    if not root.is_dir():
        return []
    default = defaults()
    found = []
    for path in root.iterdir():
        if path.is_symlink() or not path.is_dir() or path.name.startswith("."):
            continue
        found.append(_sweep_info(path) if (path / "sweep.json").exists() else _run_info(path, default))
    return sorted(found, key=lambda r: r.time, reverse=True)


def resolve(name: str, root: Path = Path("runs")) -> Path:
    """A run given as a path, or as a name under ``root`` (``latest``, ``20260101-120000``, ``SWEEP/MEMBER``)."""
    for candidate in (Path(name), root / name):
        if (candidate / "run.json").is_file():
            return candidate
    raise ConfigError(f"'{name}' is not a finished run directory (no run.json there or under {root}/); "
                      f"see `pipeline runs` for the runs")


def diff(a: Path, b: Path, per_class: bool = False) -> dict[str, Any]:
    """What differs between two runs: config keys, headline metric deltas, per-class deltas.

    Returns
    -------
    dict
        ``config``: ``[(key, value in a, value in b)]`` for the keys that differ;
        ``metrics``: ``[(name, a, b, b - a)]``; ``per_class`` (when asked): ``[(split, class,
        metric, a, b, b - a)]`` for precision, recall and F1 from ``metrics.json``.
    """
    ra, rb = _json(a / "run.json") or {}, _json(b / "run.json") or {}
    ca, cb = flat_config(ra), flat_config(rb)
    config = [(k, ca.get(k), cb.get(k)) for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)]
    ma, mb = ra.get("metrics", {}), rb.get("metrics", {})
    metrics = [(k, ma.get(k), mb.get(k), _delta(ma.get(k), mb.get(k))) for k in HEADLINE if k in ma or k in mb]
    out: dict[str, Any] = {"config": config, "metrics": metrics}
    if per_class:
        out["per_class"] = _per_class(_json(a / "metrics.json") or {}, _json(b / "metrics.json") or {})
    return out


def _delta(x: Any, y: Any) -> float | None:
    return y - x if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None


def _per_class(ma: dict[str, Any], mb: dict[str, Any]) -> list[tuple]:
    rows = []
    for split in ("val", "test"):
        a_rows = {str(r["class"]): r for r in (ma.get("per_class", {}).get(split) or [])}
        b_rows = {str(r["class"]): r for r in (mb.get("per_class", {}).get(split) or [])}
        for cls in sorted(set(a_rows) | set(b_rows), key=lambda c: (len(c), c)):
            for metric in ("precision", "recall", "f1"):
                x, y = a_rows.get(cls, {}).get(metric), b_rows.get(cls, {}).get(metric)
                rows.append((split, cls, metric, x, y, _delta(x, y)))
    return rows


def protected(info: RunInfo, root: Path, now: float | None = None) -> str | None:
    """Why ``prune`` must keep ``info`` whatever its age, or None."""
    latest = root / "latest"
    if latest.is_symlink() and latest.resolve() == info.path.resolve():
        return "runs/latest points at it"
    if info.kind == "sweep" and held(info.path / SWEEP_LOCK):
        return "the sweep is running"
    if info.status == "incomplete" and (now or time.time()) - info.time < RECENT:
        return "no run.json yet: it may still be running"
    return None


def prune_plan(root: Path, keep: int) -> tuple[list[RunInfo], list[tuple[RunInfo, str]]]:
    """``(to remove, kept for a reason)``: all but the ``keep`` newest, minus the protected ones."""
    if keep < 0:
        raise ConfigError(f"--keep must be 0 or more, got {keep}")
    remove, spared = [], []
    for info in discover(root)[keep:]:
        reason = protected(info, root)
        if reason:
            spared.append((info, reason))
        else:
            remove.append(info)
    return remove, spared


def remove(infos: list[RunInfo], root: Path) -> None:
    """Delete the given run and sweep directories (checked once more against :func:`protected`)."""
    for info in infos:
        if protected(info, root) is None:
            shutil.rmtree(info.path)
