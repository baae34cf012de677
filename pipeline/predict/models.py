"""Loading exported models: ``model.npz`` + ``model.json`` (NumPy) or ``model.onnx`` (onnxruntime).

Only what ``export`` writes is accepted: ``model.npz`` (arrays only, loaded
with ``allow_pickle=False``) beside ``model.json`` (``format`` =
``"pipeline-mlp"``), or a ``model.onnx`` whose metadata says
``"pipeline-mlp-onnx"``. Nothing is unpickled.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import DataError, ModelFileError

MODEL_FORMAT, MODEL_FORMAT_VERSION = "pipeline-mlp", 1


@dataclass(frozen=True)
class Model:
    """An exported model: weights and the metadata needed to use them."""

    params: list[np.ndarray]   # [W1, b1, ...], float32
    meta: dict[str, Any]       # model.json


def is_model_path(path: str | Path) -> bool:
    """Whether ``path`` looks like a model: a run directory with one, ``model.npz`` or a ``.onnx`` file."""
    path = Path(path)
    if path.is_dir():
        return (path / "model.json").is_file() or (path / "model.onnx").is_file()
    return path.is_file() and (path.suffix == ".onnx" or path.name == "model.npz")


def _model_paths(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        return path / "model.npz", path / "model.json"
    return path, path.with_name("model.json") if path.name == "model.npz" else path.with_suffix(".json")


def load_model(path: str | Path) -> Model:
    """Read and check ``model.npz`` + ``model.json`` (or the run directory holding them)."""
    npz_path, json_path = _model_paths(Path(path))
    for p in (npz_path, json_path):
        if not p.is_file():
            raise ModelFileError(f"model file '{p}' does not exist; give a run directory or its model.npz "
                                 f"(written by `pipeline run` with model.json beside it)")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"'{json_path}' is not JSON ({exc}); expected the model.json written by export") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"'{json_path}' is not a pipeline model description "
                             f"(format {meta.get('format') if isinstance(meta, dict) else None!r}, "
                             f"expected '{MODEL_FORMAT}')")
    if meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelFileError(f"'{json_path}': format_version {meta.get('format_version')!r} is not supported "
                             f"(this pipeline reads version {MODEL_FORMAT_VERSION}); re-export the model")
    layers = meta.get("layers")
    if not (isinstance(layers, list) and len(layers) >= 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in layers)):
        raise ModelFileError(f"'{json_path}': 'layers' must list the positive layer widths, got {layers!r}")
    _check_meta(meta, json_path)
    from pipeline.data.sources import numpy_file_kind

    if numpy_file_kind(npz_path) != "npz":  # else np.load would try it as a pickle
        raise ModelFileError(f"'{npz_path}' is not a weights-only npz file (no zip signature); "
                             f"expected the model.npz written by export")
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"'{npz_path}' is not a weights-only npz file: {exc}") from None
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(layers, layers[1:]), start=1):
        w, b = arrays.get(f"W{i}"), arrays.get(f"b{i}")
        if w is None or b is None or w.shape != (fan_in, fan_out) or b.shape != (fan_out,):
            raise ModelFileError(f"'{npz_path}': W{i}/b{i} missing or not shaped ({fan_in}, {fan_out}) / "
                                 f"({fan_out},) as model.json's layers {layers} say")
        if w.dtype.kind != "f" or b.dtype.kind != "f" or not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ModelFileError(f"'{npz_path}': W{i}/b{i} must hold finite floating-point weights "
                                 f"(dtypes {w.dtype}, {b.dtype})")
        params += [w.astype(np.float32, copy=False), b.astype(np.float32, copy=False)]
    return Model(params, meta)


def _check_meta(meta: dict[str, Any], json_path: Path) -> None:
    """Classes and preprocessing of model.json, as export writes them."""
    classes = meta.get("classes")
    if not (isinstance(classes, list) and len(classes) == meta["layers"][-1]):
        raise ModelFileError(f"'{json_path}': 'classes' must list one label per output "
                             f"({meta['layers'][-1]}), got {classes!r}")
    if not isinstance(meta.get("activation"), str):
        raise ModelFileError(f"'{json_path}': 'activation' must name an activation, got {meta.get('activation')!r}")
    pre = meta.get("preprocessing", {})
    if not isinstance(pre, dict):
        raise ModelFileError(f"'{json_path}': 'preprocessing' must be an object, got {pre!r}")
    for key in ("scale", "mean", "std"):
        value = pre.get(key, 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) \
                or (key != "mean" and value == 0):
            raise ModelFileError(f"'{json_path}': preprocessing.{key} must be a finite number"
                                 f"{'' if key == 'mean' else ' other than 0'}, got {value!r}")


def prepare(model: Model, images: np.ndarray) -> np.ndarray:
    """Flatten and preprocess images exactly as the training data was: float32 (n, d)."""
    n_features = model.meta["layers"][0]
    if images.ndim < 1 or not np.issubdtype(images.dtype, np.number):
        raise DataError(f"input images must be a numeric array, got dtype {images.dtype}")
    x = images.reshape(images.shape[0], -1) if images.ndim > 1 else images.reshape(1, -1)
    if x.shape[1] != n_features:
        shape = model.meta.get("preprocessing", {}).get("image_shape")
        raise DataError(f"input images have {x.shape[1]} pixels ({images.shape[1:]}), but the model was "
                        f"built for {n_features}" + (f" ({shape[0]}x{shape[1]} images)" if shape else ""))
    pre = model.meta.get("preprocessing", {})
    scale, mean, std = (np.float32(pre.get(k, d)) for k, d in (("scale", 1.0), ("mean", 0.0), ("std", 1.0)))
    out = np.multiply(x, scale, dtype=np.float32)
    out -= mean
    out /= std
    return out


def predict(model: Model, images: np.ndarray, activation: Any, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities, float32 (n, k)."""
    from pipeline.nn.network import predict_proba

    return predict_proba(model.params, prepare(model, images), activation, batch_size)


