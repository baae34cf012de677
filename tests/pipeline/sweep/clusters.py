"""A real dask.distributed LocalCluster for the tests, leaving this process's environment as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[Any]:
    """``workers`` single-thread worker processes on 127.0.0.1.

    Starting one sets OPENBLAS_NUM_THREADS=1 (and more) in *this* process's ``os.environ`` (dask's
    ``distributed.nanny.pre-spawn-environ``) and leaves it there: every process the tests start
    afterwards would inherit it, and a BLAS library loaded later in this process (scikit-learn's
    SciPy) would start limited to one thread. So the environment is restored as soon as the
    workers have started.
    """
    from distributed import LocalCluster

    saved = dict(os.environ)
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with cluster:
        yield cluster
