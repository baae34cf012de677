"""Where tasks run on this machine: in this process (``--jobs 1``) or joblib's process pool (loky).

Every backend offers the same small interface to the scheduler: ``slots`` (tasks that can run
at once), ``submit(job) -> future``, ``wait(futures, timeout) -> done futures``,
``result(future) -> dict``, ``stop()`` (Ctrl-C: end the workers) and ``close()``.
"""

from __future__ import annotations

import concurrent.futures as cf
import signal
from collections.abc import Collection
from typing import Any

from pipeline.nn.blas import usable_cpus
from pipeline.sweep.tasks import Job, execute, worker_name

#: Environment variables that limit a worker's BLAS and OpenMP threads.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def failed_result(exc: BaseException, worker: str) -> dict[str, Any]:
    """The result of a task whose worker raised or died instead of returning."""
    return {"status": "failed", "error": f"worker {worker} failed: {type(exc).__name__}: {' '.join(str(exc).split())}",
            "metrics": {}, "stages": [], "seconds": 0.0, "warnings": [], "worker": worker, "peak_mb": None}


def threads_per_worker(jobs: int, cpus: int | None = None) -> int:
    """BLAS threads each of ``jobs`` workers may use so that workers x threads <= CPUs (at least 1)."""
    return max(1, (cpus or usable_cpus()) // jobs)


class _FutureBackend:
    """What the two local backends share: concurrent.futures semantics."""

    slots = 1
    description = ""
    #: Whether tasks run in other processes (the scheduler then draws members' reports itself).
    out_of_process = False

    def wait(self, futures: Collection[Any], timeout: float) -> set[Any]:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def result(self, future: Any) -> dict[str, Any]:
        try:
            return future.result()
        except Exception as exc:  # the worker died (killed, out of memory): this task failed, not the sweep
            return failed_result(exc, self.description)

    def stop(self) -> None:
        """Nothing to kill: the running task sees the STOP file at its next epoch or stage."""

    def close(self) -> None:
        """Nothing to release."""


class Idle(_FutureBackend):
    """Nothing left to compute (every member cached): no pool, no cluster."""

    slots = 0
    description = "nothing to compute"


class InProcess(_FutureBackend):
    """``--jobs 1``: one task at a time in a thread of this process, with this process's BLAS threads,
    exactly as a lone ``run``."""

    slots = 1

    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(1, thread_name_prefix="sweep")
        self.description = f"this process ({worker_name()})"

    def submit(self, job: Job) -> Any:
        return self._pool.submit(execute, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _ignore_sigint() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the client stops the workers itself,
    # so they must not each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessPool(_FutureBackend):
    """``--jobs N``: joblib's process pool (loky), each worker's BLAS limited to CPUs // N threads."""

    out_of_process = True

    def __init__(self, jobs: int):
        from joblib.externals.loky import get_reusable_executor

        self.slots = jobs
        self.threads = threads_per_worker(jobs)
        env = {name: str(self.threads) for name in THREAD_VARIABLES}
        self._pool = get_reusable_executor(max_workers=jobs, env=env, initializer=_ignore_sigint, reuse=True)
        self.description = f"{jobs} local processes x {self.threads} BLAS thread{'s' if self.threads > 1 else ''}"

    def submit(self, job: Job) -> Any:
        return self._pool.submit(execute, job)

    def stop(self) -> None:
        self._pool.shutdown(wait=True, kill_workers=True)  # killed at once; waiting only reaps them


def local_backend(jobs: int, scheduler: str | None = None) -> _FutureBackend:
    """``--jobs 1`` in this process, more through joblib's process pool."""
    return InProcess() if jobs == 1 else ProcessPool(jobs)
