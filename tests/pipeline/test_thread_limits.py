"""Equal keys, equal bytes, whatever BLAS threads a process is allowed (docs/design.md, "Determinism").

The same training run, each in a fresh process of its own with its own cache: on the library's
default threads, under ``OPENBLAS_NUM_THREADS=1``, under ``OMP_NUM_THREADS=1``, inside an
enclosing ``threadpool_limits(1)``, in a worker of joblib's loky pool and in a worker of a
dask ``LocalCluster`` (whose nanny sets the thread variables to 1). Every array of model.npz and
the bytes of metrics.json must be equal. 28x28 images, so that the first layer's inner axis (784)
is one OpenBLAS sums in two pieces cut where the thread count says, and batches of 128 rows x 64
hidden units, large enough for the training loop to try two threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.datasets import write_idx_dataset
from tests.pipeline.processes import ROOT, env
from tests.pipeline.thread_limits import THREAD_VARIABLES

SETTINGS = ["model.hidden=[64]", "train.batch_size=128", "train.epochs=2", "evaluate.batch_size=100"]

#: name -> (driver condition, extra environment variables)
CONDITIONS = {
    "default": ("plain", {}),
    "OPENBLAS_NUM_THREADS=1": ("plain", {"OPENBLAS_NUM_THREADS": "1"}),
    "OMP_NUM_THREADS=1": ("plain", {"OMP_NUM_THREADS": "1"}),
    "threadpool_limits(1)": ("limits", {}),
    "joblib loky worker": ("joblib", {}),
    "dask LocalCluster worker": ("dask", {}),
}


@pytest.fixture(scope="module")
def mnist_shaped(tmp_path_factory):
    return write_idx_dataset(tmp_path_factory.mktemp("idx28"), n_train_per_class=110, n_test_per_class=40,
                             classes=3, shape=(28, 28))


def _run(condition: str, extra_env: dict, idx_dir, work) -> tuple[dict, dict]:
    out, cache = work / "out", work / "cache"
    args = ["run", "-q", "--out", str(out), "--cache-dir", str(cache), "--set", f"data.source=idx:{idx_dir}"]
    for item in SETTINGS:
        args += ["--set", item]
    environment = {k: v for k, v in env(cache).items() if k not in THREAD_VARIABLES} | extra_env
    proc = subprocess.run([sys.executable, "-m", "tests.pipeline.thread_limits", condition, *args],
                          env=environment, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0, proc.stderr[-3000:]
    with np.load(out / "model.npz") as model:
        arrays = {name: model[name] for name in model.files}
    return seen, {"arrays": arrays, "metrics.json": (out / "metrics.json").read_bytes()}


def test_every_thread_condition_gives_the_same_bytes(mnist_shaped, tmp_path):
    results = {name: _run(cond, extra, mnist_shaped, tmp_path / str(i))
               for i, (name, (cond, extra)) in enumerate(CONDITIONS.items())}
    seen = {name: r[0] for name, r in results.items()}
    # The conditions are what they claim: one thread where limited, a process of its own in a pool.
    assert seen["OPENBLAS_NUM_THREADS=1"]["blas_threads"] == [1]
    assert seen["threadpool_limits(1)"]["blas_threads"] == [1]
    assert seen["dask LocalCluster worker"]["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert seen["joblib loky worker"]["blas_threads"] == [1] or (os.cpu_count() or 1) > 2
    assert len({s["pid"] for s in seen.values()}) == len(seen)
    if (os.cpu_count() or 1) >= 2:
        assert min(seen["default"]["blas_threads"]) >= 2
    reference = results["default"][1]
    assert {"W1", "b1", "W2", "b2"} <= set(reference["arrays"])
    for name, (_, got) in results.items():
        assert sorted(got["arrays"]) == sorted(reference["arrays"]), name
        for key, array in reference["arrays"].items():
            assert np.array_equal(got["arrays"][key], array), f"{key} differs under {name}"
        assert got["metrics.json"] == reference["metrics.json"], f"metrics.json differs under {name}"
