"""The stage cache: one directory per (stage, key), written atomically with joblib.

Layout::

    <root>/<stage>/<key>/entry.json      inputs of the key, output list, seconds
    <root>/<stage>/<key>/<output>.joblib one joblib file per output
    <root>/<stage>/LATEST                key of the entry used most recently
    <root>/locks/<stage>-<key>.lock      held while an entry is being computed; holds the pid
                                         of the computing run (``status``, waiting runs)
    <root>/locks/cache.lock              shared by running pipelines; ``clear`` needs it alone
    <root>/downloads/                    data_home of the fetch stage

An entry is built in a temporary sibling directory, every file fsynced, then
renamed into place: a reader sees a whole entry or none. Temporary names carry
the writer's pid and host (``.<name>~<pid>~<host>~<random>.tmp``), so what a
killed writer left behind is recognised and swept without racing a live one.
``entry.json`` records each file's size and CRC-32: a hit checks the sizes and
the checksums of small files, and a file is checked in full before it is
loaded, so a truncated or damaged entry is reported and recomputed, never
unpickled. Any other damage (a ``LATEST`` of garbage, a file where ``locks/``,
``downloads/`` or a stage directory belongs, a directory where a lock file or
``LATEST`` belongs) is repaired and reported through :attr:`Cache.on_repair`. A
full or read-only disk is one :class:`~pipeline.errors.DiskError` line.
Arrays are loaded memory-mapped, so a cached stage costs nothing until its
outputs are used.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline.cache.atomic import (atomic_write, disk_error, ensure_dir, file_crc, fsync_dir, remove_any, sweep,
                                   tmp_prefix)
from pipeline.cache.entry import ENTRY_FILE, CorruptEntry, Entry
from pipeline.cache.locks import flock, holder_of
from pipeline.errors import CacheError

__all__ = ["Cache", "CorruptEntry", "Entry", "atomic_write", "default_cache_dir", "sweep"]

#: Bumped when the layout changes; part of every key. 2: per-file CRC-32 in entry.json.
CACHE_FORMAT = 2


def default_cache_dir() -> Path:
    """``$PIPELINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pipeline``, else ``~/.cache/pipeline``."""
    if os.environ.get("PIPELINE_CACHE_DIR"):
        return Path(os.environ["PIPELINE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pipeline"


class Cache:
    """Stage outputs on disk, keyed by stage name and key.

    Parameters
    ----------
    root : path
        Cache directory; created with owner-only permissions (0700) because
        joblib files are pickles, which run code when loaded.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().absolute()
        #: Called with one line when damaged bookkeeping (not an entry) had to be replaced.
        self.on_repair: Callable[[str], None] = lambda message: None
        self._ensure_root()

    def _dir(self, path: Path) -> Path:
        """``path`` as a directory, replacing (and reporting) a file found in its place."""
        if ensure_dir(path):
            self.on_repair(f"{path} was not a directory; replaced it with an empty one")
        return path

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError:
            raise CacheError(f"cache directory '{self.root}' is a file, not a directory; move it away, or "
                             f"choose another with --cache-dir or PIPELINE_CACHE_DIR") from None
        except OSError as exc:
            raise CacheError(f"cache directory '{self.root}' cannot be created: {exc.strerror}; "
                             f"choose another with --cache-dir or PIPELINE_CACHE_DIR") from None
        info = self.root.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise CacheError(f"refusing to use cache directory '{self.root}': it is writable by other users "
                             f"or owned by someone else, and cached files are pickles that run code when "
                             f"loaded; fix with `chmod 700 {self.root}` or use --cache-dir")

    @property
    def data_home(self) -> Path:
        """Where downloads are kept (the fetch stage's ``data_home``)."""
        return self._dir(self.root / "downloads")

    def stage_dir(self, stage: str) -> Path:
        """``<root>/<stage>``: the stage's entries and its ``LATEST`` (may not exist yet)."""
        return self.root / stage

    def find(self, stage: str, key: str) -> Entry | None:
        """The entry for ``(stage, key)``, or None when there is none.

        Raises
        ------
        CorruptEntry
            The entry directory exists but its ``entry.json`` is missing, unreadable or wrong.
        """
        path = self.stage_dir(stage) / key
        try:
            meta = json.loads((path / ENTRY_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            if path.is_dir():
                raise CorruptEntry(f"{path}: {ENTRY_FILE} is missing") from None
            return None
        except (OSError, ValueError) as exc:
            raise CorruptEntry(f"{path / ENTRY_FILE}: unreadable ({type(exc).__name__})") from None
        if not (isinstance(meta, dict) and meta.get("key") == key and isinstance(meta.get("outputs"), dict)
                and isinstance(meta.get("inputs"), dict)):
            raise CorruptEntry(f"{path / ENTRY_FILE}: not the record of entry {key}")
        return Entry(path, meta)

    def has(self, stage: str, key: str) -> bool:
        """Whether an entry for ``(stage, key)`` exists (one ``stat``; not checked)."""
        return (self.stage_dir(stage) / key / ENTRY_FILE).exists()

    def lookup(self, stage: str, key: str) -> Entry | None:
        """The entry for ``(stage, key)``, or None; a damaged ``entry.json`` counts as none."""
        try:
            return self.find(stage, key)
        except CorruptEntry:
            return None

    def latest(self, stage: str) -> Entry | None:
        """The entry of ``stage`` used most recently, whatever its key."""
        try:
            key = (self.stage_dir(stage) / "LATEST").read_bytes().decode("ascii").strip()
        except (OSError, UnicodeDecodeError):  # missing, a directory, or garbage: no pointer
            return None
        if not key.isalnum():  # damaged: never let it name a path outside the stage directory
            return None
        return self.lookup(stage, key)

    def sweep(self, stage: str) -> int:
        """Remove what killed writers left in the stage's directory; returns the count."""
        return sweep(self.stage_dir(stage))

    def mark_latest(self, stage: str, key: str) -> None:
        """Remember ``key`` as the entry of ``stage`` used most recently (no write when unchanged)."""
        path = self.stage_dir(stage) / "LATEST"
        try:
            if path.read_bytes() == key.encode():
                return
        except IsADirectoryError:  # damaged: rename cannot replace a directory
            remove_any(path)
        except OSError:
            pass  # absent or unreadable: write it
        atomic_write(path, key.encode())

    def record_use(self, stage: str, key: str) -> None:
        """Note that ``(stage, key)`` was just used (hit or computed): its directory's mtime,
        which ``cache gc`` reads as the last use (nothing inside an entry changes after it is stored)."""
        with contextlib.suppress(FileNotFoundError):  # discarded meanwhile: nothing to note
            os.utime(self.stage_dir(stage) / key)

    def _flock(self, name: str, operation: int, on_wait: Callable[[int | None], None] | None = None,
               ) -> contextlib.AbstractContextManager[None]:
        """Hold ``flock(operation)`` on ``<root>/locks/<name>`` (see :func:`pipeline.cache.locks.flock`)."""
        return flock(self._dir(self.root / "locks") / name, operation, on_wait)

    def lock(self, stage: str, key: str, on_wait: Callable[[int | None], None] | None = None,
             ) -> contextlib.AbstractContextManager[None]:
        """Hold an exclusive lock on ``(stage, key)``, so concurrent runs compute it once.

        ``on_wait(pid)`` is called first when another run holds it (pid of that run, or None).
        """
        return self._flock(f"{stage}-{key}.lock", fcntl.LOCK_EX, on_wait)

    def computing(self, stage: str, key: str) -> int | None:
        """The pid of the run computing ``(stage, key)`` right now (0 when unknown), or None."""
        return holder_of(self.root / "locks" / f"{stage}-{key}.lock")

    def in_use(self) -> contextlib.AbstractContextManager[None]:
        """Held, shared, by every run from start to end, so that ``cache clear`` and ``cache gc``
        (:mod:`pipeline.cache.gc`) cannot pull entries from under it (runs share it with each other)."""
        self.check_writable()
        return self._flock("cache.lock", fcntl.LOCK_SH)

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """Hold ``cache.lock`` exclusively, or raise :class:`CacheError` when a run holds it."""
        try:
            with self._flock("cache.lock", fcntl.LOCK_EX | fcntl.LOCK_NB):
                yield
        except BlockingIOError:
            raise CacheError(f"cache '{self.root}' is in use by a running pipeline; nothing was removed; "
                             f"try again when that run has finished") from None

    def check_writable(self) -> None:
        """Raise :class:`DiskError` (one line, hint ``--cache-dir``) when the cache cannot be written,
        e.g. a read-only mount (where permission bits do not stop root, but the file system does)."""
        try:
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=tmp_prefix("probe"), suffix=".tmp")
        except OSError as exc:
            error = disk_error(exc, f"cache directory {self.root}") or CacheError(
                f"cache directory '{self.root}' cannot be written: {exc.strerror}; "
                f"choose another with --cache-dir DIR or PIPELINE_CACHE_DIR")
            raise error from None
        os.close(fd)
        os.unlink(probe)

    def store(self, stage: str, key: str, inputs: dict[str, Any], outputs: Mapping[str, Any],
              seconds: float) -> Entry:
        """Write an entry atomically, replacing one with the same key.

        Parameters
        ----------
        inputs : dict
            The key's inputs (JSON-able), kept for ``status`` explanations.
        outputs : mapping of str to object
            The stage's outputs, each dumped to its own joblib file.
        seconds : float
            How long the stage took to compute.
        """
        import joblib

        stage_dir = self._dir(self.stage_dir(stage))
        sweep(stage_dir)
        tmp = Path(tempfile.mkdtemp(dir=stage_dir, prefix=tmp_prefix(key), suffix=".tmp"))
        try:
            files = {}
            for i, (name, value) in enumerate(outputs.items()):
                path = tmp / f"{i}.joblib"
                joblib.dump(value, path)
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
                files[name] = {"file": path.name, "size": path.stat().st_size, "crc32": file_crc(path)}
            meta = {"format": CACHE_FORMAT, "stage": stage, "key": key, "inputs": inputs,
                    "outputs": files, "seconds": seconds, "writer": tmp.name}  # unique: tells rewrites apart
            atomic_write(tmp / ENTRY_FILE, json.dumps(meta, indent=1, default=str).encode())
            self._move_into_place(tmp, stage_dir / key)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            error = disk_error(exc, f"the cache entry of stage '{stage}' in {stage_dir}") \
                if isinstance(exc, OSError) else None
            if error is None:
                raise
            raise error from None
        return Entry(stage_dir / key, meta)

    def _move_into_place(self, tmp: Path, final: Path) -> None:
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=tmp_prefix(final.name), suffix=".tmp"))
            os.rename(final, old / final.name)
        os.rename(tmp, final)
        fsync_dir(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self, stage: str, key: str) -> None:
        """Remove one entry (used when it turned out to be corrupt): renamed away first, so a
        concurrent reader sees the whole entry or none of it."""
        path = self.stage_dir(stage) / key
        if not path.exists():
            return
        trash = Path(tempfile.mkdtemp(dir=path.parent, prefix=tmp_prefix(key), suffix=".tmp"))
        with contextlib.suppress(FileNotFoundError):  # another process discarded it first
            os.rename(path, trash / key)
        shutil.rmtree(trash, ignore_errors=True)

    def entries(self, stage: str) -> list[Entry]:
        """Every readable entry of ``stage``."""
        stage_dir = self.stage_dir(stage)
        if not stage_dir.is_dir():
            return []
        found = [self.lookup(stage, p.name) for p in stage_dir.iterdir()
                 if not p.name.startswith(".") and p.name != "LATEST"]
        return [e for e in found if e is not None]
