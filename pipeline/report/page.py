"""A run's ``report.html``: the header of this run around the cached sections of the ``report`` stage.

The header says what only the run knows (where its data came from, its config, its metrics,
the time of each stage, its files); the sections are drawn once per stage key. Building the
page never imports matplotlib (it is drawn by the stage), so a fully cached run stays fast.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from pipeline.cache.atomic import atomic_write
from pipeline.errors import DataError
from pipeline.report import html
from pipeline.report.body import SECTIONS

#: Files of a run directory the header links to, in this order, when present.
LINKED = ("run.json", "metrics.json", "model.json", "model.npz", "model.onnx")


def write(path: Path, text: str | None, mode: int) -> None:
    """Write the page atomically, or remove a stale one when there is no page (``text`` None)."""
    path = Path(path)
    if text is None:
        path.unlink(missing_ok=True)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"), mode=mode)
    except OSError as exc:
        raise DataError(f"cannot write the report '{path}' ({exc.strerror or exc}); choose another file "
                        "with --out") from None


def config_changes(config: dict[str, dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """``(key, value, default)`` of every config key whose value is not the default."""
    from pipeline.config import Config

    defaults = Config().flat()
    flat = {f"{s}.{k}": v for s, keys in config.items() for k, v in keys.items()}
    return [(k, v, defaults.get(k)) for k, v in flat.items() if k not in defaults or v != defaults[k]]


def _computed_seconds(record: dict, cache: Any) -> dict[str, float]:
    """Seconds each stage's output took to compute, from its cache entry (cached stages ran earlier)."""
    seconds = {}
    for stage in record.get("stages", []):
        entry = cache.lookup(stage["name"], stage["key"]) if cache is not None and stage.get("key") else None
        if entry is not None and isinstance(entry.meta.get("seconds"), (int, float)):
            seconds[stage["name"]] = float(entry.meta["seconds"])
        elif stage.get("status") == "ran":
            seconds[stage["name"]] = float(stage.get("seconds") or 0.0)
    return seconds


def _stages(record: dict, cache: Any) -> str:
    computed = _computed_seconds(record, cache)
    longest = max(computed.values(), default=0.0) or 1.0
    rows = []
    for stage in record.get("stages", []):
        name, status = stage["name"], stage.get("status", "")
        took = computed.get(name)
        bar = "" if took is None else f"<span class=\"bar\" style=\"width:{max(1, round(80 * took / longest))}px\"></span>"
        rows.append([escape(name), escape(status), "—" if took is None else f"{took:.2f} s", bar,
                     f"{float(stage.get('seconds') or 0):.2f} s"])
    return html.table(["stage", "this run", "computed in", "", "took this run"], rows, numeric=(2, 4))


def _data(data: dict) -> str:
    if not data:
        return "<p class=\"muted\">The data source was not part of this run.</p>"
    shape = "×".join(str(s) for s in data.get("image_shape") or [])
    text = (f"<p><b>Data:</b> <code>{escape(str(data.get('source')))}</code>"
            + (f" (asked for <code>{escape(str(data['requested']))}</code>)"
               if data.get("requested") not in (None, data.get("source")) else "")
            + f" — {escape(str(data.get('name', '')))}, {data.get('n_train', '?')} training images and "
            + (f"{data['n_test']} test images" if data.get("n_test") else "no test set of its own")
            + f", {escape(shape)} pixels.</p>")
    if data.get("note"):
        text += html.note(escape(str(data["note"])))
    return text


def _config(config: dict) -> str:
    changes = config_changes(config)
    if not changes:
        return "<p>Every config key has its default value.</p>"
    rows = [[f"<code>{escape(k)}</code>", f"<code>{html.value_text(v)}</code>",
             f"<code>{html.value_text(d)}</code>"] for k, v, d in changes]
    return html.table(["key", "value", "default"], rows)


def _files(out_dir: Path, extra: tuple[str, ...]) -> str:
    present = [name for name in LINKED if name == "run.json" or (out_dir / name).exists()]
    present += [name for name in extra if (out_dir / name).exists()]
    links = ", ".join(f"<a href=\"{escape(name)}\"><code>{escape(name)}</code></a>" for name in present)
    return f"<p><b>Files</b> (beside this page): {links}</p>"


def header(out_dir: Path, record: dict, cache: Any, pictures: tuple[str, ...] = ()) -> str:
    """The run's header: title, headline metrics, data, config changes, stage times, file links."""
    m = record.get("metrics") or {}
    title = f"<h1>Run {escape(out_dir.name)}</h1><p class=\"muted\">finished {escape(str(record.get('finished', '')))}" \
            f" · pipeline {escape(str(record.get('pipeline_version', '')))}</p>"
    numbers = html.cards([("test accuracy", html.percent(m.get("test_accuracy"))),
                          ("test loss", html.number(m.get("test_loss"))),
                          ("validation accuracy", html.percent(m.get("val_accuracy"))),
                          ("validation loss", html.number(m.get("val_loss")))])
    links = html.nav([("config", "Config")] + [("stages", "Stages")] + list(SECTIONS))
    return (title + numbers + _data(record.get("data") or {}) + _files(out_dir, pictures) + links
            + html.section("config", "Config: keys that differ from the defaults", _config(record.get("config") or {}))
            + html.section("stages", "Time per stage", _stages(record, cache)))


def run_page(out_dir: Path, record: dict, body: str | None, cache: Any = None) -> str | None:
    """The whole ``report.html`` of the run in ``out_dir``; None when the report is off (``body`` None).

    Parameters
    ----------
    out_dir : Path
        The run directory (the page links to the files in it).
    record : dict
        The run record (``run.json``).
    body : str or None
        The ``report`` stage's sections.
    cache : Cache, optional
        Where the stages' entries are, for the time each one took to compute.
    """
    if body is None:
        return None
    from pipeline.report.body import FILES

    return html.shell(f"pipeline run {out_dir.name}", header(Path(out_dir), record, cache, FILES) + body)
