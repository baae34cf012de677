"""Pages of existing runs: one run's report rebuilt, and a page that compares several runs."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from pipeline.report import html, rundir
from pipeline.report.page import config_changes, run_page, write

#: The headline metrics of a run, as (key in run.json, column title, formatter).
METRICS = (("val_accuracy", "val accuracy", html.percent), ("val_loss", "val loss", html.number),
           ("test_accuracy", "test accuracy", html.percent), ("test_loss", "test loss", html.number))


def file_mode() -> int:
    """Permissions of files written into run directories (what the runner uses)."""
    from pipeline.outdir import FILE_MODE

    return FILE_MODE


def rebuild(path: str | Path, out: str | Path | None = None) -> Path:
    """Draw the report of the run in ``path`` again; returns the page written.

    Into the run directory (``report.html`` and its pictures) unless ``out`` names another file,
    which then gets the page alone (the pictures are embedded in it anyway).
    """
    from pipeline.cache.store import Cache
    from pipeline.report.body import build

    run = rundir.load(path)
    body, files = build(rundir.inputs(run))
    target = Path(out) if out else run.path / "report.html"
    mode = file_mode()
    if target.resolve().parent == run.path.resolve():
        for name, png in files.items():
            if png is None:
                (run.path / name).unlink(missing_ok=True)
            else:
                _write_bytes(run.path / name, png, mode)
    root = run.record.get("cache_dir")
    cache = Cache(root) if root and Path(root).is_dir() else None
    write(target, run_page(run.path, run.record, body, cache), mode)
    return target


def _write_bytes(path: Path, data: bytes, mode: int) -> None:
    from pipeline.cache.atomic import atomic_write

    atomic_write(path, data, mode=mode)


def link(run: rundir.Run, page: Path) -> str:
    """The run's name, linked to its report relative to ``page`` when it has one."""
    report = run.path / "report.html"
    if not report.exists():
        return escape(run.name)
    href = os.path.relpath(report.resolve(), page.resolve().parent)
    return f"<a href=\"{escape(Path(href).as_posix())}\">{escape(run.name)}</a>"


def _differing(runs: list[rundir.Run]) -> list[tuple[str, list]]:
    """``(key, value per run)`` of the config keys that are not the same in every run."""
    from pipeline.config import Config

    flats = [{k: v for k, v, _ in config_changes(r.record.get("config") or {})} for r in runs]
    defaults = Config().flat()
    keys = list(dict.fromkeys(k for flat in flats for k in flat))
    rows = [(k, [flat.get(k, defaults.get(k)) for flat in flats]) for k in keys]
    sources = [(r.record.get("data") or {}).get("source") for r in runs]
    if len(set(map(str, sources))) > 1:
        rows.insert(0, ("data (resolved)", sources))
    return [(k, values) for k, values in rows if len({repr(v) for v in values}) > 1]


def comparison(paths: list[str | Path], out: str | Path) -> Path:
    """Write one page comparing the runs in ``paths`` to ``out``: curves overlaid, what differs."""
    from pipeline.report.multi import overlay

    out = Path(out)
    runs = [rundir.load(p) for p in paths]
    labels = _labels(runs)
    best = max(range(len(runs)), key=lambda i: (runs[i].record.get("metrics") or {}).get("val_accuracy") or -1)
    metric_rows = [[link(r, out)] + [fmt((r.record.get("metrics") or {}).get(k)) for k, _, fmt in METRICS]
                   + [str(r.history.get("best_epoch") or "—"), escape(str(r.record.get("finished", "")))]
                   for r in runs]
    marks = ["best" if i == best else "" for i in range(len(runs))]
    differ = _differing(runs)
    config = (html.table(["key"] + [escape(label) for label in labels],
                         [[f"<code>{escape(k)}</code>"] + [f"<code>{html.value_text(v)}</code>" for v in values]
                          for k, values in differ])
              if differ else "<p>Every run has the same config.</p>")
    curves = overlay([(label, r.history) for label, r in zip(labels, runs)], legend=len(runs) <= 12)
    body = (f"<h1>{len(runs)} runs compared</h1>"
            + html.nav([("metrics", "Metrics"), ("config", "Config"), ("curves", "Curves")])
            + html.section("metrics", "Metrics (best validation accuracy in bold)",
                           html.table(["run"] + [t for _, t, _ in METRICS] + ["best epoch", "finished"],
                                      metric_rows, numeric=(1, 2, 3, 4, 5), row_classes=marks))
            + html.section("config", "Config keys that differ", config)
            + html.section("curves", "Curves", html.figure(curves, "validation loss and accuracy of every run",
                                                            "One colour per run; validation solid, train dashed.")))
    write(out, html.shell(f"pipeline: {len(runs)} runs compared", body), file_mode())
    return out


def _labels(runs: list[rundir.Run]) -> list[str]:
    """Each run's directory name, made unique when two runs share one."""
    names = [r.name for r in runs]
    return [n if names.count(n) == 1 else f"{n} ({r.path})" for n, r in zip(names, runs)]
