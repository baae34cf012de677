"""Initializer ``lecun_normal``: N(0, 1/fan_in) weights (LeCun et al. 1998).

Suited to activations that are roughly linear around 0 (tanh, swish): the
variance of a layer's pre-activations stays close to that of its inputs.
"""

from __future__ import annotations

import math

import numpy as np


def lecun_normal(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """A ``(fan_in, fan_out)`` float64 array of N(0, 1 / fan_in) draws.

    ``rng`` is the only source of randomness, so equal seeds give equal
    weights; one call draws the whole matrix, row-major.
    """
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(1.0 / fan_in)
