"""``run_sweep``: the Python entry point of a sweep (the ``sweep`` command is a thin layer on it).

The order is fixed: build and validate every member's config, plan every member's keys (a bad
grid or plugin fails here, before anything runs), create the sweep directory, start the backend
(for dask: check that every worker sees the cache and the sweep directory), run the plan, write
``sweep.json``/``sweep.csv``. Ctrl-C stops the workers and still writes what finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.cache.store import Cache, default_cache_dir
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.sweep import grid as grids
from pipeline.sweep import summary
from pipeline.sweep.plan import build
from pipeline.sweep.scheduler import Context, Scheduler
from pipeline.toml_io import parse_assignment, read_toml, toml_value

#: The lock a running sweep holds on its directory (``runs prune`` leaves such a sweep alone).
LOCK_FILE = ".sweep.lock"


@dataclass
class SweepResult:
    """What a sweep did: ``document`` is ``sweep.json``; ``out`` the sweep directory."""

    out: Path
    document: dict[str, Any]

    @property
    def members(self) -> list[dict[str, Any]]:
        return self.document["members"]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [m for m in self.members if m["status"] != "ok"]

    @property
    def best(self) -> dict[str, Any] | None:
        """The member with the highest validation accuracy, or None when none finished."""
        ok = [m for m in self.members if m["status"] == "ok" and m["metrics"].get("val_accuracy") is not None]
        return max(ok, key=lambda m: m["metrics"]["val_accuracy"], default=None)


def _backends() -> dict[str, Any]:
    """``--backend`` name -> ``factory(jobs, scheduler address, shared directories)``."""
    from pipeline.sweep.cluster import DaskBackend, scheduler_address
    from pipeline.sweep.local import local_backend

    return {"local": lambda jobs, address, shared: local_backend(jobs),
            "dask": lambda jobs, address, shared: DaskBackend(scheduler_address(address), shared)}


BACKENDS = ("local", "dask")


def _dir_name(index: int, overrides: Mapping[str, Any], keys: Sequence[str]) -> str:
    names = summary.short_names(keys)
    parts = [f"{names[k]}={toml_value(overrides[k])}" for k in keys]
    text = re.sub(r"[\[\]\"' ]", "", "-".join(parts)).replace(",", "x")
    return f"{index:02d}" + (f"-{re.sub(r'[^A-Za-z0-9=._x-]', '_', text)}" if text else "")


def _out_dir(out: str | Path | None) -> Path:
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"sweep-{stamp}"
        n = 2
        while out.exists():
            out, n = Path("runs") / f"sweep-{stamp}-{n}", n + 1
    out = Path(out).absolute()
    if (out / "sweep.json").exists() or (out / "run.json").exists():
        raise ConfigError(f"--out {out} already holds a {'sweep' if (out / 'sweep.json').exists() else 'run'}; "
                          f"choose another directory or remove it")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _assignments(sets: Iterable[str | tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [parse_assignment(s) if isinstance(s, str) else tuple(s) for s in sets]


def prepare(grid: Mapping[str, Sequence[Any]] | None, grid_args: Sequence[str], config: str | Path | None,
            preset: str | None, sets: Iterable[str | tuple[str, Any]], seeds: int | None, samples: int | None,
            sample_seed: int, yes: bool) -> tuple[list[grids.Member], grids.Grid, Config]:
    """Every member, validated, with the grid they come from and the base config."""
    if config is None and Path("pipeline.toml").is_file():
        config = "pipeline.toml"
    g = grids.Grid()
    file_values = grids.take_sweep_table(read_toml(Path(config)), g, str(config)) if config else {}
    for key, values in (grid or {}).items():
        g.add(key, grids.axis(key, list(values), "grid"), "grid")
    grids.parse_grids(grid_args, g)
    assignments = _assignments(sets)
    base = grids.build_config(preset, file_values, assignments)
    grids.add_seeds(g, seeds, base.train.seed)
    if not g.axes:
        raise ConfigError("nothing to sweep: give --grid KEY=V1,V2,..., a [sweep] table in the config file, "
                          "or --seeds N")
    return grids.members(g, preset, file_values, assignments, samples, sample_seed, yes), g, base


def run_sweep(grid: Mapping[str, Sequence[Any]] | None = None, *, grid_args: Sequence[str] = (),
              config: str | Path | None = None, preset: str | None = None,
              sets: Iterable[str | tuple[str, Any]] = (), seeds: int | None = None, samples: int | None = None,
              sample_seed: int = 0, jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
              out: str | Path | None = None, cache_dir: str | Path | None = None, blocked: Sequence[str] = (),
              autoload: bool | None = None, yes: bool = False, events: Any = None) -> SweepResult:
    """Run a sweep and return its result (also written to ``OUT/sweep.json`` and ``sweep.csv``).

    Parameters
    ----------
    grid : mapping of str to sequence, optional
        ``{"train.lr": [0.05, 0.1], ...}``: the values of each swept key (Python values).
    grid_args : sequence of str
        ``KEY=V1,V2,...`` as on the command line (values parsed as ``--set`` values).
    config, preset, sets
        The base configuration, as for ``run`` (``sets``: ``"KEY=VALUE"`` or ``(key, value)``).
        A ``[sweep]`` table in the config file adds swept keys.
    seeds : int, optional
        Repeat every point with this many values of ``train.seed``.
    samples : int, optional
        Random search: this many points drawn from the grid's ranges (``LOW..HIGH[:log]``) and lists.
    jobs : int, optional
        Tasks at once; default: every CPU (``local``) or every worker thread (``dask``).
    backend : {"local", "dask"}
        Where tasks run; ``dask`` needs ``scheduler`` (or ``$PIPELINE_DASK_SCHEDULER``).
    out : path, optional
        The sweep directory (default ``runs/sweep-<time>``).
    events : callable, optional
        ``events(labels, total, progress_dir)`` -> the display (``started``, ``finished``, ``tick``,
        ``close``); ``labels`` maps member index -> short label. Default: failures on stderr.

    Raises
    ------
    ConfigError
        A bad grid, config or backend choice, before anything ran.
    KeyboardInterrupt
        Ctrl-C: workers stopped, finished members written to ``sweep.json`` (``complete: false``).
    """
    from pipeline.hooks.manager import load_plugins
    from pipeline.runner import Runner
    from pipeline.sweep.display import QuietEvents

    if backend not in BACKENDS:
        raise ConfigError(f"unknown sweep backend '{backend}'; backends: {', '.join(BACKENDS)}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be 1 or more, got {jobs}")
    members, g, base = prepare(grid, grid_args, config, preset, sets, seeds, samples, sample_seed, yes)
    cache = Cache(cache_dir if cache_dir is not None else default_cache_dir())
    plugins = load_plugins(blocked=blocked, autoload=autoload)
    plan = build(members, lambda cfg: Runner(cfg, cache, plugins).make_plan().keys, cache)
    keys = summary.varying_keys([m.overrides for m in members])
    for m in members:
        m.overrides = {k: m.overrides[k] for k in keys}
    labels = {m.index: summary.member_label(m.index, m.overrides, keys) for m in members}
    out_dir = _out_dir(out)
    with open(out_dir / LOCK_FILE, "a") as lock, cache.in_use():  # in use between tasks too: no gc
        fcntl.flock(lock, fcntl.LOCK_SH)
        return _execute(plan, members, keys, labels, cache, out_dir, base, dict(
            jobs=jobs, backend=backend, scheduler=scheduler, blocked=tuple(blocked),
            autoload=plugins_autoload(autoload),
            events=events or (lambda labels, total, directory: QuietEvents(labels))))


def plugins_autoload(autoload: bool | None) -> bool:
    """Whether entry-point plugins load (as :func:`pipeline.hooks.manager.load_plugins` decides)."""
    import os

    from pipeline.hooks.manager import AUTOLOAD_ENV

    return autoload if autoload is not None else os.environ.get(AUTOLOAD_ENV, "") in ("", "0")


def _execute(plan: Any, members: list[grids.Member], keys: list[str], labels: dict[int, str], cache: Cache,
             out_dir: Path, base: Config, opts: dict[str, Any]) -> SweepResult:
    from pipeline.nn.blas import usable_cpus
    from pipeline.sweep.local import Idle

    run_dirs = {m.index: _dir_name(m.index, m.overrides, keys) for m in members}
    progress_dir = out_dir / ".progress"
    progress_dir.mkdir(exist_ok=True)
    (progress_dir / "STOP").unlink(missing_ok=True)
    todo = sum(1 for m in plan.members if not m.cached) + len(plan.stages)
    jobs = max(1, min(opts["jobs"] or usable_cpus(), todo)) if opts["backend"] == "local" else opts["jobs"]
    try:  # no cluster, or one that cannot see our directories: leave nothing behind
        backend = _backends()[opts["backend"]](jobs, opts["scheduler"], [cache.root, out_dir]) if todo else Idle()
    except BaseException:
        shutil.rmtree(progress_dir, ignore_errors=True)
        (out_dir / LOCK_FILE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            out_dir.rmdir()  # only when empty: a directory the user made and filled stays
        raise
    if opts["backend"] == "dask" and jobs:
        backend.slots = min(backend.slots, jobs)
    events = opts["events"](labels, len(members), progress_dir)
    started, finished_at = time.time(), None
    document = _document(out_dir, keys, base, cache, opts, plan)
    document["backend"] = backend.description
    runner = None
    try:
        ctx = Context(str(cache.root), progress_dir, lambda t: out_dir / run_dirs[t.member.index],
                      opts["blocked"], opts["autoload"])
        runner = Scheduler(plan, backend, ctx, events)
        try:
            runner.run()
        finally:
            backend.close()
        finished_at = time.time()
    finally:
        events.close()
        _fill(document, runner, members, keys, run_dirs, (finished_at or time.time()) - started,
              complete=finished_at is not None)
        summary.write(out_dir, document)
        _remove(progress_dir)
    if base.report.enabled:  # the sweep's own page beside sweep.json; each member has its report too
        from pipeline.report.sweep import build_sweep_report

        build_sweep_report(out_dir)
    return SweepResult(out_dir, document)


def _remove(directory: Path, attempts: int = 50) -> None:
    """Remove a directory that a stopping worker may still write a file into (retried briefly)."""
    for _ in range(attempts):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            return
        time.sleep(0.1)


def _document(out_dir: Path, keys: list[str], base: Config, cache: Cache, opts: dict[str, Any],
              plan: Any) -> dict[str, Any]:
    defaults = Config().flat()
    return {"kind": "sweep", "out": str(out_dir), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "varying": keys, "base": {k: v for k, v in base.flat().items() if defaults.get(k) != v},
            "cache_dir": str(cache.root), "backend": opts["backend"], "plan": plan.summary(), "members": []}


def _fill(document: dict[str, Any], runner: Scheduler | None, members: list[grids.Member], keys: list[str],
          run_dirs: dict[int, str], seconds: float, complete: bool) -> None:
    results = runner.results if runner else {}
    document["members"] = [summary.member_record(m.overrides, keys, results[m.index], run_dirs[m.index])
                           for m in members if m.index in results and results[m.index]["status"] != "stopped"]
    document["computed"] = runner.computed if runner else []
    peaks: dict[str, float] = {}
    for r in list(results.values()) + (runner.computed if runner else []):
        if r.get("worker") and r.get("peak_mb"):
            peaks[r["worker"]] = max(peaks.get(r["worker"], 0.0), round(r["peak_mb"], 1))
    document.update(workers_peak_mb=peaks, seconds=round(seconds, 3), complete=complete,
                    planned=len(members))

