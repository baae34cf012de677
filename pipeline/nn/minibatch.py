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
- every product sums its inner axis in the fixed blocks of :func:`pipeline.nn.blocks.dot`, so
  its bits do not depend on the BLAS thread count; the first layer's two products (forward and
  weight gradient, most of the work) may run on several BLAS threads (:attr:`Batch.parallel`,
  switched while training by :mod:`pipeline.nn.blas`). Everything else, plugins included,
  always runs on one thread.
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Activation
from pipeline.nn import blocks, network, packing


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
    parallel : bool
        Run the first layer's two products on several threads, with ``threads(True)`` before
        each and ``threads(False)`` after (the same bits: :func:`pipeline.nn.blocks.dot`).
    threads : callable or None
        ``threads(many: bool)`` sets several BLAS threads or one; required when ``parallel``.
    """

    def __init__(self, params: list[np.ndarray], rows: int, activation: Activation,
                 weight_decay: float, gather: bool = True) -> None:
        f32 = np.float32
        widths = [w.shape[1] for w in network.weights(params)]
        self.params, self.rows, self.activation, self.weight_decay = params, rows, activation, weight_decay
        self.parallel = False
        self.threads = None
        if gather:
            self.x = np.empty((rows, params[0].shape[0]), f32)
        k = widths[-1]
        self.z = [np.empty((rows, w), f32) for w in widths]          # z[-1]: logits, then probs
        self.delta = [np.empty((rows, w), f32) for w in widths[:-1]]  # hidden-layer deltas
        # Scratch for the later blocks of a blocked product (blocks.dot), where an inner axis is cut.
        inner = [params[0].shape[0]] + widths[:-1]
        self.zpart = [np.empty_like(z) if len(blocks.bounds(k)) > 1 else None for z, k in zip(self.z, inner)]
        self.dpart = [np.empty_like(d) if len(blocks.bounds(k)) > 1 else None
                      for d, k in zip(self.delta, widths[1:])]
        blocked_rows = len(blocks.bounds(rows)) > 1
        self.gpart = [np.empty_like(w) if blocked_rows else None for w in network.weights(params)]
        self.row = np.empty((rows, 1), f32)                          # row max, then row sums
        self.logp = np.empty((rows, k), f32)
        self.grads = packing.like(params)            # packed as params are: see pipeline.nn.packing
        flat_params, flat_grads = packing.flat(params), packing.flat(self.grads)
        if flat_params is not None and flat_grads is not None:   # the weight decay in one pass over all weights
            weights = packing.weight_slice(params)
            self.decay = [(flat_params[weights], flat_grads[weights], np.empty(weights.stop, f32))]
        else:
            self.decay = [(w, g, np.empty_like(w)) for w, g in zip(network.weights(params), network.weights(self.grads))]
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
            if layer == 0 and self.parallel:
                self._many_thread_dot(x, params[0], z, self.zpart[0])
            else:
                blocks.dot(acts[-1], params[2 * layer], z, self.zpart[layer])
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

    def _many_thread_dot(self, a: np.ndarray, b: np.ndarray, out: np.ndarray, part: np.ndarray | None) -> None:
        """``out = a @ b`` in fixed blocks on several BLAS threads, then back to one."""
        self.threads(True)
        try:
            blocks.dot(a, b, out, part)
        finally:
            self.threads(False)

    def _backward(self, acts: list[np.ndarray], y: np.ndarray) -> None:
        """Backpropagate from the probabilities in ``z[-1]`` (overwritten) into :attr:`grads`."""
        delta = self.z[-1]
        delta -= y
        delta /= delta.shape[0]                           # (p - y) / n
        params, grads = self.params, self.grads
        for layer in range(len(self.z) - 1, -1, -1):
            w, gw = params[2 * layer], grads[2 * layer]
            if layer == 0 and self.parallel:
                self._many_thread_dot(acts[0].T, delta, gw, self.gpart[0])
            else:
                blocks.dot(acts[layer].T, delta, gw, self.gpart[layer])
            np.dot(self.ones_rows, delta, out=grads[2 * layer + 1])  # column sums
            if layer:                                     # the input layer's delta is never needed
                below = self.delta[layer - 1]
                blocks.dot(delta, w.T, below, self.dpart[layer - 1])
                below *= self.activation.derivative(self.z[layer - 1], acts[layer])
                delta = below
        if self.weight_decay:
            for w, gw, scratch in self.decay:                 # gw += weight_decay * w
                np.multiply(w, self.weight_decay, out=scratch)
                gw += scratch
