"""Same bytes as a lone run on MNIST-shaped data (784 inputs, 64 hidden, batches of 128), where the
training loop's BLAS thread tuner takes part: in this process, in joblib's workers and on Dask.

Workers run with their BLAS limited by environment (OPENBLAS_NUM_THREADS), as joblib and dask set it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.sweep import run_sweep
from tests.datasets import write_idx_dataset

SETS = ["model.hidden=[64]", "train.batch_size=128", "train.epochs=1"]


@pytest.fixture(scope="module")
def mnist_shaped(tmp_path_factory):
    return write_idx_dataset(tmp_path_factory.mktemp("mnist-shaped"), n_train_per_class=40, n_test_per_class=5,
                             classes=10, shape=(28, 28))


def _lone(mnist_shaped, base, **environ):
    """``pipeline run`` of the member compared, in a process of its own, on a cache of its own."""
    from tests.pipeline.processes import env

    args = ["run", "-q", "--out", str(base / "out"), "--set", f"data.source=idx:{mnist_shaped}"]
    for item in SETS + ["train.lr=0.1"]:
        args += ["--set", item]
    from pipeline.sweep.local import THREAD_VARIABLES

    unlimited = {k: v for k, v in env(base / "cache").items() if k not in THREAD_VARIABLES}
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], env=unlimited | environ,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return base / "out"


@pytest.fixture(scope="module")
def lone(mnist_shaped, tmp_path_factory):
    return _lone(mnist_shaped, tmp_path_factory.mktemp("lone"))


def _check(result, lone):
    member = next(m for m in result.members if m["overrides"] == {"train.lr": 0.1})
    run_dir = result.out / member["run_dir"]
    # the report too: where workers are other processes, this process draws it (pipeline.sweep.scheduler)
    for name in ("model.npz", "metrics.json", "curves.png", "weights.png"):
        assert (run_dir / name).read_bytes() == (lone / name).read_bytes(), name
    assert (run_dir / "report.html").is_file()


def _sweep(mnist_shaped, tmp_path, **kwargs):
    return run_sweep(grid_args=["train.lr=0.05,0.1"], sets=[f"data.source=idx:{mnist_shaped}", *SETS],
                     out=tmp_path / "s", autoload=False, **kwargs)


def test_in_this_process(mnist_shaped, lone, tmp_path):
    _check(_sweep(mnist_shaped, tmp_path, jobs=1), lone)


def test_in_joblibs_worker_processes(mnist_shaped, lone, tmp_path):
    _check(_sweep(mnist_shaped, tmp_path, jobs=2), lone)


def test_on_a_dask_cluster(mnist_shaped, lone, tmp_path):
    pytest.importorskip("distributed")
    from tests.pipeline.sweep.clusters import local_cluster

    with local_cluster() as cluster:
        _check(_sweep(mnist_shaped, tmp_path, backend="dask", scheduler=cluster.scheduler_address), lone)


def test_in_joblibs_workers_the_bytes_of_a_lone_run_whose_blas_is_limited_alike(mnist_shaped, tmp_path):
    """Where the two tests above differ from a lone run, the difference is the workers' BLAS limit alone:
    a lone run started with OPENBLAS_NUM_THREADS=1 gives the workers' bytes."""
    from pipeline.sweep.local import THREAD_VARIABLES, threads_per_worker

    limited = _lone(mnist_shaped, tmp_path / "limited", **{v: str(threads_per_worker(2)) for v in THREAD_VARIABLES})
    _check(_sweep(mnist_shaped, tmp_path, jobs=2), limited)
