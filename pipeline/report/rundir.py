"""A finished run directory read back: its record, metrics, history and weights, for rebuilding pages.

The gallery's predictions and images are not files of a run; they are read from the run's
cache entries (``run.json`` names the cache and each stage's key) while the cache still holds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import DataError


@dataclass
class Run:
    """The files of one run directory (``metrics`` and ``model`` are None when missing)."""

    path: Path
    record: dict
    metrics: dict | None
    model: dict | None

    @property
    def name(self) -> str:
        """The directory's name (``runs/latest`` resolves to the run it points at)."""
        return self.path.resolve().name

    @property
    def history(self) -> dict:
        """The train history, or an empty one."""
        return (self.model or {}).get("history") or {}


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"'{path}' cannot be read as JSON ({exc}); was it written by `pipeline run`?") from None


def load(path: str | Path) -> Run:
    """Read the run directory ``path``; one that is not a finished run is named in one line."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"'{path}' is not a directory; give run directories written by `pipeline run`, "
                        "e.g. runs/latest")
    record = _json(path / "run.json")
    if record is None:
        raise DataError(f"'{path}' has no run.json, so it is not a finished run; give a directory written by "
                        "`pipeline run` (a run interrupted before the end has none)")
    return Run(path, record, _json(path / "metrics.json"), _json(path / "model.json"))


def _entry_outputs(run: Run, stage: str) -> Any:
    """The lazily loaded outputs of ``stage``'s cache entry for this run, or None."""
    from pipeline.cache.store import Cache
    from pipeline.errors import CacheError

    keys = {s["name"]: s.get("key") for s in run.record.get("stages", [])}
    root = run.record.get("cache_dir")
    if not root or not keys.get(stage) or not Path(root).is_dir():
        return None
    try:
        entry = Cache(root).lookup(stage, keys[stage])
    except CacheError:
        return None
    return None if entry is None else entry.outputs()


def gallery_rows(run: Run) -> tuple | None:
    """``(split, x, y, proba)`` of the run's test rows (else validation rows) from the cache, or None.

    The rows are read as the stages read them: the source's pixels (fetch), targets (encode) and
    row numbers (split) through normalize's recipe (:class:`pipeline.nn.inputs.Rows`).
    """
    from pipeline.cache.entry import CorruptEntry
    from pipeline.nn.inputs import Rows, labels

    entries = {stage: _entry_outputs(run, stage) for stage in ("fetch", "normalize", "encode", "split", "evaluate")}
    if any(e is None for e in entries.values()) or "probabilities" not in entries["evaluate"]:
        return None
    try:
        probabilities = entries["evaluate"]["probabilities"]
        name = "test" if probabilities.get("test") is not None else "val"
        rows = entries["split"][f"{name}_rows"]
        fetch, encode = entries["fetch"], entries["encode"]
        x = Rows([fetch["x_raw"], fetch["x_raw_test"]], rows, entries["normalize"]["preprocessing"])
        return name, x, labels([encode["y_all"], encode["y_all_test"]], rows), probabilities[name]
    except (CorruptEntry, KeyError, OSError):
        return None


def inputs(run: Run) -> Any:
    """The :class:`pipeline.report.body.Inputs` of a run, from its files (and the cache, for the gallery)."""
    import numpy as np

    from pipeline.report.body import Inputs

    if run.metrics is None or run.model is None:
        raise DataError(f"'{run.path}' has no metrics.json or model.json (was it run with --to?); "
                        "the report needs a run that went through evaluate and export")
    try:
        with np.load(run.path / "model.npz", allow_pickle=False) as npz:
            w1 = np.array(npz["W1"])
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"'{run.path / 'model.npz'}' cannot be read ({exc}); re-run `pipeline run`") from None
    model = run.model
    shape = (model.get("preprocessing") or {}).get("image_shape") or (model.get("data") or {}).get("image_shape")
    return Inputs(run.history, run.metrics, w1, list(shape or [1, w1.shape[0]]), model.get("preprocessing") or {},
                  list(model.get("classes") or run.metrics.get("classes") or []), gallery_rows(run))
