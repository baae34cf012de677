"""Arrays of the shapes the BLAS thread tuner is meant for, shared by the nn tests."""

from __future__ import annotations

import numpy as np


def mnist_shaped(n=640, d=784, k=10, seed=0):
    """Sparse pixels in [0, 1] and one-hot labels: the shapes the tuner is meant for."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32) * (rng.random((n, d)) < 0.2)
    return x.astype(np.float32), np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]


def params(d=784, h=64, k=10, seed=1):
    """Weights and biases of a ``d``-``h``-``k`` network, float32: ``[(d, h), (h,), (h, k), (k,)]``."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, s, shape).astype(np.float32)
            for s, shape in [(0.05, (d, h)), (0.01, (h,)), (0.2, (h, k)), (0.01, (k,))]]
