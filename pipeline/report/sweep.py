"""A sweep's ``report.html``: every member's validation curve, the metric against each varied key
(the spread over seeds as error bars), the sweep's table, and a link to each member's report.

Reads ``sweep.json`` as the sweep command writes it::

    {"members": [{"overrides": {"train.lr": 0.1, ...}, "status": "ok" | "failed", "run_dir": "...",
                  "metrics": {"val_accuracy": ..., ...}, "seconds": ..., "error": "..."}, ...]}

``overrides`` holds only the keys the sweep varies; ``train.seed`` among them is the seed axis.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from pipeline.errors import DataError
from pipeline.report import html, rundir

#: The key whose values are repetitions of one point, not a setting to compare.
SEED = "train.seed"
#: The metric the sweep is judged by.
METRIC = "val_accuracy"


@dataclass
class Member:
    """One member of the sweep, with its run directory read back when it finished."""

    overrides: dict
    status: str
    metrics: dict
    seconds: float | None
    error: str
    run: rundir.Run | None = None
    report: Path | None = field(default=None)

    def value(self, key: str = METRIC) -> float | None:
        value = self.metrics.get(key)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _text(value: object) -> str:
    """A value as the sweep shows it: TOML-like, compact (``0.1``, ``[64]``, ``relu``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace(" ", "") if isinstance(value, (list, tuple)) else str(value)


def _resolve(sweep_dir: Path, run_dir: str | None) -> Path | None:
    if not run_dir:
        return None
    path = Path(run_dir)
    for candidate in ((path,) if path.is_absolute() else (sweep_dir / path, path)):
        if candidate.is_dir():
            return candidate
    return None


def load_members(sweep_dir: Path) -> list[Member]:
    """The members of ``sweep_dir/sweep.json``; a missing or malformed file is named in one line."""
    path = sweep_dir / "sweep.json"
    try:
        members = json.loads(path.read_text(encoding="utf-8"))["members"]
    except FileNotFoundError:
        raise DataError(f"'{sweep_dir}' has no sweep.json; give a directory written by `pipeline sweep`") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"'{path}' is not a sweep record ({exc}); expected {{\"members\": [...]}}") from None
    out = []
    for m in members:
        member = Member(dict(m.get("overrides") or {}), str(m.get("status", "")), dict(m.get("metrics") or {}),
                        m.get("seconds"), str(m.get("error") or ""))
        where = _resolve(sweep_dir, m.get("run_dir"))
        if where is not None and (where / "run.json").exists():
            member.run = rundir.load(where)
            if (where / "report.html").exists():
                member.report = where / "report.html"
        out.append(member)
    return out


def _label(overrides: dict, keys: list[str]) -> str:
    return " ".join(f"{k.split('.', 1)[1]}={_text(overrides.get(k))}" for k in keys) or "(no override)"


def _points(members: list[Member], keys: list[str]) -> dict[tuple, list[Member]]:
    """Finished members grouped by their non-seed settings (one point = all seeds of a setting)."""
    groups: dict[tuple, list[Member]] = {}
    for m in members:
        if m.status == "ok" and m.value() is not None:
            groups.setdefault(tuple(_text(m.overrides.get(k)) for k in keys if k != SEED), []).append(m)
    return groups


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0)


def _against_figures(members: list[Member], keys: list[str]) -> str:
    """The metric against each varied key, one line per setting of the other keys."""
    from pipeline.report.multi import against

    settings = [k for k in keys if k != SEED]
    groups = _points(members, keys)
    parts = []
    for i, key in enumerate(settings):
        values = sorted({g[i] for g in groups}, key=_order)
        others = [j for j in range(len(settings)) if j != i]
        lines = {}
        for point, ms in groups.items():
            label = " ".join(f"{settings[j].split('.', 1)[1]}={point[j]}" for j in others)
            mean, std = _mean_std([m.value() for m in ms])
            lines.setdefault(label, {})[point[i]] = (mean, std, len(ms))
        rows = [(label, [by.get(v, (math.nan,) * 3)[0] for v in values], [by.get(v, (0, 0, 0))[1] for v in values],
                 [by.get(v, (0, 0, 0))[2] for v in values]) for label, by in lines.items()]
        png = against(key, values, rows, "validation accuracy")
        parts.append(html.figure(png, f"validation accuracy against {key}"))
    if not parts:
        return html.note("Only the seed varies in this sweep: the table below shows the spread.")
    seeds = "; error bars: the standard deviation over seeds" if SEED in keys else ""
    return "<div class=\"grid2\">" + "".join(parts) + f"</div><p class=\"muted\">Mean over members{seeds}.</p>"


