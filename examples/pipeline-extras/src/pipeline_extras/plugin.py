"""The registration hooks of pipeline-extras (entry point ``pipeline-extras``)."""

from __future__ import annotations

from pipeline import hookimpl
from pipeline.api import Activation

from pipeline_extras.activations import SWISH, swish_onnx
from pipeline_extras.initializers import lecun_normal
from pipeline_extras.optimizers import RMSprop
from pipeline_extras.schedules import one_cycle


@hookimpl
def pipeline_register_activations() -> dict[str, Activation]:
    """Register ``swish``."""
    return {"swish": SWISH}


@hookimpl
def pipeline_register_onnx_activations() -> dict:
    """The ONNX form of ``swish``, so that export writes ``model.onnx`` for it too."""
    return {"swish": swish_onnx}


@hookimpl
def pipeline_register_initializers() -> dict:
    """Register ``lecun_normal``."""
    return {"lecun_normal": lecun_normal}


@hookimpl
def pipeline_register_optimizers() -> dict:
    """Register ``rmsprop``; its options are ``rho`` and ``eps``."""
    return {"rmsprop": RMSprop}


@hookimpl
def pipeline_register_schedules() -> dict:
    """Register ``one_cycle``; its options are ``pct_start``, ``div_factor`` and ``final_div``."""
    return {"one_cycle": one_cycle}