@dataclass(frozen=True)
class OnnxModel:
    """A ``model.onnx`` written by export, run by onnxruntime; ``meta`` as in model.json."""

    path: Path
    session: Any               # onnxruntime.InferenceSession
    meta: dict[str, Any]       # layers, classes, preprocessing, activation


def load_onnx(path: str | Path) -> OnnxModel:
    """Open ``model.onnx`` with onnxruntime and read its metadata.

    Raises
    ------
    ModelFileError
        onnxruntime is missing, the file is not ONNX, or it was not written by export.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file '{path}' does not exist; give a run directory, its model.npz "
                             f"or its model.onnx")
    try:
        import onnxruntime
    except ImportError:
        raise ModelFileError(f"'{path}': running a .onnx model needs onnxruntime (pip install onnxruntime); "
                             f"or give the run directory to use model.npz") from None
    from pipeline.nn.onnx import ONNX_FORMAT

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for foreign files
        raise ModelFileError(f"'{path}' is not a model onnxruntime can load: {' '.join(str(exc).split())[:200]}") \
            from None
    props = session.get_modelmeta().custom_metadata_map
    if props.get("format") != ONNX_FORMAT:
        raise ModelFileError(f"'{path}' is not a pipeline ONNX model (metadata format {props.get('format')!r}, "
                             f"expected '{ONNX_FORMAT}')")
    try:
        meta = {key: json.loads(props[key]) for key in ("layers", "classes", "preprocessing")}
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"'{path}': metadata entry {exc} is missing or not JSON; re-export the model") from None
    meta["activation"] = props.get("activation", "?")
    return OnnxModel(path, session, meta)


@dataclass(frozen=True)
class Predictor:
    """A loaded model, ready to turn raw pixels into class probabilities.

    Attributes
    ----------
    model : Model or OnnxModel
    activation : Activation or None
        The hidden activation (NumPy models; the ONNX graph has its own).
    """

    model: Model | OnnxModel
    activation: Any = None

    @property
    def meta(self) -> dict[str, Any]:
        return self.model.meta

    @property
    def classes(self) -> list[Any]:
        return list(self.meta["classes"])

    @property
    def n_features(self) -> int:
        return int(self.meta["layers"][0])

    @property
    def pixel_max(self) -> float:
        """The largest raw pixel value of the training data (255 for MNIST)."""
        data = self.meta.get("data") or {}
        if isinstance(data.get("pixel_max"), (int, float)) and data["pixel_max"] > 0:
            return float(data["pixel_max"])
        # scale is float32(1 / pixel_max): its inverse is pixel_max to a few ulps
        return round(1.0 / float(self.meta.get("preprocessing", {}).get("scale", 1.0)), 2)

    @property
    def image_shape(self) -> tuple[int, int] | None:
        shape = self.meta.get("preprocessing", {}).get("image_shape")
        if shape and len(shape) == 2 and shape[0] * shape[1] == self.n_features:
            return int(shape[0]), int(shape[1])
        side = int(round(self.n_features ** 0.5))
        return (side, side) if side * side == self.n_features else None

    def proba(self, pixels: np.ndarray) -> np.ndarray:
        """Probabilities float32 (n, k) of raw pixels (n, d) in the training data's units."""
        if isinstance(self.model, OnnxModel):
            x = np.ascontiguousarray(pixels, dtype=np.float32)
            return self.model.session.run(["probabilities"], {"pixels": x})[0]
        return predict(self.model, pixels, self.activation)


def open_model(path: str | Path, plugins: Any = None) -> Predictor:
    """Load a run directory, ``model.npz`` or ``model.onnx`` for prediction.

    Parameters
    ----------
    path : str or Path
        A ``.onnx`` file runs through onnxruntime; anything else is read as ``model.npz``
        with ``model.json`` beside it.
    plugins : Plugins, optional
        Where the NumPy model's activation is looked up (default: the installed plugins).
    """
    if Path(path).suffix == ".onnx":
        return Predictor(load_onnx(path))
    from pipeline.errors import PluginError
    from pipeline.hooks.manager import load_plugins

    model = load_model(path)
    name = model.meta["activation"]
    try:
        activation = (plugins or load_plugins()).get("activation", name, "model.json activation").obj
    except PluginError as exc:  # the model needs a plugin this installation lacks
        raise ModelFileError(f"the model in '{path}' needs activation '{name}', which is not "
                             f"registered here: {exc}") from None
    return Predictor(model, activation)
