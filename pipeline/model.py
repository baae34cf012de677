"""A trained model for Python code: ``pipeline.load_model(run_dir).predict(images)``.

It reads what ``predict`` reads and converts nothing silently: arrays are
checked and converted exactly as by the command (:mod:`pipeline.predict.inputs`),
and the conversions made are kept in :attr:`Model.steps`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.predict.models import Predictor, open_model


class Model:
    """An exported model (``model.npz`` + ``model.json``, or ``model.onnx``).

    Attributes
    ----------
    path : Path
        Where it was loaded from.
    classes : list
        The label of each output column.
    image_shape : tuple of int or None
        ``(h, w)`` of the images it was trained on.
    meta : dict
        ``model.json`` (layers, activation, preprocessing, metrics, config, ...).
    steps : list of str
        The conversions made to the images of the last call (``"float values in [0, 1]
        scaled to 0-255"``, ``"inverted ..."``), empty when none were needed.
    """

    def __init__(self, predictor: Predictor, path: Path):
        self._predictor, self.path = predictor, path
        self.steps: list[str] = []

    @property
    def classes(self) -> list[Any]:
        return self._predictor.classes

    @property
    def image_shape(self) -> tuple[int, int] | None:
        return self._predictor.image_shape

    @property
    def meta(self) -> dict[str, Any]:
        return self._predictor.meta

    def __repr__(self) -> str:
        layers = "-".join(map(str, self.meta["layers"]))
        return f"<pipeline Model {layers} {self.meta.get('activation')} from '{self.path}'>"

    def _pixels(self, images: Any) -> np.ndarray:
        from pipeline.errors import DataError
        from pipeline.predict.inputs import Notes, flatten, read_inputs, to_model_units

        p, notes = self._predictor, Notes()
        if isinstance(images, (str, Path)):
            pixels = read_inputs(images, p.n_features, p.image_shape, p.pixel_max, notes).pixels
        else:
            array = np.asarray(images)
            if array.dtype.kind not in "uif" or array.size == 0:
                raise DataError(f"images: expected a numeric array (n, h, w) or (n, pixels), got dtype "
                                f"{array.dtype} and shape {array.shape}")
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise DataError("images: hold NaN or infinite pixel values")
            x = flatten(array, p.n_features, p.image_shape, "images", notes)
            pixels = to_model_units(x, p.pixel_max, "images", notes)
        self.steps = notes.lines()
        return pixels

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        images : array_like or str or Path
            uint8 ``(n, h, w)`` or ``(n, pixels)``, one ``(h, w)`` image, floats in [0, 1]
            or in the training data's range; or a file, directory or glob as ``predict`` reads.

        Returns
        -------
        ndarray of float32, shape (n, len(classes))
        """
        return self._predictor.proba(self._pixels(images))

    def predict(self, images: Any) -> np.ndarray:
        """The most probable class label of each image, shape (n,) (see :meth:`predict_proba`)."""
        probs = self.predict_proba(images)
        return np.asarray(self.classes)[probs.argmax(axis=1)]


def load_model(path: str | Path, plugins: Any = None) -> Model:
    """Load a run directory (``runs/latest``), its ``model.npz``, or a ``model.onnx``.

    Parameters
    ----------
    path : str or Path
        A ``.onnx`` file runs through onnxruntime; anything else is ``model.npz`` with ``model.json``.
    plugins : Plugins, optional
        Where the activation of a NumPy model is looked up (default: the installed plugins).

    Raises
    ------
    ModelFileError
        Missing, foreign or malformed model files, or an activation that is not installed.
    """
    return Model(open_model(path, plugins), Path(path))
