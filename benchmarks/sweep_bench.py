"""Benchmark of sweeps: ``python benchmarks/sweep_bench.py [--data idx:DIR] [--epochs 10] [--quick]``.

One run measures, on the same machine and data:

- an 8-member sweep (train.lr x train.weight_decay x 2 seeds) with the shared prefix (fetch ..
  split) cached: wall time with ``--jobs 2`` and on a local Dask cluster of two single-thread
  workers started with dask's own CLI (``dask scheduler``, ``dask worker ADDRESS --nthreads 1``),
  each as a ratio to ``--jobs 1`` (targets: <= 0.7 and <= 0.8);
- each worker's peak resident memory against the dataset's size plus 150 MB (memory-mapped
  inputs, not copies);
- a cold sweep (nothing cached): every (stage, key) ran exactly once across the members (the
  statuses in sweep.json and the members' run.json);
- whether a member's model.npz is the same bytes with ``--jobs 1``, ``--jobs 2`` and dask.

Each sweep starts from its own hard-linked copy of the primed cache, so none profits from another's
training. ``--quick`` uses a tiny synthetic data set (the smoke test). Other processes on the
machine change the timings: the ratios are measured within this run, and the load is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JOBS2_MAX, DASK_MAX, MEMORY_SLACK_MB = 0.7, 0.8, 150
GRID = ["--grid", "train.lr=0.05,0.1", "--grid", "train.weight_decay=0,0.0005", "--seeds", "2"]
PREFIX = ("fetch", "normalize", "encode", "split")


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "120"}


def cli(cache: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipeline", *args, "--cache-dir", str(cache)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env())
    if check and proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return proc


def sweep(cache: Path, out: Path, sets: list[str], *extra: str) -> tuple[float, dict]:
    """Wall seconds of one sweep and its sweep.json."""
    started = time.perf_counter()
    cli(cache, "sweep", "-q", "--out", str(out), *GRID, *sets, *extra)
    return time.perf_counter() - started, json.loads((out / "sweep.json").read_text())


def linked_copy(src: Path, dst: Path) -> Path:
    """A copy of a cache whose files are hard links (entries are never modified in place)."""
    subprocess.run(["cp", "-al", str(src), str(dst)], check=True)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dask_cluster(workdir: Path, workers: int = 2):
    """``dask scheduler`` and ``dask worker ADDRESS --nthreads 1`` processes, as the README says."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    logs = workdir / "dask-logs"
    logs.mkdir(exist_ok=True)
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--no-dashboard"], env=env(), stdout=subprocess.DEVNULL,
                              stderr=open(logs / "scheduler.log", "w"))]
    try:
        for i in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--no-dashboard"], env=env(), cwd=workdir,
                                          stdout=subprocess.DEVNULL, stderr=open(logs / f"worker{i}.log", "w")))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def ran_once(out: Path, doc: dict) -> tuple[bool, dict[str, int]]:
    """Whether every (stage, key) ran exactly once across the sweep; and how often each prefix stage ran."""
    ran = [(c["stage"], c["key"]) for c in doc["computed"] if c["status"] == "ran"]
    for member in doc["members"]:
        record = json.loads((out / member["run_dir"] / "run.json").read_text())
        ran += [(s["name"], s["key"]) for s in record["stages"] if s["status"] == "ran"]
    prefix = {stage: sum(1 for s, _ in ran if s == stage) for stage in PREFIX}
    return len(ran) == len(set(ran)) == doc["plan"]["nodes"], prefix


