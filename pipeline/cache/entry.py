"""One cache entry: its record (``entry.json``) and its outputs, checked and loaded lazily.

``entry.json`` records each output file's size and CRC-32. A cache hit checks
the sizes and the checksums of small files; a file is checked in full before
it is unpickled, so a truncated or damaged entry raises :class:`CorruptEntry`
instead of being loaded. Arrays are memory-mapped read-only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline.cache.atomic import file_crc

ENTRY_FILE = "entry.json"
#: Files up to this size are checksummed on every cache hit; larger ones when loaded.
SMALL_FILE = 1 << 20


class CorruptEntry(Exception):
    """A cache entry exists but cannot be read back (truncated, garbage, missing file)."""


class Entry:
    """One stored stage output, read lazily."""

    def __init__(self, path: Path, meta: dict[str, Any]):
        self.path = path
        self.meta = meta
        self.problem: str | None = None  # why loading it failed, if it did
        self._verified: set[str] = set()

    @property
    def key(self) -> str:
        return self.meta["key"]

    @property
    def inputs(self) -> dict[str, Any]:
        """The key's inputs, as recorded when the entry was written."""
        return self.meta["inputs"]

    def _check_file(self, name: str, deep: bool) -> Path:
        """Path of output ``name`` after checking its size, and its CRC-32 when small or ``deep``."""
        info = self.meta["outputs"].get(name)
        if not isinstance(info, dict) or not {"file", "size", "crc32"} <= set(info):
            raise CorruptEntry(f"{self.path / ENTRY_FILE}: no valid record of output '{name}'")
        path = self.path / str(info["file"])
        try:
            size = path.stat().st_size
            if size != info["size"]:
                raise CorruptEntry(f"{path}: {size} bytes, {info['size']} expected (truncated or overwritten)")
            if name not in self._verified and (deep or size <= SMALL_FILE):
                if file_crc(path) != info["crc32"]:
                    raise CorruptEntry(f"{path}: checksum mismatch (damaged file)")
                self._verified.add(name)
        except FileNotFoundError:
            raise CorruptEntry(f"{path}: file missing") from None
        except OSError as exc:
            raise CorruptEntry(f"{path}: cannot be read ({exc.strerror or exc})") from None
        return path

    def verify(self, deep: bool = False) -> None:
        """Check a cache hit: every file present with its size, small files (all when ``deep``)
        checksummed.

        Raises
        ------
        CorruptEntry
            Naming the first damaged file.
        """
        for name in self.meta["outputs"]:
            self._check_file(name, deep)

    def load(self, name: str) -> Any:
        """Load one output after checking its CRC-32; arrays are memory-mapped read-only.

        Raises
        ------
        CorruptEntry
            When the file is missing, has the wrong size or checksum, or cannot be unpickled.
        """
        import joblib

        path = self._check_file(name, deep=True)
        try:
            return joblib.load(path, mmap_mode="r")
        except Exception as exc:  # unpickling garbage can raise nearly anything
            raise CorruptEntry(f"{path}: {type(exc).__name__}: {exc}") from exc

    def outputs(self) -> LazyOutputs:
        """All outputs as a mapping that loads each on first access."""
        return LazyOutputs(self)

    def size(self) -> int:
        """Bytes on disk of this entry (its files, ``entry.json`` included)."""
        return sum(p.stat().st_size for p in self.path.iterdir())


class LazyOutputs(Mapping):
    """Read-only mapping of an entry's outputs, each loaded on first access."""

    def __init__(self, entry: Entry):
        self._entry = entry
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in self._entry.meta["outputs"]:
                raise KeyError(name)
            self._loaded[name] = self._entry.load(name)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entry.meta["outputs"])

    def __len__(self) -> int:
        return len(self._entry.meta["outputs"])
