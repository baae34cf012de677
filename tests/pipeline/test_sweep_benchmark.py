"""Smoke test of ``benchmarks/sweep_bench.py``: on tiny data it runs every sweep (jobs 1, jobs 2, a Dask
cluster started with dask's CLI, a cold sweep) and prints every figure. Timings are not checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sweep_benchmark_runs_quick_and_prints_every_figure(tmp_path: Path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep_bench.py"), "--quick",
                           "--workdir", str(tmp_path / "bench")], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200"), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for figure in ("jobs 2 / jobs 1 wall time", "dask 2x1 / jobs 1 wall time", "dask: worker peak RSS",
                   "cold sweep: each (stage, key) ran once", "targets met"):
        assert figure in proc.stdout, proc.stdout
    assert "cold sweep: each (stage, key) ran once                            1.000  1                yes" \
        in proc.stdout
    assert "{'fetch': 1, 'normalize': 1, 'encode': 1, 'split': 1}" in proc.stdout
