"""``pipeline sweep``: many configs at once, each shared stage computed once, locally or on a Dask cluster."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "sweep"
DESCRIPTION = ("Run many configs at once: the product of the --grid values (or --samples random points), "
               "each repeated over --seeds. Every member's keys are planned first, each shared stage is "
               "computed once, and each member writes an ordinary run directory into the sweep directory, "
               "with sweep.json and sweep.csv next to them.")
EXAMPLES = ("python -m pipeline sweep --grid train.lr=0.05,0.1,0.2 --grid model.hidden=[64],[128] --seeds 3",
            "python -m pipeline sweep --grid train.lr=0.05,0.1 --jobs 2 --out runs/lr-sweep",
            "python -m pipeline sweep --grid train.lr=0.05,0.1 --backend dask --scheduler tcp://10.0.0.5:8786")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sweep = sub.add_parser(NAME, parents=[common], help="run a grid (or random search) of configs, sharing "
                           "cached stages")
    sweep.add_argument("--grid", dest="grids", metavar="KEY=V1,V2", action="append", default=[],
                       help="swept key and its values, each parsed as --set parses a value (repeatable; the "
                       "sweep is the product), e.g. --grid train.lr=0.05,0.1 --grid model.hidden=[64],[128]; "
                       "LOW..HIGH[:log] is a range for --samples")
    sweep.add_argument("--seeds", type=int, metavar="N", help="repeat every point with N values of train.seed")
    sweep.add_argument("--samples", type=int, metavar="N", help="random search: N points drawn from the "
                       "ranges and lists instead of the full product")
    sweep.add_argument("--sample-seed", type=int, default=0, metavar="S", help="seed of the random search (0)")
    sweep.add_argument("--jobs", "-j", type=int, metavar="N", help="members at once (default: every CPU; on "
                       "dask: every worker thread)")
    sweep.add_argument("--backend", choices=("local", "dask"), default="local",
                       help="local: this machine (joblib's process pool); dask: a dask.distributed cluster")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler, e.g. tcp://10.0.0.5:8786 "
                       "(default: $PIPELINE_DASK_SCHEDULER)")
    sweep.add_argument("--out", metavar="DIR", help="sweep directory (default: runs/sweep-<time>)")
    sweep.add_argument("--yes", "-y", action="store_true", help="run a sweep of more than 64 members")
    return sweep


def run(s: Any) -> int:
    from pipeline.sweep import run_sweep, summary
    from pipeline.sweep.display import LiveEvents, QuietEvents
    from pipeline.sweep.sweeper import plugins_autoload

    a = s.args
    blocked = [opt[3:] for opt in a.plugin_opts if opt.startswith("no:")]
    s.plugins()  # a bad -p option or plugin fails here, with run's message

    def events(labels: dict[int, str], total: int, progress_dir: Any) -> Any:
        if a.quiet:
            return QuietEvents(labels)
        return LiveEvents(s.console, labels, total, progress_dir)

    result = run_sweep(grid_args=a.grids, config=a.config, preset=a.preset, sets=a.sets, seeds=a.seeds,
                       samples=a.samples, sample_seed=a.sample_seed, jobs=a.jobs, backend=a.backend,
                       scheduler=a.scheduler, out=a.out, cache_dir=a.cache_dir, blocked=blocked,
                       autoload=plugins_autoload(None), yes=a.yes, events=events)
    if not a.quiet:
        s.console.print(summary.table(result.document))
        s.console.print(f"sweep.json and sweep.csv in {result.out}", highlight=False)
    if result.failed:
        s.err.print(f"{len(result.failed)} of {len(result.members)} members failed (see sweep.json)",
                    highlight=False)
        return 1
    return 0
