"""Smoke test of ``benchmarks/onnx_check.py`` on tiny synthetic data: it runs and meets its own targets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_onnx_check_runs_quick_and_agrees(tmp_path: Path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onnx_check.py"), "--quick",
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(line.startswith("max |p_onnxruntime - p_numpy|:") and line.endswith(": met") for line in lines)
    assert any(line.startswith("labels that differ: 0 of 1000") for line in lines)
    assert any(line.startswith("one pass: numpy forward") and "ratio" in line for line in lines)
