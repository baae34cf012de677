"""``pipeline predict MODEL INPUT``: classify images with an exported model.

Only what ``export`` writes is accepted: ``model.npz`` (arrays only, loaded
with ``allow_pickle=False``) beside ``model.json`` (``format`` =
``"pipeline-mlp"``). Nothing is unpickled.
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


def read_images(path: str | Path) -> np.ndarray:
    """Images from an IDX file (``.gz`` ok), an ``.npy`` or an ``.npz``; shape (n, ...) numeric."""
    images = _read_images(Path(path))
    if images.dtype.kind not in "uif" or images.ndim == 0 or images.shape[0] == 0:
        raise DataError(f"'{path}': expected numeric images (n, h, w) or (n, pixels), got dtype {images.dtype} "
                        f"and shape {images.shape}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise DataError(f"'{path}': images hold NaN or infinite pixel values")
    return images


def _read_images(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"input file '{path}' does not exist" + (" (it is a directory)" if path.is_dir() else "")
                        + "; give an IDX file (.gz ok), .npy or .npz")
    from pipeline.data.sources import numpy_file_kind

    if path.suffix in (".npy", ".npz") and numpy_file_kind(path) != path.suffix[1:]:
        raise DataError(f"'{path}' is not {'an' if path.suffix == '.npz' else 'a'} {path.suffix} file "
                        f"(wrong signature); give an IDX file (.gz ok), .npy or .npz")
    if path.suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"'{path}' is not a plain .npy array: {exc}") from None
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                names = npz.files
                name = next((n for n in ("x_test", "x", "images", "x_train") if n in names),
                            names[0] if len(names) == 1 else None)
                if name is None:
                    raise DataError(f"'{path}' holds {names}; expected an array named x_test, x or images")
                return npz[name]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(f"'{path}' is not a readable npz file: {exc}") from None
    from pipeline.data.idx import read_idx

    return read_idx(path)


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


def run_predict(model_path: str, input_path: str, limit: int, console: Any, plugins: Any = None) -> int:
    """The ``predict`` command: print a table of predictions and the class counts."""
    from rich.table import Table

    from pipeline.errors import PluginError
    from pipeline.hooks.manager import load_plugins

    model = load_model(model_path)
    name = model.meta["activation"]
    try:
        activation = (plugins or load_plugins()).get("activation", name, "model.json activation").obj
    except PluginError as exc:  # the model needs a plugin this installation lacks
        raise ModelFileError(f"the model in '{model_path}' needs activation '{name}', which is not "
                             f"registered here: {exc}") from None
    probs = predict(model, read_images(input_path), activation)
    classes = model.meta.get("classes") or list(range(probs.shape[1]))
    best = probs.argmax(axis=1)
    table = Table(title=f"predictions ({len(best)} images)", title_justify="left")
    for column in ("row", "class", "probability"):
        table.add_column(column, justify="right")
    shown = len(best) if limit <= 0 else min(limit, len(best))
    for i in range(shown):
        table.add_row(str(i), str(classes[best[i]]), f"{probs[i, best[i]]:.3f}")
    console.print(table)
    counts = np.bincount(best, minlength=len(classes))
    console.print("counts: " + ", ".join(f"{c}: {n}" for c, n in zip(classes, counts)))
    return 0
