"""Activation ``swish``: ``f(z) = z * sigmoid(z)`` (Ramachandran et al. 2017, a.k.a. SiLU).

Both functions keep the dtype of ``z`` (float32 in training: Python scalars
are "weak" under NumPy's promotion rules) and never modify ``z``.
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Activation


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow.

    ``exp(-|z|)`` lies in ``(0, 1]`` for every ``z``, so it cannot overflow the
    way ``exp(-z)`` does for ``z = -1e4``: ``z >= 0`` gives ``1 / (1 + e)``,
    ``z < 0`` gives ``e / (1 + e)``.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def swish(z: np.ndarray) -> np.ndarray:
    """``z * sigmoid(z)``."""
    return z * _sigmoid(z)


def swish_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``f'(z) = s + z s (1 - s)`` with ``s = sigmoid(z)``, written as ``s (1 + z (1 - s))``.

    ``a`` is not needed: recomputing ``s`` is cheaper than dividing ``a`` by
    ``z``, which fails at ``z = 0``.
    """
    s = _sigmoid(z)
    return s * (1 + z * (1 - s))


#: The registered activation.
SWISH = Activation(swish, swish_derivative)


def swish_onnx(x: str, y: str) -> list:
    """The ONNX form of swish, ``y = x * Sigmoid(x)``, for ``model.onnx``."""
    return [("Sigmoid", [x], [y + "/sigmoid"], {}), ("Mul", [x, y + "/sigmoid"], [y], {})]
