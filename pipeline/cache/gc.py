"""Removing entries in bulk: ``cache gc`` (least recently used first) and ``cache clear``.

Both hold ``cache.lock`` exclusively (:meth:`~pipeline.cache.store.Cache.alone`), so they refuse
while any run holds it shared (:meth:`~pipeline.cache.store.Cache.in_use`): no entry a running
process reads or computes can go. Downloads are kept. The last use of an entry is its
directory's mtime, which every hit and every store sets
(:meth:`~pipeline.cache.store.Cache.record_use`).
"""

from __future__ import annotations

import shutil

from pipeline.cache.entry import Entry
from pipeline.cache.store import Cache


def collect(cache: Cache, max_bytes: int, dry_run: bool = False) -> tuple[list[tuple[Entry, int]], int]:
    """Remove the least recently used entries until the entries fit in ``max_bytes``.

    Parameters
    ----------
    cache : Cache
        The cache to trim.
    max_bytes : int
        What the entries may take on disk afterwards.
    dry_run : bool
        Only say what would be removed.

    Returns
    -------
    (list of (Entry, int), int)
        The entries removed (or, with ``dry_run``, that would be) with their sizes, and the
        bytes left.

    Raises
    ------
    CacheError
        A run is using the cache; nothing was removed.
    """
    from pipeline.registry import stage_names

    with cache.alone():
        found = [(e.path.stat().st_mtime, e, e.size()) for n in stage_names() for e in cache.entries(n)]
        total = sum(size for _, _, size in found)
        removed = []
        for _, entry, size in sorted(found, key=lambda t: t[0]):
            if total <= max_bytes:
                break
            if not dry_run:
                cache.discard(entry.meta["stage"], entry.key)
            removed.append((entry, size))
            total -= size
    return removed, total


def clear(cache: Cache, stage: str | None = None) -> int:
    """Delete every entry (of one stage, or all; downloads are kept). Returns entries removed.

    Raises
    ------
    CacheError
        A run is using the cache; nothing was removed.
    """
    from pipeline.registry import stage_names

    removed = 0
    with cache.alone():
        for name in [stage] if stage else stage_names():
            removed += len(cache.entries(name))
            shutil.rmtree(cache.stage_dir(name), ignore_errors=True)
    return removed
