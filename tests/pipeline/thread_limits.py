"""One CLI run under one BLAS thread condition: ``python -m tests.pipeline.thread_limits CONDITION ARGS...``.

Conditions: ``plain`` (the library's default threads, or whatever the environment says),
``limits`` (inside ``threadpool_limits(1)``), ``joblib`` (in a worker of joblib's loky pool of
two), ``dask`` (in a worker of a ``distributed.LocalCluster`` of processes on 127.0.0.1). Prints
one JSON line: the CLI's exit code and the thread settings the run saw.
"""

from __future__ import annotations

import json
import os
import sys

#: Environment variables that limit BLAS threads.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_cli(args: list[str]) -> dict:
    """``pipeline ARGS`` in this process; the exit code, the thread variables and BLAS threads before it."""
    import numpy  # noqa: F401  (loads BLAS, so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    from pipeline.cli import main

    blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    seen = {"env": {name: os.environ.get(name) for name in THREAD_VARIABLES}, "blas_threads": blas,
            "pid": os.getpid()}
    return {"code": main(args), **seen}


def in_condition(condition: str, args: list[str]) -> dict:
    if condition == "plain":
        return run_cli(args)
    if condition == "limits":
        import numpy  # noqa: F401  (BLAS must be loaded for the limit to apply to it)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return run_cli(args)
    if condition == "joblib":
        from joblib import Parallel, delayed

        [result] = Parallel(n_jobs=2, backend="loky")(delayed(run_cli)(args) for _ in range(1))
        return result
    if condition == "dask":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            return client.submit(run_cli, args, pure=False).result()
    raise SystemExit(f"unknown condition {condition!r}")


if __name__ == "__main__":
    print(json.dumps(in_condition(sys.argv[1], sys.argv[2:])))
