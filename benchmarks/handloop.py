"""The reference: a minimal hand-written NumPy mini-batch loop, no plugins, no framework.

The same math as the ``train`` stage with ``train.optimizer = "sgd"``, no weight decay and a
constant learning rate (784-64-10 by default: ReLU hidden layers, softmax, cross-entropy, the
gradient ``(p - y) / n`` backpropagated, no input-layer delta), written the way one would write
it by hand: fancy-index gathers, ``@``, fresh arrays for every intermediate. It keeps the
loss of each batch, as the stage does, so both do the same work apart from the stage's
per-epoch validation pass.
"""

from __future__ import annotations

import time

import numpy as np


def train(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, epochs: int, batch: int,
          lr: float, seed: int = 0) -> list[float]:
    """Train ``params`` ``[W1, b1, ...]`` in place on float32 ``x`` (n, d), one-hot ``y`` (n, k).

    Returns
    -------
    list of float
        Wall seconds of each epoch.
    """
    rng = np.random.default_rng(seed)
    n, n_layers = x.shape[0], len(params) // 2
    seconds = []
    for _ in range(epochs):
        began = time.perf_counter()
        order = rng.permutation(n)
        loss = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            acts, zs = [x[idx]], []
            for layer in range(n_layers):
                z = acts[-1] @ params[2 * layer] + params[2 * layer + 1]
                zs.append(z)
                acts.append(np.maximum(z, 0) if layer < n_layers - 1 else z)
            z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            yb = y[idx]
            loss -= float(np.sum(yb * np.log(np.maximum(p, np.finfo(np.float32).tiny))))
            delta = (p - yb) / len(idx)
            for layer in range(n_layers - 1, -1, -1):
                w = params[2 * layer]
                grad_w, grad_b = acts[layer].T @ delta, delta.sum(axis=0)
                if layer:
                    delta = (delta @ w.T) * (zs[layer - 1] > 0)
                w -= lr * grad_w
                params[2 * layer + 1] -= lr * grad_b
        if not np.isfinite(loss):
            raise FloatingPointError("the hand loop diverged")
        seconds.append(time.perf_counter() - began)
    return seconds
