"""Stage ``fetch``: load the raw data set named by ``data.source``.

The runner keys this stage's cache on :func:`pipeline.data.sources.source_identity`
(file sizes and mtimes, OpenML name, ...), so the data are read only when the
source changes.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.api import SILENT, Progress
from pipeline.data.sources import Source, load_source


def run(cfg, *, source: Source | None = None, progress: Progress = SILENT,
        data_home: str | Path | None = None) -> dict:
    """Load the training rows, the source's own test rows if any, and a description.

    Parameters
    ----------
    cfg : Config
        Reads ``cfg.data.source``: ``auto``, ``openml:NAME``, ``idx:DIR``, ``npz:FILE`` or ``digits``.
    progress : Progress
        Receives the download progress and the ``auto`` fallback warning.
    source : Source, optional
        The registered source of ``cfg.data.source``'s scheme (built-in or a plugin's);
        default: the built-in table.
    data_home : str or Path or None
        scikit-learn's download cache (``None``: its default, ``~/scikit_learn_data``).

    Returns
    -------
    dict
        ``x_raw`` (n, h*w) numeric, uint8 when the source is; ``y_raw`` (n,) int64, or str for
        non-numeric labels; ``x_raw_test`` (m, h*w) and ``y_raw_test`` (m,), or None when the
        source has no test set; ``dataset``, a JSON-able dict::

            {"source": "openml:mnist_784",   # resolved: "idx:/abs/dir", "npz:/abs/file", "digits"
             "requested": "auto",            # cfg.data.source as given
             "name": "mnist_784", "image_shape": [28, 28], "pixel_max": 255.0,
             "n_train": 60000, "n_test": 10000,   # n_test is 0 without a test set
             "note": None}                   # or the auto fallback message

    Raises
    ------
    ConfigError
        ``data.source`` has an unknown scheme.
    DataError
        Missing, unreachable, corrupt or inconsistent data.
    """
    table = None if source is None else {cfg.data.source.partition(":")[0].strip().lower(): source}
    data = load_source(cfg.data.source, data_home=data_home, progress=progress, sources=table)
    dataset = {
        "source": data.source,
        "requested": cfg.data.source,
        "name": data.name,
        "image_shape": [int(s) for s in data.image_shape],
        "pixel_max": float(data.pixel_max),
        "n_train": int(len(data.x)),
        "n_test": 0 if data.x_test is None else int(len(data.x_test)),
        "note": data.note,
    }
    return {"x_raw": data.x, "y_raw": data.y, "x_raw_test": data.x_test, "y_raw_test": data.y_test,
            "dataset": dataset}
