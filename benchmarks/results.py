"""Regenerate the README's "Results" table: ``python benchmarks/results.py --data idx:DIR``.

Each row is one command anyone can run, ``python -m pipeline run [--preset NAME] --set
data.source=...``, run here cold (a fresh cache, so the wall time covers every stage from reading
the IDX files to the export) and read back from its ``run.json``. Each row names the reference it
is compared with: the tutorial's own script (re-run here, :func:`seed_vs_tutorial.tutorial`), or
LeCun's MNIST table. The table is printed as markdown, then the machine it ran on.

``--quick`` checks the script works in seconds (the smoke test): a small synthetic MNIST-shaped
set, one epoch per row.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import data  # noqa: E402
import seed_vs_tutorial  # noqa: E402

#: LeCun's table (yann.lecun.com/exdb/mnist), the rows compared with.
LECUN_800 = "LeCun's table: 2-layer NN, 800 HU, cross-entropy, 1.6 % error = 98.4 % (Simard et al. 2003)"
LECUN_300 = "LeCun's table: 2-layer NN, 300 HU, MSE, 4.7 % error = 95.3 % (LeCun et al. 1998)"


@dataclass(frozen=True)
class Row:
    """One line of the table: a label, the options after ``run``, and the reference."""

    label: str
    options: tuple[str, ...]
    reference: str | None  # None: the tutorial's script, re-run in the same benchmark


ROWS = (
    Row("`--preset seed` (the tutorial)", ("--preset", "seed"), None),
    Row("default (784-64-10)", (), LECUN_300),
    Row("`--preset wide` (784-800-10)", ("--preset", "wide"), LECUN_800),
)


def run_row(row: Row, source: str, work: Path, extra: list[str]) -> dict:
    """Run one row's command in a fresh cache; accuracy, split, epochs, seconds from ``run.json``."""
    out, cache = work / "out", work / "cache"
    cmd = [sys.executable, "-m", "pipeline", "run", "-q", *row.options, "--set", f"data.source={source}",
           *extra, "--cache-dir", str(cache), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=HERE.parent, env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
    wall = time.perf_counter() - started
    record = json.loads((out / "run.json").read_text())
    metrics, config = record["metrics"], record["config"]
    official = metrics.get("test_accuracy") is not None
    return {"accuracy": metrics["test_accuracy"] if official else metrics["val_accuracy"],
            "split": f"official test set ({record['data']['n_test']} rows)" if official else
            f"held-out {100 * config['split']['test_size']:.0f} % (random split, as the tutorial)",
            "epochs": config["train"]["epochs"], "wall": wall,
            "train": next(s["seconds"] for s in record["stages"] if s["name"] == "train")}


def tutorial_reference(source: str, epochs: int) -> str:
    """The tutorial's own loop (float64, full batch) on the same rows: its accuracy and time."""
    x, y = seed_vs_tutorial.load_all_rows(source)
    started = time.perf_counter()
    accuracy = seed_vs_tutorial.tutorial(x, y, epochs)
    return (f"the tutorial's own script (benchmarks/seed_vs_tutorial.py), same split: "
            f"{100 * accuracy:.2f} % after {epochs} epoch{'s' * (epochs != 1)}, {time.perf_counter() - started:.0f} s")


def command(row: Row, shown_source: str) -> str:
    return " ".join(["python -m pipeline run", *row.options, f"--set data.source={shown_source}"])


def table(results: list[tuple[Row, dict, str]], shown_source: str) -> str:
    """The markdown table."""
    lines = ["| command | accuracy | on | epochs | wall (train) | compared with |", "|---|---|---|---|---|---|"]
    for row, r, reference in results:
        lines.append(f"| `{command(row, shown_source)}` | **{100 * r['accuracy']:.2f} %** | {r['split']} | "
                     f"{r['epochs']} | {r['wall']:.0f} s ({r['train']:.0f} s) | {reference} |")
    return "\n".join(lines)


def machine(load_before: float) -> str:
    """Where and when it ran, with the load average (timings on a shared machine depend on it)."""
    import numpy

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {numpy.__version__}; "
            f"measured {when}; 1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} "
            f"at the end; wall = the whole cold run (every stage, fresh cache), train = the train stage")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="idx:../shared/data/mnist", help="idx:DIR or npz:FILE of MNIST")
    parser.add_argument("--show-data", default="idx:path/to/mnist", help="data.source shown in the table")
    parser.add_argument("--quick", action="store_true", help="synthetic data, one epoch per row: checks the script")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        source, extra = args.data, []
        if args.quick:
            source = "idx:" + str(data.write_synthetic_idx(Path(tmp) / "idx", n_train=600, n_test=100))
            extra = ["--set", "train.epochs=1"]
        results = []
        for i, row in enumerate(ROWS):
            print(f"running: {command(row, source)} {' '.join(extra)}", file=sys.stderr)
            r = run_row(row, source, Path(tmp) / str(i), extra)
            reference = row.reference or tutorial_reference(source, r["epochs"])
            results.append((row, r, reference))
    print(table(results, args.show_data))
    print()
    print(machine(load_before))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
