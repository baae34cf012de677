"""The training loop's arithmetic: :mod:`pipeline.nn.network`'s math with no allocation per batch.

Same formulas as :func:`pipeline.nn.network.gradients`, reorganised for speed (measured on MNIST,
784-64-10, batch 128; the benchmark in ``benchmarks/`` repeats the measurements). This module
holds one batch's step (:class:`Batch`); :mod:`pipeline.nn.epochs` runs it over epochs.

- float32 throughout; every per-batch array is allocated once (:class:`Batch`) and written with
  ``out=`` arguments and in-place ufuncs, so a step creates no large temporaries;
- one ``np.take(..., out=, mode="clip")`` gather of the batch rows into a buffer that stays in
  the CPU cache for the two big products (``mode="clip"`` skips the bounds-check copy); targets
  and labels are gathered once per epoch, since they are small. (Gathering the next batch on a
  helper thread saved 9 % on an idle machine but cost 6-20 % on a busy one, where the helper
  holding the GIL gets descheduled: not kept.)
- no input-layer delta (nothing uses it: a third of the work of a 784-64-10 net);
- the accuracy is counted once per epoch from stored predictions, not per batch;
- row maxima and row or column sums without NumPy's reductions, which are slow over a short
  axis (a gather at the argmax; products with a vector of ones);
- the first layer's two products (forward and weight gradient, most of the work) on one BLAS
  thread or two, switched while training by :mod:`pipeline.nn.blas`, with the same bits either way:
  on one thread the forward product is summed in the two blocks that OpenBLAS's two-thread
  code uses (:attr:`Batch.split`, found by :func:`pipeline.nn.blas.calibrate`). Everything else,
  plugins included, always runs on one thread.
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Activation
from pipeline.nn import network


class Batch:
    """Preallocated buffers for batches of ``rows`` rows and one fused forward/backward pass.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ...]`` float32, read at every :meth:`loss_and_gradients`.
    rows : int
        Rows per batch.
    activation : Activation
        Hidden-layer activation.
    weight_decay : float
        L2 coefficient.
    gather : bool
        Allocate ``x``, the buffer :class:`pipeline.nn.epochs.Epochs` gathers a batch's rows into
        (not needed for full batches).

    Attributes
    ----------
    split : int or None
        On one BLAS thread (``parallel`` false), compute the first layer's product as
        ``x[:, :split] @ W1[:split] + x[:, split:] @ W1[split:]``: the summation order of the
        two-thread product, so that switching threads changes no bit. None: one product.
    parallel : bool
        Run the first layer's two products on two threads, with ``threads(True)`` before each
        and ``threads(False)`` after.
    threads : callable or None
        ``threads(two: bool)`` sets two BLAS threads or one; required when ``parallel``.
    """

    def __init__(self, params: list[np.ndarray], rows: int, activation: Activation,
                 weight_decay: float, gather: bool = True) -> None:
        f32 = np.float32
        widths = [w.shape[1] for w in network.weights(params)]
        self.params, self.rows, self.activation, self.weight_decay = params, rows, activation, weight_decay
        self.split: int | None = None
        self.parallel = False
        self.threads = None
        if gather:
            self.x = np.empty((rows, params[0].shape[0]), f32)
        k = widths[-1]
        self.z = [np.empty((rows, w), f32) for w in widths]          # z[-1]: logits, then probs
        self.delta = [np.empty((rows, w), f32) for w in widths[:-1]]  # hidden-layer deltas
        self.part = np.empty((rows, widths[0]), f32)                 # second block of a split product
        self.row = np.empty((rows, 1), f32)                          # row max, then row sums
        self.logp = np.empty((rows, k), f32)
        self.grads = [np.empty_like(p) for p in params]
        self.decay = [np.empty_like(w) for w in network.weights(params)]
        self.tiny = np.finfo(f32).tiny
        # Row maxima as logits[i, argmax_i] and sums over rows or columns as products with a
        # vector of ones: a few times cheaper than NumPy's reductions over a short axis.
        self.flat = np.empty(rows, np.intp)
        self.offsets = np.arange(rows) * k
        self.ones_rows, self.ones_k = np.ones(rows, f32), np.ones(k, f32)

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray, pred: np.ndarray) -> float:
        """Fill :attr:`grads` with the gradients of the objective on one batch.

        Parameters
        ----------
        x : ndarray of float32, shape (rows, d)
        y : ndarray of float32, shape (rows, k)
            One-hot targets.
        pred : ndarray of int, shape (rows,)
            Receives each row's most probable class.

        Returns
        -------
        float
            Sum over the rows of the cross-entropy (no L2 penalty), before the update.
        """
        acts, loss_sum = self.loss(x, y, pred)
        self._backward(acts, y)
        return loss_sum

    def loss(self, x: np.ndarray, y: np.ndarray, pred: np.ndarray) -> tuple[list[np.ndarray], float]:
        """Forward pass: the activations ``[x, a1, ...]`` and the summed cross-entropy of the rows.

        The predicted classes go into ``pred`` (rows,), the probabilities stay in ``z[-1]``.
        """
        acts = self._forward(x)
        probs, logp = self.z[-1], self.logp
        np.argmax(probs, axis=1, out=pred)
        np.maximum(probs, self.tiny, out=logp)   # as network.cross_entropy: clip, log, sum
        np.log(logp, out=logp)
        return acts, -float(np.vdot(logp, y))

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Hidden activations ``[x, a1, ...]``; leaves the softmax output in ``z[-1]``."""
        acts = [x]
        params, last = self.params, len(self.z) - 1
        for layer, z in enumerate(self.z):
            if layer == 0:
                self._first_product(x, params[0], z)
            else:
                np.dot(acts[-1], params[2 * layer], out=z)
            z += params[2 * layer + 1]
            if layer < last:
                acts.append(self.activation.forward(z))
        row, row_flat = self.row, self.row.reshape(-1)    # softmax in place, as network.softmax
        np.argmax(z, axis=1, out=self.flat)
        self.flat += self.offsets
        np.take(z.reshape(-1), self.flat, out=row_flat)  # the row maxima
        z -= row
        np.exp(z, out=z)
        np.dot(z, self.ones_k, out=row_flat)             # the row sums
        z /= row
        return acts

    def _first_product(self, x: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
        """``out = x @ w``: on two threads, or on one summed as the blocks ``[:split]``, ``[split:]``."""
        if self.parallel:
            self._two_thread_dot(x, w, out)
        elif self.split:
            s = self.split
            np.dot(x[:, :s], w[:s], out=out)
            np.dot(x[:, s:], w[s:], out=self.part)
            out += self.part
        else:
            np.dot(x, w, out=out)

    def _two_thread_dot(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out = a @ b`` on two BLAS threads, then back to one."""
        self.threads(True)
        np.dot(a, b, out=out)
        self.threads(False)

    def _backward(self, acts: list[np.ndarray], y: np.ndarray) -> None:
        """Backpropagate from the probabilities in ``z[-1]`` (overwritten) into :attr:`grads`."""
        delta = self.z[-1]
        delta -= y
        delta /= delta.shape[0]                           # (p - y) / n
        params, grads = self.params, self.grads
        for layer in range(len(self.z) - 1, -1, -1):
            w, gw = params[2 * layer], grads[2 * layer]
            if layer == 0 and self.parallel:              # inner axis = rows: the same bits on one thread or two
                self._two_thread_dot(acts[0].T, delta, gw)
            else:
                np.dot(acts[layer].T, delta, out=gw)
            if self.weight_decay:
                np.multiply(w, self.weight_decay, out=self.decay[layer])
                gw += self.decay[layer]
            np.dot(self.ones_rows, delta, out=grads[2 * layer + 1])  # column sums
            if layer:                                     # the input layer's delta is never needed
                below = self.delta[layer - 1]
                np.dot(delta, w.T, out=below)
                below *= self.activation.derivative(self.z[layer - 1], acts[layer])
                delta = below
