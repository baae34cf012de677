"""``--backend dask``: the tasks run on a dask.distributed cluster (``dask scheduler`` + ``dask worker``).

Dask schedules and ships the tasks; what travels is a :class:`pipeline.sweep.tasks.Job` (a config
and paths) and a small result dict, never an array: workers read stage outputs from the shared
cache, memory-mapped. So every worker must see the client's cache directory and sweep directory
(a shared filesystem): :func:`check_shared` writes a marker into each and asks every worker to
read it back, before anything runs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import CacheError, ConfigError
from pipeline.sweep.local import failed_result
from pipeline.sweep.tasks import Job, execute, sees_marker

#: Where the scheduler's address comes from when ``--scheduler`` is not given.
SCHEDULER_ENV = "PIPELINE_DASK_SCHEDULER"


def scheduler_address(given: str | None) -> str:
    """``--scheduler``, else ``$PIPELINE_DASK_SCHEDULER``; neither is a :class:`ConfigError`."""
    address = given or os.environ.get(SCHEDULER_ENV)
    if not address:
        raise ConfigError(f"--backend dask needs the scheduler's address: --scheduler tcp://HOST:8786 "
                          f"or {SCHEDULER_ENV} (start one with `dask scheduler`)")
    return address


def check_shared(client: Any, directories: Sequence[Path]) -> None:
    """Stop unless every worker reads the marker the client writes into each of ``directories``.

    Raises
    ------
    CacheError
        Naming the first worker that does not see a directory, and the path.
    """
    token = secrets.token_hex(8)
    for directory in directories:
        marker = Path(directory) / f".pipeline-marker-{token}"
        marker.write_text(token)
        try:
            answers = client.run(sees_marker, str(marker), token)
        finally:
            marker.unlink(missing_ok=True)
        for worker, problem in sorted(answers.items()):
            if problem is not None:
                raise CacheError(f"dask worker {worker} does not see {directory} ({problem}); workers must share "
                                 f"the cache and sweep directories with this machine (e.g. over NFS)")


class DaskBackend:
    """Tasks as dask.distributed futures on the cluster at ``address``.

    Parameters
    ----------
    address : str
        The scheduler, e.g. ``tcp://10.0.0.5:8786`` (``tls://`` with dask's security settings
        beyond one machine).
    shared : sequence of Path
        Directories every worker must see (the cache, the sweep directory).
    """

    out_of_process = True   # members' reports are drawn by the client (pipeline.sweep.scheduler)

    def __init__(self, address: str, shared: Sequence[Path]):
        try:
            from distributed import Client
        except ImportError:
            raise ConfigError("--backend dask needs dask.distributed: pip install 'pipeline[dask]'") from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise CacheError(f"cannot reach the dask scheduler at {address} ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())}); is `dask scheduler` running there?") from None
        workers = self.client.scheduler_info(n_workers=-1)["workers"] if _takes_n_workers(self.client) \
            else self.client.scheduler_info()["workers"]
        if not workers:
            self.client.close()
            raise CacheError(f"the dask scheduler at {address} has no workers; start some with "
                             f"`dask worker {address} --nthreads 1`")
        try:
            check_shared(self.client, shared)
        except BaseException:
            self.client.close()
            raise
        self.slots = sum(w.get("nthreads", 1) for w in workers.values())
        self.description = f"dask cluster {address} ({len(workers)} workers, {self.slots} threads)"
        self._futures: list[Any] = []

    def submit(self, job: Job) -> Any:
        future = self.client.submit(execute, job, pure=False, key=f"pipeline-{job.name}-{secrets.token_hex(4)}")
        self._futures.append(future)
        return future

    def wait(self, futures: Collection[Any], timeout: float) -> set[Any]:
        from distributed import wait

        try:
            done, _ = wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def result(self, future: Any) -> dict[str, Any]:
        try:
            return future.result()
        except Exception as exc:  # the worker died or the task was lost: this task failed, not the sweep
            return failed_result(exc, self.description)

    def stop(self) -> None:
        """Cancel what has not started; running tasks see the STOP file at their next epoch."""
        self.client.cancel(self._futures)

    def close(self) -> None:
        self.client.close()


def _takes_n_workers(client: Any) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters
