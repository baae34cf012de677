"""Running bench.py's training systems: each in a fresh process, in rounds, idle or under load.

``system`` runs one system of ``systems.py`` in its own interpreter; ``training_rounds`` runs
every system once per round in rotated order, so that slow phases of a noisy machine fall on
each system in turn; ``with_competitor`` adds one CPU-bound process; ``machine_busy`` says how
busy the machine was before the benchmark started.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import checks

HERE = Path(__file__).resolve().parent


def system(name: str, npy: Path, epochs: int, *extra: str) -> list[dict]:
    """Run one system in a fresh process (``systems.py``); its JSON results as a list."""
    cmd = [sys.executable, str(HERE / "systems.py"), name, "--data", str(npy), "--epochs", str(epochs), *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=checks._env()).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result if isinstance(result, list) else [result]


def available(module: str) -> bool:
    """Whether ``module`` imports in a fresh interpreter (PyTorch is optional)."""
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def training_rounds(npy: Path, epochs: int, rounds: int, torch: bool, adam: bool, log) -> list[dict]:
    """Per round: seconds per epoch of every system, keyed by name."""
    plan = [("pair", ("--default-epochs", "3")), ("sklearn-sgd", ()), ("sklearn-sgd", ("--threads", "1"))]
    plan += [("sklearn-adam", ())] if adam else []
    plan += [("torch-sgd", ())] if torch else []
    results = []
    for r in range(rounds):
        per: dict[str, dict] = {}
        for name, extra in plan[r % len(plan):] + plan[:r % len(plan)]:   # rotate the order each round
            for res in system(name, npy, epochs, *extra):
                key = res["system"] + ("@1" if name == "sklearn-sgd" and extra else "")
                per[key] = res
        log(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v['per_epoch']:.3f}" for k, v in per.items()))
        results.append(per)
    return results


def with_competitor(function, *args):
    """Run ``function(*args)`` while one CPU-bound process spins; the process is ended after."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        return function(*args)
    finally:
        hog.kill()
        hog.wait()


def machine_busy(seconds: float = 0.5) -> float:
    """Fraction of all CPUs busy over ``seconds`` (others' load, measured before starting)."""
    def snap() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]
    try:
        t1, i1 = snap()
        time.sleep(seconds)
        t2, i2 = snap()
    except OSError:
        return float("nan")
    return 1 - (i2 - i1) / max(t2 - t1, 1)


def median(values) -> float:
    return statistics.median(list(values))
