"""``pipeline cache info | clear [STAGE] | gc --max-size SIZE``: what the cache holds, emptying it, trimming it."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "cache"
SHARED = ("cache", "output")
DESCRIPTION = ("`cache info` prints, per stage, how many entries the cache holds, their size and the key "
               "used last. `cache clear` deletes every entry (downloads are kept), `cache clear STAGE` "
               "only that stage's; it refuses while a run is using the cache. `cache gc --max-size SIZE` removes "
               "the least recently used entries until the cache fits (every hit records a use), also only "
               "while no run is using the cache.")
EXAMPLES = ("python -m pipeline cache info", "python -m pipeline cache clear train",
            "python -m pipeline cache gc --max-size 5GB")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    cache = sub.add_parser(NAME, parents=[common], help="inspect or clear the cache")
    cache.add_argument("action", choices=("info", "clear", "gc"), help="info: entries and sizes per stage; "
                       "clear: delete entries; gc: remove the least recently used down to --max-size")
    cache.add_argument("stage", nargs="?", help="clear only this stage")
    cache.add_argument("--max-size", metavar="SIZE", help="gc: remove the least recently used entries until "
                       "the cache fits in SIZE (e.g. 5GB, 500MB, 2GiB)")
    cache.add_argument("--dry-run", action="store_true", help="gc: only list what would be removed")
    return cache


def run(s: Any) -> int:
    from pipeline.cache.gc import clear
    from pipeline.registry import get_stage

    cache = s.cache()
    if s.args.action == "gc":
        return gc(s, cache)
    if s.args.action == "clear":
        if s.args.stage:
            get_stage(s.args.stage)
        removed = clear(cache, s.args.stage)
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
        size = sum(e.size() for e in entries)
        total += size
        latest = cache.latest(stage.name)
        table.add_row(stage.name, str(len(entries)), f"{size / 1e6:.1f}", latest.key[:12] if latest else "")
    s.console.print(table)
    s.console.print(f"total {total / 1e6:.1f} MB")
    return 0


#: Size suffixes of --max-size, in bytes (decimal as disks are sold, binary with "i").
UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9,
         "T": 10**12, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """``"5GB"`` -> 5_000_000_000; a bad size is a :class:`ConfigError` listing the units."""
    import re

    from pipeline.errors import ConfigError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text or "")
    if match is None or match.group(2).upper() not in UNITS:
        raise ConfigError(f"--max-size must be a size such as 5GB, 500MB or 2GiB, got '{text}'")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def gc(s: Any, cache: Any) -> int:
    """Remove least recently used entries until the cache fits in ``--max-size``."""
    from pipeline.cache.gc import collect
    from pipeline.errors import ConfigError

    if s.args.max_size is None:
        raise ConfigError("cache gc needs --max-size SIZE, e.g. `pipeline cache gc --max-size 5GB`")
    if s.args.stage:
        raise ConfigError("cache gc works on the whole cache; it takes no stage name")
    removed, left = collect(cache, parse_size(s.args.max_size), dry_run=s.args.dry_run)
    verb = "would remove" if s.args.dry_run else "removed"
    for entry, size in removed:
        s.console.print(f"{verb} {entry.meta['stage']}/{entry.key} ({size / 1e6:.1f} MB)", highlight=False)
    freed = sum(size for _, size in removed)
    s.console.print(f"{verb} {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} ({freed / 1e6:.1f} MB); "
                    f"{left / 1e6:.1f} MB left in {cache.root}", highlight=False)
    return 0
