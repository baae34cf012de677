"""File locks that say who holds them: ``flock`` plus the holder's pid written into the file.

A run computing an entry holds an exclusive lock on ``locks/<stage>-<key>.lock``
and writes its pid there, so a second run can say what it waits for
(``waiting for another run computing 'train' (pid 1234)``) and ``status`` can
show which stages a running pipeline is computing. The kernel drops a lock
when its holder dies, so a stale pid in a file that nobody holds means nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipeline.cache.atomic import remove_any


@contextlib.contextmanager
def flock(path: Path, operation: int, on_wait: Callable[[int | None], None] | None = None) -> Iterator[None]:
    """Hold ``flock(operation)`` on ``path`` (raises BlockingIOError when ``operation`` has LOCK_NB).

    With ``on_wait``, the lock is tried first without blocking; if another process holds it,
    ``on_wait`` gets that process's pid (None when unknown) before this one blocks. The
    holder of an exclusive lock writes its own pid into the file.
    """
    try:
        handle = open(path, "a+b", buffering=0)  # unbuffered: nothing left to flush (and fail) on close
    except IsADirectoryError:  # damaged; a directory cannot be a held lock, so removing it is safe
        remove_any(path)
        handle = open(path, "a+b", buffering=0)  # unbuffered: nothing left to flush (and fail) on close
    with handle:
        if on_wait is not None:
            try:
                fcntl.flock(handle, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait(_holder_pid(handle))
                fcntl.flock(handle, operation)
        else:
            fcntl.flock(handle, operation)
        exclusive = bool(operation & fcntl.LOCK_EX)
        try:
            if exclusive:
                with contextlib.suppress(OSError):  # only informative: a full disk must not stop the run here
                    handle.truncate(0)  # O_APPEND: the write lands at the start of the emptied file
                    handle.write(str(os.getpid()).encode())
                    handle.flush()
            yield
        finally:
            if exclusive:  # emptied before release: a pid in the file is always its holder's
                with contextlib.suppress(OSError):
                    handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def holder_of(path: Path) -> int | None:
    """The pid of the process holding ``path`` exclusively now (0 when it wrote none), or None."""
    with _probe(path, fcntl.LOCK_SH) as busy:  # a shared probe: only an exclusive holder blocks it
        return None if busy is None else _pid_in(busy) or 0


def held(path: Path) -> bool:
    """Whether any process holds ``path`` now, shared or exclusively; never waits, never creates it.

    For locks held shared (``cache.lock`` by every running pipeline, a sweep's ``.sweep.lock``),
    which :func:`holder_of` does not see.
    """
    with _probe(path, fcntl.LOCK_EX) as busy:  # an exclusive probe: any holder blocks it
        return busy is not None


@contextlib.contextmanager
def _probe(path: Path, operation: int) -> Iterator[Any | None]:
    """Try ``flock(operation)`` on ``path`` without waiting: yields the open file when another
    holder blocks it, else None (the probe's own lock, if it got one, is released at once)."""
    try:
        handle = open(path, "rb")  # flock needs no write access, and a missing file stays missing
    except OSError:  # no lock file (or a damaged one): nobody holds it
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, operation | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = True
        else:
            fcntl.flock(handle, fcntl.LOCK_UN)
            busy = False
        yield handle if busy else None


def _holder_pid(handle: Any, patience: float = 0.1) -> int | None:
    """The pid of the process that holds ``handle``'s lock, read as :func:`_pid_in` does.

    A holder writes its pid just after it gets the lock, so a waiter that came in between finds
    the file empty: it reads again for up to ``patience`` seconds (a shared holder writes none).
    """
    deadline = time.monotonic() + patience
    while True:
        pid = _pid_in(handle)
        if pid is not None or time.monotonic() >= deadline:
            return pid
        time.sleep(0.005)


def _pid_in(handle: Any) -> int | None:
    """The pid written into a lock file by its holder, or None (not written yet, or garbage)."""
    try:
        handle.seek(0)
        text = handle.read(32).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
