"""``pipeline run``: run the stages, reusing cached ones."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError

NAME = "run"
DESCRIPTION = ("Run the stages fetch to report on the effective config (defaults, --preset, pipeline.toml, "
               "--set). A stage whose cache key is unchanged is reused; the others run and say why. The "
               "run ends with the test accuracy and loss and where the outputs are: a new runs/<time>/ "
               "directory (runs/latest points at the newest run with a model), or --out DIR, which replaces "
               "an earlier run there "
               "and says so.")
EXAMPLES = ("python -m pipeline run --set data.source=idx:path/to/mnist",
            "python -m pipeline run --set train.lr=0.05 --out runs/lr005 -v")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    run = sub.add_parser(NAME, parents=[common], help="run the stages (cached ones are reused)")
    run.add_argument("--only", metavar="STAGE", help="re-run one stage on cached inputs, skip the ones after it")
    run.add_argument("--from", dest="start", metavar="STAGE", help="re-run this stage and every stage after it")
    run.add_argument("--to", dest="stop", metavar="STAGE", help="stop after this stage")
    run.add_argument("--force", nargs="?", const="*", metavar="STAGE",
                     help="ignore cache hits: all stages, or STAGE and what depends on it")
    run.add_argument("--out", metavar="DIR", help="output directory (default: runs/<time>, with runs/latest); "
                     "an earlier run in DIR is replaced, with a warning naming it")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="also print per-class scores and the confusion matrix")
    run.add_argument("--skip-plugin-checks", action="store_true",
                     help="do not run the contract checks of third-party plugins before first use "
                          "(also PIPELINE_SKIP_PLUGIN_CHECKS=1)")
    return run


def run(s: Any) -> int:
    from pipeline.registry import Selection
    from pipeline.runner import Runner
    from pipeline.ui.base import QuietDisplay
    from pipeline.ui.terminal import RichDisplay

    config, cache, plugins = s.config(), s.cache(), s.plugins()
    selection = Selection(s.args.only, s.args.start, s.args.stop, s.args.force)
    selection.resolve()  # unknown stage names fail before anything runs
    display = QuietDisplay() if s.args.quiet else RichDisplay(s.console, s.err, verbose=s.args.verbose)
    cache.on_repair = display.warn
    out_dir, latest = out_dir_for(s.args.out)
    if latest is None and (earlier := describe_earlier_run(out_dir)):
        display.warn(f"--out {out_dir}: replacing {earlier}")
    from pipeline.hooks.contracts import skipped_by_environment

    runner = Runner(config, cache, plugins, display,
                    check_contracts=not (s.args.skip_plugin_checks or skipped_by_environment()))
    try:
        runner.run(selection, out_dir)
    except BaseException:
        if latest is not None and not any(out_dir.iterdir()):
            out_dir.rmdir()  # the run directory made for this run: leave no empty one behind
        raise
    if latest is not None:
        update_latest(latest, out_dir, display.note)
    return 0


def out_dir_for(requested: str | None) -> tuple[Path, Path | None]:
    """The run's output directory and, for the default, the ``runs/latest`` link to update.

    The default ``runs/<time>[-n]`` is created here with an exclusive ``mkdir``, so two
    runs started in the same second never share a directory.
    """
    if requested:
        return Path(requested), None
    runs = Path("runs")
    runs.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        candidate = runs / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate, runs / "latest"
    raise PipelineError(f"cannot create a new run directory in '{runs}'; use --out DIR")


def update_latest(link: Path, out_dir: Path, note: Any) -> bool:
    """Point ``runs/latest`` at ``out_dir`` if the run wrote a model; else leave it and say so.

    ``predict runs/latest ...`` must keep working after ``run --to split`` or
    ``run --only evaluate``, which write no model: ``latest`` is the newest run *with* a model.
    """
    if (out_dir / "model.npz").is_file():
        point_latest(link, out_dir)
        return True
    where = os.readlink(link) if link.is_symlink() else "nothing"
    note(f"{link} stays at {where}, the newest run with a model (this one wrote none)")
    return False


def describe_earlier_run(out_dir: Path) -> str | None:
    """What an earlier run left in ``out_dir`` (``the run finished ... (test accuracy ...)``), or None."""
    import json

    try:
        record = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
        finished, metrics = record["finished"], record.get("metrics") or {}
    except FileNotFoundError:
        leftovers = [n for n in ("model.npz", "model.json", "metrics.json") if (out_dir / n).exists()]
        return f"the files of an interrupted run ({', '.join(leftovers)})" if leftovers else None
    except (OSError, ValueError, TypeError, KeyError):
        return "a run.json that cannot be read"
    accuracy = metrics.get("test_accuracy") if isinstance(metrics, dict) else None
    score = f", test accuracy {100 * accuracy:.2f} %" if isinstance(accuracy, (int, float)) else ""
    return f"the run finished {finished}{score}"


def point_latest(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically (a new symlink renamed over the old one)."""
    tmp = link.with_name(f".latest.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, link)
