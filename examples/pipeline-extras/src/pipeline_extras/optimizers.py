"""Optimizer ``rmsprop`` (Hinton's lecture 6e, 2012).

``v = rho v + (1 - rho) g**2`` and ``p -= lr g / (sqrt(v) + eps)``, per array.
"""

from __future__ import annotations

import numpy as np


class RMSprop:
    """RMSprop; the class is the registered factory ``make(params, **options)``.

    Unknown options raise ``TypeError`` from ``__init__``, bad values
    ``ValueError``, both before the first step.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, W2, b2, ...]``, updated in place by :meth:`step`.
    rho : float
        Decay rate of the running mean of squared gradients, in ``[0, 1)``.
    eps : float
        Added to ``sqrt(v)`` so that a zero gradient history does not divide by 0.
    """

    #: The learning rate a run uses when train.lr is "auto" (the usual one for RMSprop).
    default_lr = 1e-3

    def __init__(self, params: list[np.ndarray], rho: float = 0.9, eps: float = 1e-8) -> None:
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rmsprop: rho must be in [0, 1), got {rho}")
        if not eps > 0.0:
            raise ValueError(f"rmsprop: eps must be positive, got {eps}")
        self.params = params
        self.rho, self.eps = rho, eps
        # State: one running mean per parameter, in its dtype. The scratch
        # buffers let a step run without allocating temporaries.
        self.mean_square = [np.zeros_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Apply one update; ``grads[i]`` has the shape of ``params[i]``."""
        for p, g, v, s in zip(self.params, grads, self.mean_square, self._scratch):
            v *= self.rho
            np.multiply(g, g, out=s)
            s *= 1.0 - self.rho
            v += s                          # v = rho v + (1 - rho) g**2
            np.sqrt(v, out=s)
            s += self.eps
            np.divide(g, s, out=s)
            s *= lr
            p -= s                          # p -= lr g / (sqrt(v) + eps)
