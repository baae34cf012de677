"""Stage ``export``: the trained model as ``model.npz`` (weights) and ``model.json`` (everything else)."""

from __future__ import annotations

import io
import json

import numpy as np

import pipeline
from pipeline.nn import network

#: Identifies the model files this stage writes; bump the version on any change of layout.
FORMAT, FORMAT_VERSION = "pipeline-mlp", 1


def _jsonable(value):
    """``json.dumps`` fallback for numpy arrays and scalars (e.g. in ``preprocessing``)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to model.json")


def _npz(params: list[np.ndarray]) -> bytes:
    """``W1, b1, W2, b2, ...`` as npz bytes, loadable with ``allow_pickle=False``."""
    arrays = {}
    for i in range(len(params) // 2):
        arrays[f"W{i + 1}"] = np.ascontiguousarray(params[2 * i])
        arrays[f"b{i + 1}"] = np.ascontiguousarray(params[2 * i + 1])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def run(cfg, *, params: list[np.ndarray], history: dict, metrics: dict, classes: list,
        preprocessing: dict, dataset: dict) -> dict:
    """Serialize the model.

    Reads the whole config (it is recorded in ``model.json``).

    Parameters
    ----------
    cfg : Config
        The whole configuration.
    params : list of ndarray
        Trained ``[W1, b1, ...]``; ``W`` (fan_in, fan_out), ``b`` (fan_out,).
    history : dict
        The training history.
    metrics : dict
        The evaluation metrics.
    classes : list
        Label of each output column.
    preprocessing : dict
        How raw pixels become inputs (from ``normalize``).
    dataset : dict
        Description of the data source (from ``fetch``).

    Returns
    -------
    dict
        ``{"model.npz": bytes, "model.json": bytes}``.
    """
    description = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "layers": network.layer_sizes(params),
        "activation": cfg.model.activation, "output": "softmax",
        "classes": list(classes), "preprocessing": preprocessing, "metrics": metrics,
        "data": dataset, "config": cfg.to_dict(), "history": history,
        "pipeline_version": pipeline.__version__,
    }
    text = json.dumps(description, indent=2, default=_jsonable) + "\n"
    return {"model.npz": _npz(params), "model.json": text.encode("utf-8")}
