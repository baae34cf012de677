"""Stage ``export``: the trained model as ``model.npz`` (weights), ``model.json`` (everything else)
and ``model.onnx`` (the whole model, preprocessing included, for any ONNX runtime)."""

from __future__ import annotations

import io
import json

import numpy as np

import pipeline
from pipeline.api import SILENT, Progress
from pipeline.errors import PluginError
from pipeline.nn import network
from pipeline.nn import onnx as onnx_graph

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


def _onnx(params: list[np.ndarray], onnx_activation, activation, name: str, classes: list,
          preprocessing: dict, progress: Progress, trusted: bool) -> bytes | None:
    """``model.onnx``, or None (and one warning line) when it cannot be built.

    The form is checked against the activation's ``forward`` unless both are ``trusted`` built-ins
    (the project's tests check those; the check loads onnx's reference evaluator: 80 ms, 10 MB).
    """
    if onnx_activation is None:
        progress.warn(f"model.onnx not written: activation '{name}' has no ONNX form (its plugin can "
                      f"add one with the pipeline_register_onnx_activations hook); model.npz and model.json are")
        return None
    if not onnx_graph.onnx_available():
        progress.warn(f"model.onnx not written: the onnx package is not installed; {onnx_graph.INSTALL_HINT}")
        return None
    if activation is None:
        raise TypeError("export needs the activation to check its ONNX form against its forward pass")
    metadata = {"activation": name, "layers": network.layer_sizes(params),
                "image_shape": preprocessing.get("image_shape"), "preprocessing": preprocessing}
    try:
        if not trusted:
            onnx_graph.check_form(onnx_activation, activation.forward)
    except onnx_graph.FormError as exc:
        raise PluginError(f"the ONNX form of activation '{name}': {exc}") from None
    return onnx_graph.build_model(params, onnx_activation, preprocessing, classes,
                                  json.loads(json.dumps(metadata, default=_jsonable)))


def run(cfg, *, params: list[np.ndarray], history: dict, metrics: dict, classes: list,
        preprocessing: dict, dataset: dict, activation=None, onnx_activation=None,
        progress: Progress = SILENT, builtin: frozenset = frozenset()) -> dict:
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
    activation : Activation, optional
        The hidden activation; its ONNX form is checked against its ``forward``.
    onnx_activation : callable or None
        The activation's ONNX form (``pipeline_register_onnx_activations``); None: it has none.
    progress : Progress
        Where the one line goes when no ``model.onnx`` can be written.
    builtin : frozenset of str
        Plugin kinds whose implementation is built in: when ``activation`` and
        ``onnx_activation`` both are, the form is not checked again (the tests do).

    Returns
    -------
    dict
        ``{"model.npz": bytes, "model.json": bytes, "model.onnx": bytes or None}``.
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
    return {"model.npz": _npz(params), "model.json": text.encode("utf-8"),
            "model.onnx": _onnx(params, onnx_activation, activation, cfg.model.activation, list(classes),
                                preprocessing, progress, {"activation", "onnx_activation"} <= builtin)}
