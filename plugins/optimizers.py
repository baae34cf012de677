"""Built-in optimizers: plain SGD, (Nesterov) momentum and Adam.

A factory ``make(params, **options)`` returns an object whose
``step(grads, lr)`` updates every array of ``params`` in place. The factories
are the classes themselves, so an unknown option raises ``TypeError`` from
``__init__`` naturally. State is kept per parameter, in the parameter's dtype,
and scratch buffers are allocated once so a step creates no large temporaries.
The update rules follow scikit-learn's ``neural_network/_stochastic_optimizers.py``.

Every update is elementwise, so when the parameters and the gradients are packed in one buffer
each (:mod:`pipeline.nn.packing`; the train stage packs them), a step runs each ufunc once on the
whole buffer instead of once per array: the same bits, a fraction of the call overhead (about
2 µs per ufunc call, more than the arithmetic on a small array). Otherwise array by array.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline import hookimpl


class SGD:
    """Plain gradient descent: ``p -= lr * g``.

    Parameters
    ----------
    params : list of ndarray
        Arrays updated in place by :meth:`step`.
    """

    #: Used when ``train.lr`` is "auto".
    default_lr = 0.2

    def __init__(self, params: list[np.ndarray]) -> None:
        from pipeline.nn import packing       # here: a cached run registers plugins without the network code

        self.params = params
        self._scratch = packing.like(params)
        self._flat, self._flat_state = packing.Flat(params), [packing.flat(self._scratch)]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Apply one update; ``grads[i]`` has the shape of ``params[i]``."""
        g = self._flat(grads)
        pairs = [(self._flat.params, g, *self._flat_state)] if g is not None \
            else zip(self.params, grads, self._scratch)
        for p, g, s in pairs:
            np.multiply(g, lr, out=s)
            p -= s


class Momentum:
    """Heavy-ball momentum, optionally Nesterov's variant.

    ``v = momentum * v - lr * g``, then ``p += v``; with ``nesterov=True``,
    ``p += momentum * v - lr * g`` (the look-ahead form scikit-learn uses).

    Parameters
    ----------
    params : list of ndarray
        Arrays updated in place by :meth:`step`.
    momentum : float
        Fraction of the previous velocity kept at each step.
    nesterov : bool
        Use Nesterov's accelerated gradient.
    """

    #: Used when ``train.lr`` is "auto": tuned for the default MLP on MNIST with the cosine schedule.
    default_lr = 0.2

    def __init__(self, params: list[np.ndarray], momentum: float = 0.9, nesterov: bool = False) -> None:
        self.params = params
        self.momentum = momentum
        self.nesterov = nesterov
        from pipeline.nn import packing       # here: a cached run registers plugins without the network code

        self.velocities = packing.like(params)        # one per parameter (packed like them)
        for v in self.velocities:
            v[...] = 0
        self._scratch = packing.like(params)
        self._flat = packing.Flat(params)
        self._flat_state = [packing.flat(self.velocities), packing.flat(self._scratch)]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Apply one update; ``grads[i]`` has the shape of ``params[i]``."""
        g = self._flat(grads)
        groups = [(self._flat.params, g, *self._flat_state)] \
            if g is not None else zip(self.params, grads, self.velocities, self._scratch)
        for p, g, v, s in groups:
            np.multiply(g, lr, out=s)       # s = lr * g
            v *= self.momentum
            v -= s                          # v = momentum * v - lr * g
            if self.nesterov:               # p += momentum * v - lr * g, in two in-place steps
                p -= s
                np.multiply(v, self.momentum, out=s)
                p += s
            else:
                p += v


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction folded into the step size.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``p -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``.

    Parameters
    ----------
    params : list of ndarray
        Arrays updated in place by :meth:`step`.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates.
    eps : float
        Added to ``sqrt(v)`` to avoid dividing by zero.
    """

    #: Used when ``train.lr`` is "auto" (Kingma & Ba's recommendation).
    default_lr = 1e-3

    def __init__(self, params: list[np.ndarray], beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        from pipeline.nn import packing       # here: a cached run registers plugins without the network code

        self.m, self.v = packing.like(params), packing.like(params)
        for state in self.m + self.v:
            state[...] = 0
        self._scratch = packing.like(params)
        self._flat = packing.Flat(params)
        self._flat_state = [packing.flat(self.m), packing.flat(self.v), packing.flat(self._scratch)]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Apply one update; ``grads[i]`` has the shape of ``params[i]``."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        g = self._flat(grads)
        groups = [(self._flat.params, g, *self._flat_state)] \
            if g is not None else zip(self.params, grads, self.m, self.v, self._scratch)
        for p, g, m, v, s in groups:
            m *= b1
            np.multiply(g, 1 - b1, out=s)
            m += s                          # m = b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v += s                          # v = b2 v + (1 - b2) g**2
            np.sqrt(v, out=s)
            s += self.eps
            np.divide(m, s, out=s)
            s *= lr_t
            p -= s                          # p -= lr_t * m / (sqrt(v) + eps)


#: Name -> factory, as registered.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


@hookimpl
def pipeline_register_optimizers() -> dict:
    """Register the built-in optimizers."""
    return dict(OPTIMIZERS)
