"""Whole epochs and validation passes over :class:`pipeline.nn.minibatch.Batch` steps.

Batches are gathered with one ``np.take(..., out=, mode="clip")`` into the batch's buffer (and
scaled there, when the rows are raw pixels: :class:`pipeline.nn.inputs.Rows`); targets and labels
are gathered once per epoch, and the accuracy is counted once per epoch from
stored predictions (see :mod:`pipeline.nn.minibatch` for why).
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Activation
from pipeline.nn.inputs import Rows
from pipeline.nn.minibatch import Batch


class Epochs:
    """Passes over fixed rows ``x`` (n, d), ``y`` (n, k); the caller's ``update`` changes the weights.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ...]``, float32, updated in place by the caller's optimizer.
    activation : Activation
        Hidden-layer activation.
    weight_decay : float
        L2 coefficient.
    x : Rows or ndarray
        Training rows: :class:`pipeline.nn.inputs.Rows`, or a float32 array (n, d).
    y : ndarray
        One-hot targets (n, k), float32.
    batch_size : int or None
        Rows per batch (the last batch of an epoch has the remainder); None: one full batch.
    """

    def __init__(self, params: list[np.ndarray], activation: Activation, weight_decay: float,
                 x: np.ndarray, y: np.ndarray, batch_size: int | None) -> None:
        x = Rows.of(x)
        n = x.shape[0]
        self.x, self.y, self.size = x, y, batch_size or n
        self.labels = np.argmax(y, axis=1)
        self.pred = np.empty_like(self.labels)            # predicted classes, in epoch order
        if batch_size is None:                            # one batch of every row, scaled once
            self.dense = x.dense()
            self.batches = {n: Batch(params, n, activation, weight_decay, gather=False)}
            return
        self.order_y = np.empty_like(y)                   # targets and labels in this epoch's order
        self.order_labels = np.empty_like(self.labels)
        sizes = {min(batch_size, n), n % batch_size if n > batch_size else 0}
        self.batches = {rows: Batch(params, rows, activation, weight_decay) for rows in sizes if rows}

    def run(self, order: np.ndarray | None, update, pace=None) -> tuple[float, int]:
        """One pass over the rows in ``order`` (None for the full batch).

        For each batch: ``pace.tick(batch)`` (which may switch BLAS threads, see
        :class:`pipeline.nn.blas.Tuner`), the gradients, then ``update(grads, loss_sum)``.

        Returns
        -------
        loss_sum : float
            Summed cross-entropy, each batch measured just before its update.
        correct : int
            Correct predictions, counted the same way.
        """
        if order is None:
            batch = self.batches[self.x.shape[0]]
            loss_sum = batch.loss_and_gradients(self.dense, self.y, self.pred)
            update(batch.grads, loss_sum)
            return loss_sum, int(np.count_nonzero(self.pred == self.labels))
        np.take(self.y, order, axis=0, out=self.order_y, mode="clip")
        np.take(self.labels, order, out=self.order_labels, mode="clip")
        x, y_all, pred_all, size = self.x, self.order_y, self.pred, self.size
        n, total = x.shape[0], 0.0
        source_rows = x.map(order)                        # the epoch's rows, as numbered in the source
        pace = pace or STEADY
        pace.begin()
        try:
            for start in range(0, n, size):
                stop = min(start + size, n)
                batch = self.batches[stop - start]
                pace.tick(batch)
                x.gather(source_rows[start:stop], batch.x)
                loss_sum = batch.loss_and_gradients(batch.x, y_all[start:stop], pred_all[start:stop])
                update(batch.grads, loss_sum)
                total += loss_sum
        finally:
            pace.end()
        return total, int(np.count_nonzero(pred_all == self.order_labels))


class Steady:
    """The pace of a loop that never changes BLAS threads (:class:`pipeline.nn.blas.Tuner` does)."""

    def begin(self) -> None:
        """An epoch starts."""

    def tick(self, batch: Batch) -> None:
        """``batch`` is about to run."""

    def end(self) -> None:
        """The epoch is over (or failed)."""


STEADY = Steady()


class Scorer:
    """Loss and accuracy of fixed rows ``x`` (m, d), ``y`` (m, k) under the current weights.

    The validation set is measured after every epoch; this does it in chunks of ``chunk`` rows
    through preallocated buffers, with the arithmetic of :func:`pipeline.nn.network.cross_entropy`
    and :func:`pipeline.nn.network.accuracy` on :func:`pipeline.nn.network.predict_proba`'s output.
    """

    def __init__(self, params: list[np.ndarray], activation: Activation, x, y: np.ndarray,
                 chunk: int) -> None:
        x = Rows.of(x) if not isinstance(x, np.ndarray) or x.dtype != np.float32 else x
        self.x, self.y, self.chunk = x, y, chunk
        self.labels = np.argmax(y, axis=1)
        self.pred = np.empty_like(self.labels)
        m = x.shape[0]
        sizes = {min(chunk, m), m % chunk if m > chunk else 0}
        # Rows are gathered into each batch's own buffer: no chunk-sized array per chunk and epoch
        # (3 MB each, allocated and page-faulted anew where glibc returns freed memory at once).
        self.gathers = isinstance(x, Rows)
        self.batches = {rows: Batch(params, rows, activation, 0.0, gather=self.gathers) for rows in sizes if rows}

    def __call__(self) -> tuple[float, float]:
        """``(mean cross-entropy, accuracy)`` of the rows."""
        m, total = self.x.shape[0], 0.0
        for start in range(0, m, self.chunk):
            stop = min(start + self.chunk, m)
            batch = self.batches[stop - start]
            xb = self.x.gather(self.x.rows[start:stop], batch.x) if self.gathers else self.x[start:stop]
            total += batch.loss(xb, self.y[start:stop], self.pred[start:stop])[1]
        return total / m, int(np.count_nonzero(self.pred == self.labels)) / m
