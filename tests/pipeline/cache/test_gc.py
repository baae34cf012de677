"""``cache gc --max-size``: least recently used entries first (every hit records its use), never
while a run holds the cache."""

from __future__ import annotations

import os
import time

import pytest

from pipeline.cache.gc import collect
from pipeline.cache.store import Cache
from pipeline.commands.cache import parse_size
from pipeline.errors import CacheError, ConfigError
from pipeline.registry import stage_names


#: The stages a new train.lr recomputes.
TAIL = ("train", "evaluate", "export", "report")


def _keys(cache: Cache) -> dict[str, set[str]]:
    return {stage: {e.key for e in cache.entries(stage)} for stage in (*TAIL, "fetch")}


def _run(cli, fast_sets, lr):
    assert cli("run", "-q", *fast_sets, "--set", f"train.lr={lr}", "--out", f"out-{lr}").code == 0


def test_gc_removes_the_least_recently_used_entries_and_a_hit_counts_as_a_use(cli, fast_sets, cache_dir):
    _run(cli, fast_sets, 0.1)
    cache = Cache(cache_dir)
    first = _keys(cache)
    for entry in (e for stage in stage_names()
                  for e in cache.entries(stage)):
        os.utime(entry.path, (time.time() - 3600, time.time() - 3600))  # used an hour ago
    _run(cli, fast_sets, 0.05)       # new train/evaluate/export; the shared prefix is hit: used now
    second = {s: k - first[s] for s, k in _keys(cache).items()}
    assert all(len(second[s]) == 1 for s in TAIL) and not second["fetch"]
    sizes = {(e.meta["stage"], e.key): e.size() for s in stage_names() for e in cache.entries(s)}
    old_tail = sum(size for (stage, key), size in sizes.items() if key in first.get(stage, set())
                   and stage in TAIL)
    limit = sum(sizes.values()) - old_tail
    preview, _ = collect(cache, limit, dry_run=True)
    assert len(cache.entries("train")) == 2  # a dry run removes nothing
    removed, left = collect(cache, limit)
    assert [(e.meta["stage"], e.key) for e, _ in removed] == [(e.meta["stage"], e.key) for e, _ in preview]
    assert {(e.meta["stage"], e.key) for e, _ in removed} == {(s, k) for s in TAIL for k in first[s]}
    assert left == limit and _keys(cache)["fetch"] == first["fetch"]
    again = cli("run", "-q", *fast_sets, "--set", "train.lr=0.05", "--out", "again")  # all still cached
    assert again.code == 0


def test_gc_never_removes_anything_while_a_run_holds_the_cache(cli, fast_sets, cache_dir):
    _run(cli, fast_sets, 0.1)
    cache = Cache(cache_dir)
    before = _keys(cache)
    with cache.in_use():  # as every running pipeline (and sweep) holds it
        with pytest.raises(CacheError, match="in use by a running pipeline; nothing was removed"):
            collect(cache, 0)
        result = cli("cache", "gc", "--max-size", "0")
        assert result.code == 1 and result.err.count("\n") == 1
    assert _keys(cache) == before
    assert cli("cache", "gc", "--max-size", "0").code == 0
    assert not any(_keys(cache).values())


@pytest.mark.parametrize("text, size", [("5GB", 5 * 10**9), ("500MB", 5 * 10**8), ("2GiB", 2 * 2**30),
                                        ("1.5k", 1500), ("0", 0), ("12 mb", 12 * 10**6)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["5XB", "", "-1GB", "GB"])
def test_bad_sizes_are_config_errors(text):
    with pytest.raises(ConfigError, match="--max-size must be a size such as 5GB"):
        parse_size(text)
