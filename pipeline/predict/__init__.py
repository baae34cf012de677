"""Classify images with an exported model (``pipeline predict MODEL INPUT``).

:mod:`~pipeline.predict.models` loads ``model.npz`` + ``model.json`` or
``model.onnx``; :mod:`~pipeline.predict.inputs` reads arrays and image files
into raw pixels without guessing; :mod:`~pipeline.predict.report` prints
tables, CSV or JSON and the score against true labels;
:mod:`~pipeline.predict.command` is the command itself.
"""

from pipeline.predict.inputs import read_images
from pipeline.predict.models import (MODEL_FORMAT, MODEL_FORMAT_VERSION, Model, OnnxModel, Predictor, load_model,
                                     open_model, predict, prepare)

__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "Model", "OnnxModel", "Predictor", "load_model", "open_model",
           "predict", "prepare", "read_images"]
