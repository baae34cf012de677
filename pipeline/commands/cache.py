"""``pipeline cache info | clear [STAGE]``: what the cache holds, and emptying it."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "cache"
SHARED = ("cache", "output")
DESCRIPTION = ("`cache info` prints, per stage, how many entries the cache holds, their size and the key "
               "used last. `cache clear` deletes every entry (downloads are kept), `cache clear STAGE` "
               "only that stage's; it refuses while a run is using the cache.")
EXAMPLES = ("python -m pipeline cache info", "python -m pipeline cache clear train")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    cache = sub.add_parser(NAME, parents=[common], help="inspect or clear the cache")
    cache.add_argument("action", choices=("info", "clear"), help="info: entries and sizes per stage; "
                       "clear: delete entries")
    cache.add_argument("stage", nargs="?", help="clear only this stage")
    return cache


def run(s: Any) -> int:
    from pipeline.registry import get_stage

    cache = s.cache()
    if s.args.action == "clear":
        if s.args.stage:
            get_stage(s.args.stage)
        removed = cache.clear(s.args.stage)
        s.console.print(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.root}")
        return 0
    return info(s, cache)


def info(s: Any, cache: Any) -> int:
    """A table of entries and sizes per stage."""
    from rich.table import Table

    from pipeline.registry import STAGES

    table = Table(title=f"cache {cache.root}", title_justify="left")
    for column in ("stage", "entries", "MB", "latest key"):
        table.add_column(column, justify="right" if column in ("entries", "MB") else "left")
    total = 0
    for stage in STAGES:
        entries = cache.entries(stage.name)
        size = sum(cache.size_of(e) for e in entries)
        total += size
        latest = cache.latest(stage.name)
        table.add_row(stage.name, str(len(entries)), f"{size / 1e6:.1f}", latest.key[:12] if latest else "")
    s.console.print(table)
    s.console.print(f"total {total / 1e6:.1f} MB")
    return 0
