"""Built-in activation functions for the hidden layers.

Each function maps a float array ``z`` of shape ``(n_rows, width)`` to a new
array of the same shape and dtype and never modifies ``z``; its derivative
``f'(z)`` is given ``z`` and ``a = f(z)`` and uses whichever is cheaper.
Python scalars in the formulas are "weak" (NEP 50), so float32 stays float32.
"""

from __future__ import annotations

import functools

import numpy as np

from pipeline import hookimpl
from pipeline.api import Activation

#: Slope of ``leaky_relu`` for negative inputs.
LEAKY_SLOPE = 0.01


def relu(z: np.ndarray) -> np.ndarray:
    """``max(z, 0)``."""
    return np.maximum(z, 0)


def relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1 where ``z > 0``, else 0 (the subgradient at 0 is taken as 0)."""
    return (z > 0).astype(z.dtype)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    """``z`` where ``z > 0``, else ``0.01 * z``."""
    return np.where(z > 0, z, z * LEAKY_SLOPE)


def leaky_relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1 where ``z > 0``, else 0.01."""
    one, slope = z.dtype.type(1), z.dtype.type(LEAKY_SLOPE)
    return np.where(z > 0, one, slope)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``, computed without overflow.

    ``exp(-|z|)`` is in ``(0, 1]`` for every ``z``, so nothing overflows:
    ``z >= 0`` gives ``1 / (1 + e)``, ``z < 0`` gives ``e / (1 + e)``.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def sigmoid_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``a * (1 - a)``."""
    return a * (1 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(z)


def tanh_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``1 - a**2``."""
    return 1 - a * a


#: Name -> activation, as registered.
ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(relu, relu_derivative),
    "leaky_relu": Activation(leaky_relu, leaky_relu_derivative),
    "sigmoid": Activation(sigmoid, sigmoid_derivative),
    "tanh": Activation(tanh, tanh_derivative),
}


@hookimpl
def pipeline_register_activations() -> dict[str, Activation]:
    """Register the built-in activations."""
    return dict(ACTIVATIONS)


def _one_op(op_type: str, x: str, y: str, **attributes: float) -> list:
    """The ONNX form of an activation that is one ONNX operator: ``y = op_type(x)``."""
    return [(op_type, [x], [y], dict(attributes))]


#: Name -> ONNX form (see ``pipeline_register_onnx_activations``).
ONNX_FORMS = {
    # partials, so that the op and its attributes are part of the plugin's fingerprint
    "relu": functools.partial(_one_op, "Relu"),
    "leaky_relu": functools.partial(_one_op, "LeakyRelu", alpha=LEAKY_SLOPE),
    "sigmoid": functools.partial(_one_op, "Sigmoid"),
    "tanh": functools.partial(_one_op, "Tanh"),
}


@hookimpl
def pipeline_register_onnx_activations() -> dict:
    """The ONNX operators of the built-in activations, for ``model.onnx``."""
    return dict(ONNX_FORMS)
