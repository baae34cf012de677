"""The cache: atomic entries, memory-mapped loads, corruption detection, permissions, locking."""

from __future__ import annotations

import os
import stat
import threading
import time

import numpy as np
import pytest

from pipeline.cache.gc import clear
from pipeline.cache.store import Cache, CorruptEntry
from pipeline.errors import CacheError


def _store(cache, key="k1", value=None):
    outputs = {"x": np.arange(12, dtype=np.float32).reshape(3, 4) if value is None else value, "meta": {"a": 1}}
    return cache.store("fetch", key, {"config": {"data.source": "digits"}}, outputs, seconds=0.5)


def test_store_then_lookup_loads_memory_mapped(cache_dir):
    cache = Cache(cache_dir)
    _store(cache)
    entry = cache.lookup("fetch", "k1")
    assert entry is not None and entry.inputs == {"config": {"data.source": "digits"}}
    x = entry.load("x")
    assert isinstance(x, np.memmap) and not x.flags.writeable
    np.testing.assert_array_equal(x, np.arange(12, dtype=np.float32).reshape(3, 4))
    assert dict(entry.outputs())["meta"] == {"a": 1}
    assert cache.lookup("fetch", "other") is None


def test_cache_dir_is_private_and_shared_dirs_are_refused(cache_dir):
    Cache(cache_dir)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    os.chmod(cache_dir, 0o777)
    with pytest.raises(CacheError, match="writable by other users"):
        Cache(cache_dir)


def test_unfinished_writes_are_invisible(cache_dir):
    cache = Cache(cache_dir)
    # what a killed writer leaves behind: a temporary directory, never the entry name
    half = cache_dir / "fetch" / ".k1.abc.tmp"
    half.mkdir(parents=True)
    (half / "0.joblib").write_bytes(b"partial")
    assert cache.lookup("fetch", "k1") is None
    assert cache.entries("fetch") == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete"])
def test_damaged_output_is_detected(cache_dir, damage):
    cache = Cache(cache_dir)
    entry = _store(cache)
    path = entry.path / entry.meta["outputs"]["x"]["file"]
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:40])
    elif damage == "garbage":
        path.write_bytes(os.urandom(path.stat().st_size))
    else:
        path.unlink()
    with pytest.raises(CorruptEntry):
        cache.lookup("fetch", "k1").load("x")


def test_garbage_entry_json_is_a_miss(cache_dir):
    cache = Cache(cache_dir)
    entry = _store(cache)
    (entry.path / "entry.json").write_text("{not json")
    assert cache.lookup("fetch", "k1") is None


def test_store_replaces_and_latest_pointer(cache_dir):
    cache = Cache(cache_dir)
    _store(cache, value=np.zeros(2))
    _store(cache, value=np.ones(2))
    np.testing.assert_array_equal(cache.lookup("fetch", "k1").load("x"), np.ones(2))
    assert cache.latest("fetch") is None
    cache.mark_latest("fetch", "k1")
    assert cache.latest("fetch").key == "k1"
    assert clear(cache) == 1 and cache.lookup("fetch", "k1") is None


def test_lock_serialises_writers(cache_dir):
    cache = Cache(cache_dir)
    order = []

    def worker(name):
        with cache.lock("train", "k"):
            order.append(f"{name} in")
            time.sleep(0.05)
            order.append(f"{name} out")

    threads = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order[0][0] == order[1][0] and order[2][0] == order[3][0]   # never interleaved
