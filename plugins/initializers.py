"""Built-in weight initializers.

An initializer is ``init(fan_in, fan_out, rng) -> ndarray (fan_in, fan_out)``
where ``rng`` is a ``numpy.random.RandomState`` (the only randomness allowed).
They return float64; the ``init`` stage casts to float32. Each draws the whole
matrix in one call, row-major, so ``normal`` with ``RandomState(42)`` and the
layers in order gives exactly the tutorial's
``np.random.seed(42); W1 = np.random.randn(784, 64) * 0.01; W2 = np.random.randn(64, 10) * 0.01``.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline import hookimpl

#: Standard deviation of the ``normal`` initializer (the tutorial's).
NORMAL_STD = 0.01


def normal(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """N(0, 0.01**2) entries, the tutorial's ``randn(fan_in, fan_out) * 0.01``."""
    return rng.standard_normal((fan_in, fan_out)) * NORMAL_STD


def he_normal(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """N(0, 2 / fan_in) entries (He et al. 2015), suited to ReLU layers."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """U(-l, l) entries with ``l = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


#: Name -> initializer, as registered.
INITIALIZERS = {
    "normal": normal,
    "he_normal": he_normal,
    "glorot_uniform": glorot_uniform,
}


@hookimpl
def pipeline_register_initializers() -> dict:
    """Register the built-in initializers."""
    return dict(INITIALIZERS)
