"""What a sweep writes and shows at the end: ``sweep.json``, ``sweep.csv`` and the table of points.

``sweep.json`` is ``{"members": [{"overrides", "status", "run_dir", "metrics", "seconds",
"error"}, ...], ...}``: ``overrides`` holds only the keys the sweep varies, ``run_dir`` is
relative to the sweep directory, ``metrics`` the run's headline metrics. Around the members it
records the swept keys (``varying``), the shared stages computed once (``computed``: stage,
key, status, how many members use it), each worker's peak memory, and whether every member was
run (``complete``).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.cache.atomic import atomic_write
from pipeline.toml_io import toml_value

SEED = "train.seed"
HEADLINE = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")


def varying_keys(overrides: Sequence[Mapping[str, Any]]) -> list[str]:
    """The swept keys that take more than one value, in the order they were given."""
    keys = list(dict.fromkeys(k for o in overrides for k in o))
    return [k for k in keys if len({json.dumps(o.get(k), sort_keys=True) for o in overrides}) > 1]


def short_names(keys: Sequence[str]) -> dict[str, str]:
    """``train.lr -> lr`` unless two keys end the same way (then the dotted key stays)."""
    tails = [k.split(".")[-1] for k in keys]
    return {k: t if tails.count(t) == 1 else k for k, t in zip(keys, tails)}


def member_label(index: int, overrides: Mapping[str, Any], keys: Sequence[str]) -> str:
    """``03 lr=0.1 seed=43``: the member's number and its varying values."""
    names = short_names(keys)
    return " ".join([f"{index:02d}"] + [f"{names[k]}={toml_value(overrides[k])}" for k in keys])


def member_record(overrides: Mapping[str, Any], keys: Sequence[str], result: Mapping[str, Any],
                  run_dir: str) -> dict[str, Any]:
    """One entry of ``sweep.json``'s ``members``."""
    return {"overrides": {k: overrides[k] for k in keys}, "status": "ok" if result["status"] == "ok" else "failed",
            "run_dir": run_dir, "metrics": {k: v for k, v in result.get("metrics", {}).items() if k in HEADLINE},
            "seconds": round(float(result.get("seconds") or 0.0), 3), "error": result.get("error")}


def write(directory: Path, document: dict[str, Any]) -> None:
    """``sweep.json`` and ``sweep.csv`` (one row per member, one column per varying key), atomically."""
    atomic_write(directory / "sweep.json", (json.dumps(document, indent=2) + "\n").encode(), mode=0o644)
    keys = document["varying"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["run_dir", "status", *keys, *HEADLINE, "seconds", "error"])
    for m in document["members"]:
        writer.writerow([m["run_dir"], m["status"], *(toml_value(m["overrides"][k]) for k in keys),
                         *(m["metrics"].get(k, "") for k in HEADLINE), m["seconds"], m["error"] or ""])
    atomic_write(directory / "sweep.csv", out.getvalue().encode(), mode=0o644)


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def points(members: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per point (members equal but for ``train.seed``), best validation accuracy first.

    Each row: ``values`` (the point's varying keys but the seed), ``n``, ``failed``, ``val``
    and ``test`` as ``(mean, std)`` over the seeds that finished, ``seconds`` (mean), ``best``.
    """
    group_keys = [k for k in keys if k != SEED]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for m in members:
        groups.setdefault(json.dumps([m["overrides"].get(k) for k in group_keys]), []).append(m)
    rows = []
    for group in groups.values():
        ok = [m for m in group if m["status"] == "ok"]
        rows.append({"values": {k: group[0]["overrides"][k] for k in group_keys}, "n": len(group),
                     "failed": len(group) - len(ok),
                     "val": _mean_std([m["metrics"]["val_accuracy"] for m in ok
                                       if m["metrics"].get("val_accuracy") is not None]),
                     "test": _mean_std([m["metrics"]["test_accuracy"] for m in ok
                                        if m["metrics"].get("test_accuracy") is not None]),
                     "seconds": statistics.fmean(m["seconds"] for m in group), "best": False})
    rows.sort(key=lambda r: -1.0 if r["val"][0] is None else r["val"][0], reverse=True)
    if rows and rows[0]["val"][0] is not None:
        rows[0]["best"] = True
    return rows


def _cell(mean_std: tuple[float | None, float | None]) -> str:
    mean, std = mean_std
    if mean is None:
        return "-"
    return f"{mean:.4f}" + (f" ± {std:.4f}" if std is not None else "")


def table(document: Mapping[str, Any]) -> Any:
    """The closing rich table: varying keys only, mean ± std over seeds, sorted, the best marked."""
    from rich.table import Table

    keys = document["varying"]
    rows = points(document["members"], keys)
    seeds = max((r["n"] for r in rows), default=1)
    names = short_names([k for k in keys if k != SEED])
    out = Table(title=f"sweep {document['out']}: {len(document['members'])} members", title_justify="left")
    out.add_column("")
    for key in names:
        out.add_column(names[key])
    out.add_column("val accuracy" + (" (mean ± std)" if seeds > 1 else ""), justify="right")
    out.add_column("test accuracy", justify="right")
    if seeds > 1:
        out.add_column("seeds", justify="right")
    out.add_column("seconds", justify="right")
    out.add_column("status")
    for r in rows:
        status = "[green]ok[/]" if not r["failed"] else f"[red]{r['failed']} failed[/]"
        cells = ["[bold green]best[/]" if r["best"] else "", *(toml_value(r["values"][k]) for k in names),
                 _cell(r["val"]), _cell(r["test"])]
        cells += [str(r["n"])] if seeds > 1 else []
        out.add_row(*cells, f"{r['seconds']:.1f}", status, style="bold" if r["best"] else None)
    return out
