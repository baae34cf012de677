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
    assert holder_of(path) is None  # the pid stays in the file, but nobody holds the lock
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
