"""The multi-layer perceptron, written out plainly: the reference math.

Parameters are a flat list ``[W1, b1, W2, b2, ...]``: ``W`` of shape
``(fan_in, fan_out)``, ``b`` of shape ``(fan_out,)``. Hidden layers apply an
activation plugin (:class:`pipeline.api.Activation`), the output layer a
softmax; the loss is the mean cross-entropy against one-hot targets plus an
optional L2 penalty ``0.5 * weight_decay * sum(W**2)`` on the weights only.

``stages/train.py`` runs the same arithmetic with preallocated buffers; its
tests check it against the functions here.
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Activation
from pipeline.nn import blocks


def weights(params: list[np.ndarray]) -> list[np.ndarray]:
    """The weight matrices ``[W1, W2, ...]`` of ``params``."""
    return params[0::2]


def layer_sizes(params: list[np.ndarray]) -> list[int]:
    """Widths of every layer, input first: ``[784, 64, 10]`` for a 784-64-10 net."""
    return [params[0].shape[0]] + [w.shape[1] for w in weights(params)]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``z`` (n, k); subtracting the row max avoids overflow."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def forward(params: list[np.ndarray], x: np.ndarray,
            activation: Activation) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run the network on a batch, keeping what backprop needs.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ..., WL, bL]``.
    x : ndarray, shape (n, d)
        Input rows.
    activation : Activation
        Applied after every layer but the last.

    Returns
    -------
    zs : list of ndarray
        Pre-activations ``z_l = a_{l-1} @ W_l + b_l``, shape (n, width_l), one per layer.
    acts : list of ndarray
        ``[x, a_1, ..., a_{L-1}, probs]``: the input, each hidden activation
        and the softmax output, shape (n, k).
    """
    zs: list[np.ndarray] = []
    acts = [x]
    n_layers = len(params) // 2
    for layer in range(n_layers):
        w, b = params[2 * layer], params[2 * layer + 1]
        z = blocks.dot(acts[-1], w) + b         # fixed blocks: the same bits on any BLAS thread count
        zs.append(z)
        acts.append(activation.forward(z) if layer < n_layers - 1 else softmax(z))
    return zs, acts


def cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy ``-sum(y * log p) / n`` of probabilities (n, k) against targets (n, k).

    Probabilities are clipped below at the dtype's smallest normal number so
    a saturated softmax gives a large finite loss rather than ``inf``.
    """
    tiny = np.finfo(probs.dtype).tiny
    return float(-np.sum(y * np.log(np.maximum(probs, tiny))) / probs.shape[0])


def l2_penalty(params: list[np.ndarray], weight_decay: float) -> float:
    """``0.5 * weight_decay * sum(W**2)`` over the weight matrices (biases excluded)."""
    return 0.5 * weight_decay * sum(float(np.sum(w * w)) for w in weights(params))


def objective(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, activation: Activation,
              weight_decay: float = 0.0) -> float:
    """The training objective: cross-entropy of the batch (n, d) -> (n, k) plus the L2 penalty."""
    _, acts = forward(params, x, activation)
    return cross_entropy(acts[-1], y) + l2_penalty(params, weight_decay)


def backward(params: list[np.ndarray], zs: list[np.ndarray], acts: list[np.ndarray], y: np.ndarray,
             activation: Activation, weight_decay: float = 0.0) -> list[np.ndarray]:
    """Gradients of :func:`objective` by backpropagation.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ..., WL, bL]``.
    zs, acts : list of ndarray
        As returned by :func:`forward` on the same batch.
    y : ndarray, shape (n, k)
        One-hot targets.
    activation : Activation
        The hidden-layer activation used in :func:`forward`.
    weight_decay : float
        L2 coefficient; adds ``weight_decay * W`` to each weight gradient.

    Returns
    -------
    list of ndarray
        ``[dW1, db1, ..., dWL, dbL]``, each shaped like its parameter.
    """
    n_layers = len(params) // 2
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    # Softmax followed by mean cross-entropy: d loss / d logits = (p - y) / n.
    delta = (acts[-1] - y) / y.shape[0]
    for layer in reversed(range(n_layers)):
        w = params[2 * layer]
        grads[2 * layer] = blocks.dot(acts[layer].T, delta) + weight_decay * w
        grads[2 * layer + 1] = delta.sum(axis=0)
        if layer > 0:
            delta = blocks.dot(delta, w.T) * activation.derivative(zs[layer - 1], acts[layer])
    return grads


def gradients(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, activation: Activation,
              weight_decay: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """:func:`objective` and its gradients on a batch ``x`` (n, d), ``y`` (n, k)."""
    zs, acts = forward(params, x, activation)
    loss = cross_entropy(acts[-1], y) + l2_penalty(params, weight_decay)
    return loss, backward(params, zs, acts, y, activation, weight_decay)


def predict_proba(params: list[np.ndarray], x: np.ndarray, activation: Activation,
                  batch_size: int = 4096) -> np.ndarray:
    """Class probabilities of every row, computed ``batch_size`` rows at a time.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ..., WL, bL]``, float32.
    x : ndarray, shape (n, d)
        Input rows (may be memory-mapped); each batch is cast to float32 on its
        own, so no full-size float64 temporary is ever made.
    activation : Activation
        The hidden-layer activation.
    batch_size : int
        Rows per forward pass; bounds memory, does not change the results.

    Products are summed in fixed blocks (:func:`pipeline.nn.blocks.dot`), on the BLAS threads
    in force where that gives one thread's bits (:func:`pipeline.nn.blocks.guard`), else on one.

    Returns
    -------
    ndarray of float32, shape (n, k)
    """
    out = np.empty((x.shape[0], params[-1].shape[0]), dtype=np.float32)
    rows = {min(batch_size, x.shape[0] - start) for start in range(0, x.shape[0], batch_size)}
    sizes = layer_sizes(params)
    with blocks.guard([(m, k, n) for m in rows for k, n in zip(sizes, sizes[1:])]):
        for start in range(0, x.shape[0], batch_size):
            xb = np.asarray(x[start:start + batch_size], dtype=np.float32)
            out[start:start + batch_size] = forward(params, xb, activation)[1][-1]
    return out


def accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose most probable class is the target's; ``probs``, ``y`` (n, k)."""
    return float(np.mean(probs.argmax(axis=1) == y.argmax(axis=1)))