def _order(text: str) -> tuple:
    """Numbers in numeric order, then everything else as text."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _member_table(members: list[Member], keys: list[str], page: Path) -> str:
    ranked = sorted(members, key=lambda m: (m.status != "ok", -(m.value() or -1)))
    best = ranked[0] if ranked and ranked[0].status == "ok" else None
    rows, marks = [], []
    for m in ranked:
        status = escape(m.status) if m.status == "ok" else f"<span class=\"failed\">{escape(m.status)}</span>"
        link = (f"<a href=\"{escape(_rel(m.report, page))}\">report</a>" if m.report else "—")
        rows.append([f"<code>{escape(_text(m.overrides.get(k)))}</code>" for k in keys]
                    + [status, html.percent(m.value()), html.percent(m.value("test_accuracy")),
                       "—" if m.seconds is None else f"{float(m.seconds):.1f} s", link,
                       escape(m.error)])
        marks.append("best" if m is best else "")
    header = [escape(k) for k in keys] + ["status", "val accuracy", "test accuracy", "time", "member", "error"]
    n = len(keys)
    return html.table(header, rows, numeric=(n + 1, n + 2, n + 3), row_classes=marks)


def _point_table(members: list[Member], keys: list[str]) -> str:
    settings = [k for k in keys if k != SEED]
    groups = _points(members, keys)
    if SEED not in keys or not settings:
        return ""
    stats = sorted(((p, *_mean_std([m.value() for m in ms]), len(ms)) for p, ms in groups.items()),
                   key=lambda row: -row[1])
    rows = [[f"<code>{escape(v)}</code>" for v in p] + [f"{100 * mean:.2f} ± {100 * std:.2f} %", str(n)]
            for p, mean, std, n in stats]
    return ("<h3>Mean ± standard deviation over seeds</h3>"
            + html.table([escape(k) for k in settings] + ["val accuracy", "seeds"], rows,
                         numeric=(len(settings), len(settings) + 1),
                         row_classes=["best" if i == 0 else "" for i in range(len(rows))]))


def _rel(target: Path, page: Path) -> str:
    import os

    return Path(os.path.relpath(target.resolve(), page.resolve().parent)).as_posix()


def build_sweep_report(sweep_dir: str | Path) -> Path:
    """Write ``sweep_dir/report.html`` from ``sweep.json`` and the members' run directories.

    Returns
    -------
    Path
        The page written.

    Raises
    ------
    DataError
        ``sweep.json`` is missing or malformed.
    """
    from pipeline.report.compare import file_mode
    from pipeline.report.multi import overlay
    from pipeline.report.page import write

    sweep_dir = Path(sweep_dir)
    page = sweep_dir / "report.html"
    members = load_members(sweep_dir)
    keys = list(dict.fromkeys(k for m in members for k in m.overrides))
    ok = [m for m in members if m.status == "ok"]
    failed = len(members) - len(ok)
    with_curves = [(_label(m.overrides, keys), m.run.history) for m in ok if m.run is not None and m.run.history]
    curves = (html.figure(overlay(with_curves, legend=len(with_curves) <= 8, train=False),
                          "validation curves of every member",
                          "One line per finished member; the table names them.")
              if with_curves else html.note("No member has finished with a training history yet."))
    best = max(ok, key=lambda m: m.value() or -1, default=None)
    headline = html.cards([("members", str(len(members))), ("failed", str(failed)),
                           ("best val accuracy", html.percent(best.value() if best else None))])
    summary = (f"<p>Varied: {', '.join(f'<code>{escape(k)}</code>' for k in keys) or 'nothing'}."
               + (f" Best: {escape(_label(best.overrides, keys))}." if best else "") + "</p>")
    body = (f"<h1>Sweep {escape(sweep_dir.resolve().name)}</h1>" + headline + summary
            + html.nav([("curves", "Curves"), ("against", "Against each key"), ("table", "Members")])
            + html.section("curves", "Validation curves", curves)
            + html.section("against", "Validation accuracy against each varied key", _against_figures(members, keys))
            + html.section("table", "Members (best in bold)", _point_table(members, keys)
                           + "<h3>Every member</h3>" + _member_table(members, keys, page)))
    write(page, html.shell(f"pipeline sweep {sweep_dir.name}", body), file_mode())
    return page
