"""Locks that say who holds them: the waiting side learns the holder's pid; a free lock has none."""

from __future__ import annotations

import fcntl
import os
import threading

from pipeline.cache.locks import flock, held, holder_of


def test_a_waiter_is_told_the_holders_pid_and_a_released_lock_has_no_holder(tmp_path):
    path = tmp_path / "train-abc.lock"
    assert holder_of(path) is None  # no file yet
    held, release, waited = threading.Event(), threading.Event(), []

    def hold() -> None:
        with flock(path, fcntl.LOCK_EX):  # a separate open file: flock excludes it even in one process
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    assert holder_of(path) == os.getpid()
    threading.Timer(0.2, release.set).start()
    with flock(path, fcntl.LOCK_EX, on_wait=waited.append):
        assert waited == [os.getpid()]  # it had to wait, and knew for whom
    holder.join()
    assert holder_of(path) is None and path.read_bytes() == b""  # released: no pid left behind
    with flock(path, fcntl.LOCK_EX, on_wait=waited.append):
        pass
    assert waited == [os.getpid()]  # not called when the lock was free


def test_held_sees_a_shared_holder_that_holder_of_does_not(tmp_path):
    path = tmp_path / "cache.lock"
    assert not held(path) and not path.exists()  # probing creates no lock file
    with flock(path, fcntl.LOCK_SH):  # as every running pipeline holds cache.lock
        assert held(path)
        assert holder_of(path) is None  # only an exclusive holder has a pid to tell
    assert not held(path)
    with flock(path, fcntl.LOCK_EX):
        assert held(path) and holder_of(path) == os.getpid()
    assert not held(path)


def test_a_waiter_that_comes_before_the_holder_wrote_its_pid_still_learns_it(tmp_path):
    # the holder takes the lock first and writes its pid just after: a waiter arriving in between
    # (a run under load) once printed "waiting for another run…" with no pid
    path = tmp_path / "export-abc.lock"
    path.write_bytes(b"")
    locked, waited = threading.Event(), []

    def hold() -> None:
        with open(path, "a+b", buffering=0) as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            locked.set()
            threading.Event().wait(0.03)           # the gap between the lock and the pid
            handle.write(b"4242")
            threading.Event().wait(0.2)
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    with flock(path, fcntl.LOCK_EX, on_wait=waited.append):
        assert waited == [4242]
    holder.join()
