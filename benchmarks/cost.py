"""The cost of one configuration: ``python benchmarks/cost.py --data idx:DIR [--rounds N]``.

A cold default ``python -m pipeline run`` (fresh cache) against the same job written by hand as
one plain NumPy script (``handscript.py``; run on the library's default BLAS threads and on one,
the faster being the reference), each in a fresh process, in rounds that alternate which goes first, so that both see the same machine load. Per round: the whole process's wall
time and peak RSS (``os.wait4``), the train stage's seconds per epoch (run.json) against the
script's, and the disk the cold run left in the cache; also a cold run with ``report.enabled=false``
(the report's pictures are work the script does not do). The train epoch's target is judged in one
process (``epoch_pair.py``: the script's loop just before and after the stage), where both see
the same load. Prints every figure with its reference,
the median of the per-round ratios with their spread, and whether each target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from rich.console import Console  # noqa: E402

import checks  # noqa: E402
from report import Row, results_table  # noqa: E402

#: Targets: whole process and train epoch against the script, peak RSS and cache size of the cold run.
WALL_MAX, EPOCH_MAX, RSS_MAX_MB, CACHE_MAX_MB = 1.1, 0.9, 350, 300


def hand_script(idx_dir: Path, epochs: int, threads: str | None = None) -> dict:
    """``handscript.py`` in a fresh process (``OPENBLAS_NUM_THREADS=threads`` if given): its JSON,
    plus wall seconds and peak RSS from wait4."""
    cmd = [sys.executable, str(HERE / "handscript.py"), str(idx_dir), str(epochs)]
    env = checks._env() | ({"OPENBLAS_NUM_THREADS": threads} if threads else {})
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"handscript.py failed: {stderr.decode()[-2000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    return result | {"wall": time.perf_counter() - began, "rss_mb": usage.ru_maxrss / 1024}


def cache_mb(cache: Path) -> float:
    """Megabytes of files under ``cache`` (what a cold run leaves on disk)."""
    return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 2**20


def cold_run(source: str, work: Path, r: int, epochs: int, *sets: str) -> dict:
    cache = work / f"cache{r}{'-'.join(sets)}"
    out = checks.pipeline_run(source, cache, work / f"run{r}{'-'.join(sets)}", f"train.epochs={epochs}", *sets)
    stages = {s["name"]: s["seconds"] for s in out["record"]["stages"]}
    return {"wall": out["wall"], "rss_mb": out["rss_mb"], "cache_mb": cache_mb(cache),
            "epoch": stages["train"] / epochs, "stages": stages,
            "test_acc": out["record"]["metrics"]["test_accuracy"]}


def spread(values: list[float], fmt: str) -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, metavar="idx:DIR", help="MNIST-format IDX files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20, help="epochs of both (default: the default config's 20)")
    args = parser.parse_args(argv)
    if not args.data.startswith("idx:"):
        parser.error("--data takes idx:DIR")
    idx_dir = Path(args.data[4:]).expanduser().resolve()
    source = f"idx:{idx_dir}"
    console = Console(width=max(Console().width, 170))
    work = Path(tempfile.mkdtemp(prefix="pipeline-cost-"))
    pipe, hand, bare = [], [], []
    for r in range(args.rounds):
        for which in ((0, 1) if r % 2 == 0 else (1, 0)):
            if which == 0:
                pipe.append(cold_run(source, work, r, args.epochs))
                bare.append(cold_run(source, work, r, args.epochs, "report.enabled=false"))
            else:       # the faster of the library's default threads and one thread: the stricter reference
                hand.append(min(hand_script(idx_dir, args.epochs), hand_script(idx_dir, args.epochs, "1"),
                                key=lambda h: h["wall"]))
        console.print(f"[dim]round {r + 1}: pipeline {pipe[-1]['wall']:.2f} s, {pipe[-1]['epoch'] * 1000:.0f} ms/epoch, "
                      f"{pipe[-1]['rss_mb']:.0f} MB, cache {pipe[-1]['cache_mb']:.0f} MB, stages "
                      + ", ".join(f"{k} {v:.2f}" for k, v in pipe[-1]["stages"].items())
                      + f"; script {hand[-1]['wall']:.2f} s, {statistics.mean(hand[-1]['epochs']) * 1000:.0f} ms/epoch, "
                      f"{hand[-1]['rss_mb']:.0f} MB[/]", highlight=False)
    console.print("[dim]train epochs in one process: the stage between two runs of the script's loop[/]")
    cmd = [sys.executable, str(HERE / "epoch_pair.py"), str(idx_dir), "--rounds", str(args.rounds)]
    pair = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                     env=checks._env()).stdout.strip().splitlines()[-1])
    wall = [p["wall"] / h["wall"] for p, h in zip(pipe, hand)]
    bare_wall = [b["wall"] / h["wall"] for b, h in zip(bare, hand)]
    epoch = [p["epoch"] / statistics.mean(h["epochs"]) for p, h in zip(pipe, hand)]
    med = statistics.median
    rows = [
        Row("cold default run, whole process (wall)", spread([p["wall"] for p in pipe], "{:.2f} s"),
            f"hand-written script {spread([h['wall'] for h in hand], '{:.2f} s')}", spread(wall, "{:.2f}×"),
            f"≤ {WALL_MAX}×", med(wall) <= WALL_MAX),
        Row("cold run without the report stage (report.enabled=false: the script's job, no pictures)",
            spread([b["wall"] for b in bare], "{:.2f} s"), "the same script", spread(bare_wall, "{:.2f}×"),
            "(for information)", None),
        Row("train epoch, default config, in the cold runs above", spread([p["epoch"] * 1000 for p in pipe], "{:.0f} ms"),
            f"script's epoch {spread([statistics.mean(h['epochs']) * 1000 for h in hand], '{:.0f} ms')}",
            spread(epoch, "{:.2f}×"), "(for information: separate processes)", None),
        Row("train epoch, default config (momentum, L2, cosine), one process",
            spread([r["stage"] * 1000 for r in pair], "{:.0f} ms"),
            f"script's loop just before and after {spread([r['script'] * 1000 for r in pair], '{:.0f} ms')}",
            spread([r["ratio"] for r in pair], "{:.2f}×"), f"≤ {EPOCH_MAX}×",
            med([r["ratio"] for r in pair]) <= EPOCH_MAX),
        Row("peak RSS, cold default run", spread([p["rss_mb"] for p in pipe], "{:.0f} MB"),
            f"script {spread([h['rss_mb'] for h in hand], '{:.0f} MB')}",
            f"{med([p['rss_mb'] for p in pipe]) / med([h['rss_mb'] for h in hand]):.2f}×", f"≤ {RSS_MAX_MB} MB",
            max(p["rss_mb"] for p in pipe) <= RSS_MAX_MB),
        Row("disk left in the cache by a cold run", spread([p["cache_mb"] for p in pipe], "{:.0f} MB"), "", "",
            f"≤ {CACHE_MAX_MB} MB", max(p["cache_mb"] for p in pipe) <= CACHE_MAX_MB),
        Row("test accuracy (same job?)", f"{med([p['test_acc'] for p in pipe]):.4f}",
            f"script {med([h['test_acc'] for h in hand]):.4f}", "", "(for information)", None),
    ]
    console.print(results_table(rows, f"the cost of one configuration: {args.rounds} rounds, {args.epochs} epochs, "
                                      f"{source}"))
    console.print("Figures: median (min–max) over rounds; ratios: median (min–max) of the per-round ratios. "
                  f"Load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}.", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
