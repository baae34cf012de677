"""Smoke test of ``benchmarks/bench.py``: it runs end to end on tiny data and prints its table.

Timings are not checked (they depend on the machine and its load); only that every
measurement ran and was reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_runs_quick_and_prints_every_figure(tmp_path: Path):
    env = dict(os.environ, COLUMNS="250")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--no-torch",
                           "--workdir", str(tmp_path / "bench")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for figure in ("train stage, s/epoch", "MLPClassifier(sgd)", "loaded (1 competing process)",
                   "independent: CLI run.json", "cached re-run", "python -X importtime", "cached fetch",
                   "IDX parse", "peak RSS", "evaluate stage: peak traced memory", "predict: peak traced memory",
                   "scaling: epoch time", "targets met"):
        assert figure in out, f"{figure!r} missing from the benchmark output:\n{out[-3000:]}"
    assert "sklearn: no; stage modules: none" in out   # the cached path really is checked
    assert not list(tmp_path.glob("bench/**/*.tmp"))
