"""Lifecycle plugin ``pipeline-extras-timing``: log each stage's duration and output shapes.

One line per stage, to stderr, or appended to the file named by the
environment variable ``PIPELINE_EXTRAS_TIMING_LOG``::

    [timing] train ran in 1.234 s: params=[(784, 64) float32, (64,) float32, ...], history=dict(8 keys)
    [timing] fetch cached in 0.001 s: x_raw, y_raw, x_raw_test, y_raw_test, dataset (not loaded)
    [timing] run: 8 stages, 3 ran, 5 cached, 1.402 s

The outputs of a cached stage are loaded from the cache on first access, so
for those only the names are logged: the hook must not make a cached run
slower. Nothing here can change a stage's outputs, so the clock is fine to
use (unlike in an activation, initializer or optimizer).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from pipeline import hookimpl

#: Environment variable naming a log file to append to instead of stderr.
LOG_ENV = "PIPELINE_EXTRAS_TIMING_LOG"
#: Items of a list output described before "..." (params has 2 per layer).
MAX_ITEMS = 8

# perf_counter() at before_pipeline_run, for the run's total
_run_started: list[float] = []


def _write(line: str) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"[timing] {line}\n")
    else:
        print(f"[timing] {line}", file=sys.stderr, flush=True)


def describe(value: Any) -> str:
    """A short description of one output: shape and dtype of arrays, sizes of the rest."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{tuple(value.shape)} {value.dtype}"
    if isinstance(value, (list, tuple)) and not any(hasattr(v, "shape") for v in value):
        return f"{type(value).__name__}({len(value)})"      # e.g. the class labels
    if isinstance(value, (list, tuple)):
        items = [describe(v) for v in value[:MAX_ITEMS]]
        return "[" + ", ".join(items + (["..."] if len(value) > MAX_ITEMS else [])) + "]"
    if isinstance(value, Mapping):
        return f"dict({len(value)} keys)"
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} bytes"
    return type(value).__name__


@hookimpl
def before_pipeline_run(config: Any, stages: list[str]) -> None:
    """Start the run's clock."""
    _run_started[:] = [time.perf_counter()]


@hookimpl
def after_stage_run(stage: str, status: str, seconds: float, outputs: Mapping[str, Any]) -> None:
    """Log the stage's duration, and its outputs' shapes when it ran."""
    if status == "ran":
        shapes = ", ".join(f"{name}={describe(outputs[name])}" for name in outputs)
    else:  # reading a cached output would load it from disk just to log it
        shapes = ", ".join(outputs) + " (not loaded)"
    _write(f"{stage} {status} in {seconds:.3f} s: {shapes}")


@hookimpl
def after_pipeline_run(record: Mapping[str, Any]) -> None:
    """Log the run's totals."""
    statuses = [s["status"] for s in record["stages"]]
    total = time.perf_counter() - _run_started[0] if _run_started else sum(s["seconds"] for s in record["stages"])
    skipped = f", {statuses.count('skipped')} skipped" if "skipped" in statuses else ""
    _write(f"run: {len(statuses)} stages, {statuses.count('ran')} ran, {statuses.count('cached')} cached"
           f"{skipped}, {total:.3f} s")
