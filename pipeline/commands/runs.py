"""``pipeline runs [list] | diff A B | prune --keep N``: the runs and sweeps under ``runs/``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

NAME = "runs"
DESCRIPTION = ("The runs and sweeps under runs/: `runs` lists them newest first, `runs diff A B` shows the "
               "config keys that differ and the metric deltas, `runs prune --keep N` removes all but the N "
               "newest (never runs/latest, a running sweep or a member of a kept sweep).")
EXAMPLES = ("python -m pipeline runs", "python -m pipeline runs diff latest runs/lr-sweep/01-lr=0.1 --per-class",
            "python -m pipeline runs prune --keep 20 --yes")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    runs = sub.add_parser(NAME, parents=[common], help="list, compare (diff A B) or prune (--keep N) runs and sweeps")
    runs.add_argument("action", nargs="?", choices=("list", "diff", "prune"), default="list")
    runs.add_argument("targets", nargs="*", metavar="RUN", help="diff: two run directories (paths or names "
                      "under runs/, e.g. latest or SWEEP/MEMBER)")
    runs.add_argument("--dir", default="runs", metavar="DIR", help="where runs live (default: runs)")
    runs.add_argument("--per-class", action="store_true", help="diff: per-class precision, recall and F1 deltas")
    runs.add_argument("--keep", type=int, metavar="N", help="prune: keep the N newest runs and sweeps")
    runs.add_argument("--yes", "-y", action="store_true", help="prune without asking")
    return runs


def run(s: Any) -> int:
    from pipeline.errors import ConfigError

    a = s.args
    if a.action != "diff" and a.targets:
        raise ConfigError(f"runs {a.action} takes no run names (got {' '.join(a.targets)}); "
                          f"use `runs diff A B` to compare two")
    return {"list": _list, "diff": _diff, "prune": _prune}[a.action](s, Path(a.dir))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _value(value: Any) -> str:
    from pipeline.toml_io import toml_value

    return "*" if value == "swept" else toml_value(value).replace('"', "")


def _acc(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def _list(s: Any, root: Path) -> int:
    from rich.markup import escape
    from rich.table import Table

    from pipeline.runs import discover
    from pipeline.sweep.summary import short_names

    infos = discover(root)
    if not infos:
        s.console.print(f"no runs under {root}/ yet; start one with `pipeline run` or `pipeline sweep`")
        return 0
    table = Table(title=f"{len(infos)} runs and sweeps in {root}/, newest first (config: keys that differ from "
                  f"the defaults, * swept)", title_justify="left")
    for column in ("time", "name", "kind", "config", "val acc", "test acc", "s", "status"):
        table.add_column(column, justify="right" if column in ("val acc", "test acc", "s") else "left",
                         no_wrap=column != "config", min_width=16 if column == "config" else None)
    for r in infos:
        names = short_names(list(r.changes))
        changes = " ".join(f"{names[k]}={_value(v)}" for k, v in r.changes.items())
        kind = f"sweep×{r.members}" if r.kind == "sweep" else "run"
        style = "green" if r.status == "ok" else "red" if "failed" in r.status else "yellow"
        table.add_row(datetime.fromtimestamp(r.time).strftime("%m-%d %H:%M"), escape(r.path.name), kind,
                      escape(changes) or "defaults", _acc(r.metrics.get("val_accuracy")),
                      _acc(r.metrics.get("test_accuracy")), "-" if r.seconds is None else f"{r.seconds:.0f}",
                      f"[{style}]{r.status}[/]")
    s.console.print(table)
    return 0


def _diff(s: Any, root: Path) -> int:
    from rich.markup import escape
    from rich.table import Table

    from pipeline.errors import ConfigError
    from pipeline.runs import diff, resolve

    if len(s.args.targets) != 2:
        raise ConfigError(f"runs diff takes two runs, got {len(s.args.targets)}; e.g. `pipeline runs diff "
                          f"latest runs/sweep-.../01-lr=0.1`")
    a, b = (resolve(t, root) for t in s.args.targets)
    d = diff(a, b, s.args.per_class)
    s.console.print(f"A = {a}\nB = {b}", highlight=False)
    config = Table(title="config", title_justify="left")
    for column in ("key", "A", "B"):
        config.add_column(column)
    for key, x, y in d["config"]:
        config.add_row(key, escape(_fmt(x)), escape(_fmt(y)))
    s.console.print(config if d["config"] else "config: identical")
    metrics = Table(title="metrics", title_justify="left")
    for column in ("metric", "A", "B", "B - A"):
        metrics.add_column(column, justify="left" if column == "metric" else "right")
    for name, x, y, delta in d["metrics"]:
        metrics.add_row(name, _fmt(x), _fmt(y), "-" if delta is None else f"{delta:+.4f}")
    s.console.print(metrics)
    if s.args.per_class:
        per = Table(title="per class", title_justify="left")
        for column in ("split", "class", "metric", "A", "B", "B - A"):
            per.add_column(column, justify="right" if column in ("A", "B", "B - A") else "left")
        for split, cls, metric, x, y, delta in d["per_class"]:
            if delta:
                per.add_row(split, cls, metric, _fmt(x), _fmt(y), f"{delta:+.4f}")
        s.console.print(per if per.row_count else "per class: no differences")
    return 0


def _prune(s: Any, root: Path) -> int:
    from pipeline.errors import ConfigError
    from pipeline.runs import prune_plan, remove

    if s.args.keep is None:
        raise ConfigError("runs prune needs --keep N (how many of the newest runs and sweeps to keep)")
    doomed, spared = prune_plan(root, s.args.keep)
    for info, reason in spared:
        s.console.print(f"keeping {info.path} ({reason})", highlight=False)
    if not doomed:
        s.console.print("nothing to prune")
        return 0
    names = ", ".join(i.path.name for i in doomed)
    if not s.args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(f"runs prune would remove {len(doomed)} director{'y' if len(doomed) == 1 else 'ies'} "
                              f"({names}); pass --yes to confirm")
        answer = input(f"remove {len(doomed)} run/sweep directories ({names})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            s.console.print("nothing removed")
            return 0
    remove(doomed, root)
    s.console.print(f"removed {len(doomed)} director{'y' if len(doomed) == 1 else 'ies'} from {root}/",
                    highlight=False)
    return 0
