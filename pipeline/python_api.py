"""``pipeline.run(...)``: the command ``pipeline run`` as a Python function, for notebooks and scripts.

Everything the command checks is checked here, with the same one-line messages,
raised as :class:`pipeline.errors.PipelineError` subclasses (never ``SystemExit``).
Nothing is global: each call builds its own config, cache and plugin manager.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    record : dict
        The run record, as in ``run.json``.
    out_dir : Path
        The run directory.
    """

    record: dict[str, Any]
    out_dir: Path

    @property
    def stages(self) -> list[dict[str, Any]]:
        """``[{"name": "fetch", "status": "cached", "seconds": ..., "key": ...}, ...]``."""
        return self.record["stages"]

    @property
    def metrics(self) -> dict[str, Any]:
        """``metrics.json`` (losses, accuracies, per-class scores, confusion matrices), when evaluate ran."""
        path = self.out_dir / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else dict(self.record.get("metrics", {}))

    @property
    def history(self) -> dict[str, Any]:
        """The training history (``loss``, ``acc``, ``val_loss``, ``val_acc`` per epoch, ...), when exported."""
        path = self.out_dir / "model.json"
        return json.loads(path.read_text()).get("history", {}) if path.is_file() else {}

    @property
    def model(self) -> Any:
        """The exported model (:class:`pipeline.model.Model`)."""
        from pipeline.model import load_model

        return load_model(self.out_dir)


def _overrides(values: Mapping[str, Any] | Iterable[str] | None) -> list[tuple[str, Any]]:
    """``set=`` as ``(key, value)`` pairs: a dict of Python values, or ``"KEY=VALUE"`` strings as on the CLI."""
    from pipeline.toml_io import parse_assignment

    if values is None:
        return []
    if isinstance(values, Mapping):
        bad = [k for k in values if not isinstance(k, str)]
        if bad:
            raise ConfigError(f"set: keys must be 'section.key' strings, got {bad[0]!r}")
        return list(values.items())
    if isinstance(values, str):
        values = [values]
    try:
        return [parse_assignment(item) for item in values]
    except TypeError:
        raise ConfigError(f"set: expected a dict {{'train.lr': 0.1}} or 'KEY=VALUE' strings, "
                          f"got {type(values).__name__}") from None


def _config(config: str | Path | None, preset: str | None, overrides: list[tuple[str, Any]]) -> Any:
    from pipeline.config import build_config
    from pipeline.toml_io import read_toml

    if config is None and Path("pipeline.toml").is_file():  # as the command does
        config = "pipeline.toml"
    file_values = read_toml(Path(config)) if config is not None else {}
    return build_config(preset, file_values, overrides)


def run(set: Mapping[str, Any] | Iterable[str] | None = None, *, config: str | Path | None = None,  # noqa: A002
        preset: str | None = None, cache_dir: str | Path | None = None, out: str | Path | None = None,
        quiet: bool = False, only: str | None = None, start: str | None = None, stop: str | None = None,
        force: str | bool | None = None, block: Iterable[str] = ()) -> RunResult:
    """Run the stages, reusing cached ones, as ``python -m pipeline run`` does.

    Parameters
    ----------
    set : dict or list of str, optional
        Config overrides, ``{"train.lr": 0.1}`` or ``["train.lr=0.1"]`` (``--set``).
    config : str or Path, optional
        A TOML config file (default: ``pipeline.toml`` in the working directory, if any).
    preset : str, optional
        Named settings (``--preset``).
    cache_dir : str or Path, optional
        The cache (default: ``$PIPELINE_CACHE_DIR`` or ``~/.cache/pipeline``).
    out : str or Path, optional
        The run directory (default: a new ``runs/<time>``, with ``runs/latest`` pointing at the
        newest run that wrote a model).
    quiet : bool
        No progress bars or tables, only warnings; otherwise progress shows in the terminal
        or the notebook.
    only, start, stop : str, optional
        ``--only``, ``--from``, ``--to``: a stage name.
    force : str or bool, optional
        ``True`` ignores every cache hit; a stage name ignores that stage's and its dependants'.
    block : iterable of str
        Plugin names not to load (``-p no:NAME``).

    Raises
    ------
    PipelineError
        ``ConfigError`` (exit 2 on the command line), ``DataError``, ``TrainingError``, ... with the
        command's one-line message.
    """
    from pipeline.cache.store import Cache, default_cache_dir
    from pipeline.commands.run import out_dir_for, update_latest
    from pipeline.hooks.manager import load_plugins
    from pipeline.registry import Selection
    from pipeline.runner import Runner
    from pipeline.ui.base import QuietDisplay

    cfg = _config(config, preset, _overrides(set))
    cache = Cache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    plugins = load_plugins(blocked=list(block))
    selection = Selection(only, start, stop, "*" if force is True else (force or None))
    selection.resolve()
    if quiet:
        display = QuietDisplay()
    else:
        from rich.console import Console

        from pipeline.ui.terminal import RichDisplay

        display = RichDisplay(Console())  # rich draws in a notebook's output cell too
    out_dir, latest = out_dir_for(str(out) if out is not None else None)
    try:
        record = Runner(cfg, cache, plugins, display).run(selection, out_dir)
    except BaseException:
        if latest is not None and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    if latest is not None:
        update_latest(latest, out_dir, display.note)
    return RunResult(record, out_dir)
