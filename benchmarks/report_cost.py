"""What the report costs a run: the time it adds to a cold run, and a fully cached re-run's wall time and imports.

    python benchmarks/report_cost.py --data idx:path/to/mnist [--rounds 3]

Each figure is the median over rounds of CLI processes, next to its reference from the same rounds:
- added to a cold run: ``run --force report`` (everything else cached: a fresh process imports
  matplotlib, draws every picture, writes the page) minus a fully cached run with the report off;
- cold run with and without the report (fresh caches), for scale (training time varies more);
- a fully cached re-run: wall time, and whether it imported matplotlib or scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(cache: Path, out: Path, *args: str, importtime: bool = False) -> tuple[float, float, str]:
    """Run ``pipeline run`` in a fresh process; (wall seconds, CPU seconds (user + system), stderr).

    The CPU time hardly depends on what else the machine runs; the wall time does.
    """
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT),
           "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "pipeline", "run", "-q",
               "--out", str(out), *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"pipeline run failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits", help="data.source (default: digits)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--set", dest="sets", action="append", default=[], help="more --set KEY=VALUE")
    args = parser.parse_args(argv)
    sets = [a for item in [f"data.source={args.data}", *args.sets] for a in ("--set", item)]
    off = [*sets, "--set", "report.enabled=false"]
    work = Path(tempfile.mkdtemp(prefix="report-cost-"))
    figures: dict[str, list[float]] = {k: [] for k in ("cold", "cold_off", "forced", "cached_off", "cached",
                                                       "stage", "forced_cpu", "cached_off_cpu", "cached_cpu")}
    imported: set[str] = set()
    for r in range(args.rounds):
        figures["cold_off"].append(cli(work / f"off{r}", work / f"o{r}", *off)[0])
        figures["cold"].append(cli(work / f"on{r}", work / f"c{r}", *sets)[0])
        record = json.loads((work / f"c{r}" / "run.json").read_text())
        figures["stage"].append(next(s["seconds"] for s in record["stages"] if s["name"] == "report"))
        wall, cpu, _ = cli(work / f"on{r}", work / f"x{r}", *off)
        figures["cached_off"].append(wall)
        figures["cached_off_cpu"].append(cpu)
        wall, cpu, _ = cli(work / f"on{r}", work / f"f{r}", *sets, "--force", "report")
        figures["forced"].append(wall)
        figures["forced_cpu"].append(cpu)
        wall, cpu, _ = cli(work / f"on{r}", work / f"a{r}", *sets)
        figures["cached"].append(wall)
        figures["cached_cpu"].append(cpu)
        err = cli(work / f"on{r}", work / f"i{r}", *sets, importtime=True)[2]
        imported |= {line.split("|")[-1].strip() for line in err.splitlines() if "import time:" in line}
    med = {k: statistics.median(v) for k, v in figures.items()}
    added = med["forced"] - med["cached_off"]
    added_cpu = med["forced_cpu"] - med["cached_off_cpu"]
    load = os.getloadavg()[0]
    heavy = sorted(m for m in imported if m.split(".")[0] in ("matplotlib", "sklearn"))
    print(f"data {args.data}, {args.rounds} rounds, medians; load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"  added to a cold run by the report: {added:.2f} s wall, {added_cpu:.2f} s CPU  (run --force report "
          f"{med['forced']:.2f} s / {med['forced_cpu']:.2f} s CPU - cached run with the report off "
          f"{med['cached_off']:.2f} s / {med['cached_off_cpu']:.2f} s CPU; target <= 1.5 s: "
          f"{'met' if added <= 1.5 else 'NOT MET'} on wall, {'met' if added_cpu <= 1.5 else 'NOT MET'} on CPU)")
    print(f"  report stage alone (run.json): {med['stage']:.2f} s")
    print(f"  cold run: {med['cold']:.2f} s with the report, {med['cold_off']:.2f} s without "
          f"(difference {med['cold'] - med['cold_off']:+.2f} s, training time varies too)")
    print(f"  fully cached re-run: {med['cached']:.2f} s wall, {med['cached_cpu']:.2f} s CPU (target <= 0.5 s: "
          f"{'met' if med['cached'] <= 0.5 else 'NOT MET'}); matplotlib or scikit-learn imported: "
          f"{', '.join(heavy) or 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