def dataset_mb(cache: Path) -> float:
    """Bytes of the arrays a member reads, in MB: fetch's pixels and labels and split's row numbers
    (split stores row numbers, not copies, so its entry alone would count the data as ~1 MB)."""
    total = 0
    for stage in ("fetch", "split"):
        entry = next(p for p in (cache / stage).iterdir() if (p / "entry.json").exists())
        total += sum(f.stat().st_size for f in entry.glob("*.joblib"))
    return total / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="idx:/work/shared/data/mnist", help="data.source (default: MNIST IDX)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data, 2 epochs: the smoke test")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask cluster")
    parser.add_argument("--workdir", type=Path, help="keep the caches and sweeps here")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source, epochs = args.data, args.epochs
    if args.quick:
        sys.path.insert(0, str(ROOT))
        from tests.datasets import write_idx_dataset

        source = f"idx:{write_idx_dataset(work / 'idx', n_train_per_class=60, n_test_per_class=20, classes=3, shape=(6, 6))}"
        epochs = 2
    sets = ["--set", f"data.source={source}", "--set", f"train.epochs={epochs}"]
    print(f"data {source}, {epochs} epochs, 8 members; CPUs {os.cpu_count()}, load before {os.getloadavg()}")

    primed = work / "primed"
    cli(primed, "run", "-q", "--to", "split", "--out", str(work / "prime-run"), *sets)
    print(f"shared prefix cached ({', '.join(PREFIX)}); dataset {dataset_mb(primed):.0f} MB")

    results: dict[str, tuple[float, dict]] = {}
    plan = [("jobs 1", ("--jobs", "1")), ("jobs 2", ("--jobs", "2"))]
    for name, extra in plan:
        cache = linked_copy(primed, work / f"cache-{name.replace(' ', '')}")
        results[name] = sweep(cache, work / f"sweep-{name.replace(' ', '')}", sets, *extra)
        print(f"{name}: {results[name][0]:.1f} s")
    if not args.no_dask:
        cache = linked_copy(primed, work / "cache-dask")
        with dask_cluster(work) as address:
            results["dask"] = sweep(cache, work / "sweep-dask", sets, "--backend", "dask", "--scheduler", address)
        print(f"dask (2 x 1 thread): {results['dask'][0]:.1f} s")

    cold = work / "sweep-cold"
    _, cold_doc = sweep(work / "cache-cold", cold, sets[:2] + ["--set", "train.epochs=1"], "--jobs", "2")
    once, prefix = ran_once(cold, cold_doc)
    base = results["jobs 1"][0]
    data_mb = dataset_mb(primed)
    rows = [("jobs 2 / jobs 1 wall time", results["jobs 2"][0] / base, f"<= {JOBS2_MAX}",
             results["jobs 2"][0] / base <= JOBS2_MAX)]
    if "dask" in results:
        rows.append(("dask 2x1 / jobs 1 wall time", results["dask"][0] / base, f"<= {DASK_MAX}",
                     results["dask"][0] / base <= DASK_MAX))
    for name, (_, doc) in results.items():
        peak = max(doc["workers_peak_mb"].values(), default=0.0)
        rows.append((f"{name}: worker peak RSS, MB", peak, f"<= {data_mb:.0f} + {MEMORY_SLACK_MB}",
                     peak <= data_mb + MEMORY_SLACK_MB))
    rows.append(("cold sweep: each (stage, key) ran once", float(once), "1", once))
    rows.append((f"cold sweep: prefix runs {prefix}", float(max(prefix.values())), "1 each",
                 set(prefix.values()) == {1}))
    print(f"\n{'figure':<60} {'measured':>10}  {'target':<16} met")
    for figure, value, target, met in rows:
        print(f"{figure:<60} {value:>10.3f}  {target:<16} {'yes' if met else 'NO'}")
    member = results["jobs 1"][1]["members"][-1]["run_dir"]
    same = {name: (work / f"sweep-{name.replace(' ', '')}" / member / "model.npz").read_bytes()
            == (work / "sweep-jobs1" / member / "model.npz").read_bytes() for name in results if name != "jobs 1"}
    print(f"member {member}: model.npz identical to --jobs 1: {same}")
    print(f"load after {os.getloadavg()}; targets met: {sum(r[3] for r in rows)}/{len(rows)}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
