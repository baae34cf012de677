"""Crash-safe files: atomic writes, and sweeping what killed writers left behind.

A file is written to a temporary name in its own directory, fsynced, then
renamed over the final name, so a reader sees the old content or the new,
never a part. Temporary names say who writes them
(``.<name>~<pid>~<host>~<random>.tmp``): a name whose process is gone (or that
is older than :data:`STALE_SECONDS`) is debris and :func:`sweep` removes it,
while a live writer's file is left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import tempfile
import time
import zlib
from pathlib import Path

from pipeline.errors import DiskError

#: A temporary file or directory older than this is swept even if its writer's pid looks alive.
STALE_SECONDS = 24 * 3600
_HOST = socket.gethostname().replace("~", "-") or "localhost"


#: errno -> what it means for a writer, and what to do about it.
DISK_ERRORS = {
    errno.ENOSPC: ("disk full", "free some space (entries already in the cache are intact) or write "
                   "elsewhere with {hint}"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write elsewhere with {hint}"),
    errno.EROFS: ("read-only file system", "choose a writable directory with {hint}"),
}


def disk_error(exc: OSError, where: Path | str | None, hint: str = "--cache-dir DIR") -> DiskError | None:
    """The one-line :class:`DiskError` for a full or read-only disk, or None for any other ``OSError``.

    Parameters
    ----------
    exc : OSError
        What the write raised (``write()`` errors carry no file name, hence ``where``).
    where : path
        The file or directory being written.
    hint : str
        The option that writes elsewhere (``--cache-dir DIR``, ``--out DIR``).
    """
    if exc.errno not in DISK_ERRORS:
        return None
    what, advice = DISK_ERRORS[exc.errno]
    where = where or exc.filename or "a file (the system did not say which)"
    return DiskError(f"{what}: cannot write {where}; {advice.format(hint=hint)}")


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_prefix(name: str) -> str:
    """Prefix of a temporary name for ``name`` that says which live process owns it."""
    return f".{name}~{os.getpid()}~{_HOST}~"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


def is_abandoned(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file or directory left by a writer that is gone.

    True when its name has the :func:`tmp_prefix` form and either the writer's
    pid (on this host) no longer exists or it is older than :data:`STALE_SECONDS`.
    """
    parts = path.name.rsplit("~", 3)
    if len(parts) != 4 or not path.name.startswith(".") or not path.name.endswith(".tmp"):
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    if age > STALE_SECONDS:
        return True
    pid, host = parts[1], parts[2]
    return host == _HOST and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid))


def sweep(directory: Path) -> int:
    """Remove what killed writers left in ``directory`` (see :func:`is_abandoned`); returns the count."""
    try:
        names = [p for p in Path(directory).iterdir() if p.name.endswith(".tmp")]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    now = time.time()
    for path in names:
        if is_abandoned(path, now):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            removed += 1
    return removed


def remove_any(path: Path) -> None:
    """Remove whatever is at ``path`` (file, link or directory tree); nothing there is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            path.unlink()


def ensure_dir(path: Path, mode: int = 0o700) -> bool:
    """Make ``path`` a directory, replacing a file (or a link) found in its place.

    Returns
    -------
    bool
        True when something that was not a directory had to be removed: the caller may say so.
    """
    try:
        path.mkdir(mode=mode, exist_ok=True)
        return False
    except FileExistsError:  # a file where the directory belongs (damage, or a user's mix-up)
        pass
    remove_any(path)
    path.mkdir(mode=mode, exist_ok=True)  # another process may have repaired it first
    return True


def file_crc(path: Path) -> int:
    """CRC-32 of a whole file, read in 1 MiB blocks."""
    crc = 0
    with open(path, "rb", buffering=0) as f:
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return crc


def atomic_write(path: Path, data: bytes, mode: int | None = None, hint: str = "--cache-dir DIR") -> None:
    """Write ``data`` to ``path`` via a fsynced temporary file and a rename.

    ``mode`` sets the permissions of the result (default: the temporary file's 0600).

    Raises
    ------
    DiskError
        The disk is full or read-only (one line naming ``path`` and ``hint``); ``path`` is unchanged
        and no temporary file is left.
    """
    try:
        _atomic_write(Path(path), data, mode)
    except OSError as exc:
        error = disk_error(exc, path, hint)
        if error is None:
            raise
        raise error from None


def _atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=tmp_prefix(path.name), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
