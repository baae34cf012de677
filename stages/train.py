"""Stage ``train``: mini-batch gradient descent on the MLP.

The arithmetic is :mod:`stages.network`'s, reorganised for speed: float32
throughout, every per-batch array preallocated once (:class:`_Batch`) and
filled with ``out=`` arguments and in-place ufuncs, batches gathered with
``np.take(..., out=...)``, BLAS threads pinned while the loop runs. The tests
check one step of it against :func:`stages.network.gradients`.

The learning-rate schedule is applied per epoch: epoch ``e`` (0-based) uses
``lr * factor(e)``. The loss and accuracy of an epoch are accumulated over
its mini-batches (each measured just before that batch's update); the loss
is the cross-entropy, without the L2 penalty, so it compares with
``val_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from pipeline.api import SILENT, Activation, Progress
from pipeline.errors import TrainingError
from stages import network

#: Batches below this many rows train with one BLAS thread; larger ones keep
#: the library's default. Measured on 2 cores (784-64-10): at 128 rows one
#: thread gives 0.19 s/epoch, two 0.15-0.27 s and far worse when the machine is
#: busy, because OpenBLAS workers spin between the many small products; from
#: about 1024 rows (and for full batches) two threads are 1.6x faster.
SINGLE_THREAD_BELOW = 1024

#: Rows per forward pass when measuring the validation loss (memory only).
EVAL_BATCH = 4096

#: Schedule name -> factor of ``train.lr`` for a 0-based epoch.
SCHEDULES: dict[str, Callable[..., float]] = {
    "constant": lambda t, epoch: 1.0,
    "step": lambda t, epoch: t.gamma ** (epoch // t.step_size),
    "cosine": lambda t, epoch: 0.5 * (1.0 + math.cos(math.pi * epoch / t.epochs)),
}


def learning_rate(t, epoch: int) -> float:
    """Learning rate of the 0-based ``epoch`` under the ``train`` section ``t``."""
    return t.lr * SCHEDULES[t.schedule](t, epoch)


class _Batch:
    """Preallocated buffers for batches of ``rows`` rows and one fused forward/backward pass.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ...]`` float32, read at every :meth:`step`.
    rows : int
        Rows per batch.
    activation : Activation
        Hidden-layer activation.
    weight_decay : float
        L2 coefficient.
    gather : bool
        Allocate ``x``, ``y``, ``labels`` for :meth:`gather` (not needed for full batches).
    """

    def __init__(self, params: list[np.ndarray], rows: int, activation: Activation,
                 weight_decay: float, gather: bool = True) -> None:
        f32 = np.float32
        widths = [w.shape[1] for w in network.weights(params)]
        self.params, self.rows, self.activation, self.weight_decay = params, rows, activation, weight_decay
        if gather:
            self.x = np.empty((rows, params[0].shape[0]), f32)
            self.y = np.empty((rows, widths[-1]), f32)
            self.labels = np.empty(rows, np.intp)
        self.z = [np.empty((rows, w), f32) for w in widths]          # z[-1]: logits, then probs
        self.delta = [np.empty((rows, w), f32) for w in widths[:-1]]  # hidden-layer deltas
        self.row = np.empty((rows, 1), f32)                          # row max, then row sums
        self.logp = np.empty((rows, widths[-1]), f32)
        self.grads = [np.empty_like(p) for p in params]
        self.decay = [np.empty_like(w) for w in network.weights(params)]
        self.tiny = np.finfo(f32).tiny

    def gather(self, x: np.ndarray, y: np.ndarray, labels: np.ndarray, idx: np.ndarray) -> None:
        """Copy rows ``idx`` of ``x`` (n, d), ``y`` (n, k), ``labels`` (n,) into the buffers."""
        np.take(x, idx, axis=0, out=self.x, mode="clip")
        np.take(y, idx, axis=0, out=self.y, mode="clip")
        np.take(labels, idx, out=self.labels, mode="clip")

    def step(self, x: np.ndarray, y: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        """Fill :attr:`grads` with the gradients of the objective on one batch.

        Parameters
        ----------
        x : ndarray of float32, shape (rows, d)
        y : ndarray of float32, shape (rows, k)
            One-hot targets.
        labels : ndarray of int, shape (rows,)
            ``y.argmax(axis=1)``.

        Returns
        -------
        loss_sum : float
            Sum over the rows of the cross-entropy (no L2 penalty), before the update.
        correct : int
            Rows whose most probable class is the label.
        """
        acts = self._forward(x)
        probs = self.z[-1]
        correct = int(np.count_nonzero(probs.argmax(axis=1) == labels))
        np.maximum(probs, self.tiny, out=self.logp)
        np.log(self.logp, out=self.logp)
        loss_sum = -float(np.vdot(self.logp, y))
        self._backward(acts, y)
        return loss_sum, correct

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Hidden activations ``[x, a1, ...]``; leaves the softmax output in ``z[-1]``."""
        acts = [x]
        last = len(self.z) - 1
        for layer, z in enumerate(self.z):
            np.dot(acts[-1], self.params[2 * layer], out=z)
            z += self.params[2 * layer + 1]
            if layer < last:
                acts.append(self.activation.forward(z))
        np.max(z, axis=1, keepdims=True, out=self.row)   # softmax in place, as network.softmax
        z -= self.row
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=self.row)
        z /= self.row
        return acts

    def _backward(self, acts: list[np.ndarray], y: np.ndarray) -> None:
        """Backpropagate from the probabilities in ``z[-1]`` (overwritten) into :attr:`grads`."""
        delta = self.z[-1]
        delta -= y
        delta /= self.rows                               # (p - y) / n
        for layer in reversed(range(len(self.z))):
            w, gw = self.params[2 * layer], self.grads[2 * layer]
            np.dot(acts[layer].T, delta, out=gw)
            if self.weight_decay:
                np.multiply(w, self.weight_decay, out=self.decay[layer])
                gw += self.decay[layer]
            np.sum(delta, axis=0, out=self.grads[2 * layer + 1])
            if layer > 0:
                below = self.delta[layer - 1]
                np.dot(delta, w.T, out=below)
                below *= self.activation.derivative(self.z[layer - 1], acts[layer])
                delta = below


class _Epochs:
    """Passes over fixed training rows ``x`` (n, d), ``y`` (n, k), updating ``params`` in place."""

    def __init__(self, t, params: list[np.ndarray], optimizer, activation: Activation,
                 x: np.ndarray, y: np.ndarray) -> None:
        self.t, self.params, self.optimizer, self.activation = t, params, optimizer, activation
        self.x, self.y, self.labels = x, y, y.argmax(axis=1)
        self.rng = np.random.default_rng(t.seed)
        self.buffers: dict[int, _Batch] = {}  # by rows: the full batch size and the last, partial one

    def _buffers(self, rows: int, gather: bool = True) -> _Batch:
        if rows not in self.buffers:
            self.buffers[rows] = _Batch(self.params, rows, self.activation, self.t.weight_decay, gather)
        return self.buffers[rows]

    def _update(self, batch: _Batch, x, y, labels, epoch: int, lr: float) -> tuple[float, int]:
        """One gradient step on one batch; stops on a NaN/inf loss, naming the epoch and the rate."""
        loss_sum, correct = batch.step(x, y, labels)
        if not math.isfinite(loss_sum):
            raise TrainingError(f"the training loss became {loss_sum} in epoch {epoch} at learning rate "
                                f"{lr:g} (train.lr = {self.t.lr:g}); lower train.lr, "
                                f"e.g. --set train.lr={self.t.lr / 10:g}")
        self.optimizer.step(batch.grads, lr)
        return loss_sum, correct

    def run(self, epoch: int, lr: float) -> tuple[float, float]:
        """One pass in a fresh seeded order (one step if full-batch); the accumulated (loss, accuracy)."""
        n, size = self.x.shape[0], self.t.batch_size
        if size == "full":
            loss_sum, correct = self._update(self._buffers(n, gather=False), self.x, self.y, self.labels,
                                             epoch, lr)
            return loss_sum / n, correct / n
        order = self.rng.permutation(n)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, size):
            idx = order[start:start + size]
            batch = self._buffers(idx.size)
            batch.gather(self.x, self.y, self.labels, idx)
            batch_loss, batch_correct = self._update(batch, batch.x, batch.y, batch.labels, epoch, lr)
            loss_sum += batch_loss
            correct += batch_correct
        return loss_sum / n, correct / n


def _validate(params, x, y, activation) -> tuple[float | None, float | None]:
    if x is None or y is None or x.shape[0] == 0:
        return None, None
    probs = network.predict_proba(params, x, activation, EVAL_BATCH)
    return network.cross_entropy(probs, y), network.accuracy(probs, y)


def _fit(t, params, x, y, x_val, y_val, activation, optimizer, progress) -> dict:
    """The epoch loop with early stopping; updates ``params`` in place, returns the history."""
    keys = ("epoch", "lr", "loss", "acc", "val_loss", "val_acc")
    history: dict = {k: [] for k in keys} | {"best_epoch": None, "stopped_early": False}
    epochs = _Epochs(t, params, optimizer, activation, x, y)
    best_loss, best_params = math.inf, None
    for epoch in range(1, t.epochs + 1):
        lr = learning_rate(t, epoch - 1)
        loss, acc = epochs.run(epoch, lr)
        val_loss, val_acc = _validate(params, x_val, y_val, activation)
        for key, value in zip(keys, (epoch, lr, loss, acc, val_loss, val_acc)):
            history[key].append(value)
        progress.update("train", epoch, t.epochs, loss=loss, acc=acc, val_loss=val_loss, val_acc=val_acc)
        if val_loss is not None and val_loss < best_loss:
            best_loss, history["best_epoch"] = val_loss, epoch
            best_params = [p.copy() for p in params] if t.patience else None
        if t.patience and val_loss is not None and epoch - history["best_epoch"] >= t.patience:
            history["stopped_early"] = epoch < t.epochs
            break
    if best_params is not None:  # early stopping on: hand back the best epoch's weights
        for p, best in zip(params, best_params):
            p[...] = best
    return history


def run(cfg, *, params0: list[np.ndarray], x_train: np.ndarray, y_train: np.ndarray,
        x_val: np.ndarray | None, y_val: np.ndarray | None, activation: Activation,
        optimizer: Callable, progress: Progress = SILENT) -> dict:
    """Train the network from ``params0``.

    Reads the ``train`` section: ``lr``, ``epochs``, ``batch_size`` (int or
    ``"full"``), ``weight_decay``, ``schedule`` (+ ``step_size``, ``gamma``),
    ``patience`` (0 = no early stopping; otherwise stop after ``patience``
    epochs without a lower validation loss and return the best epoch's
    weights), ``seed`` (batch order) and ``optimizer_options``.

    Parameters
    ----------
    cfg : Config
        The configuration.
    params0 : list of ndarray
        Starting ``[W1, b1, ...]``; copied, never modified.
    x_train, y_train : ndarray, shapes (n, d) and (n, k)
        Training rows (float32 in [0, 1]) and one-hot targets.
    x_val, y_val : ndarray or None, shapes (m, d) and (m, k)
        Validation rows, measured after every epoch.
    activation : Activation
        Hidden-layer activation.
    optimizer : callable
        Factory ``optimizer(params, **cfg.train.optimizer_options)``.
    progress : Progress
        Receives ``update("train", epoch, epochs, loss=, acc=, val_loss=, val_acc=)``.

    Returns
    -------
    dict
        ``{"params": [...], "history": {...}}``; the history holds per-epoch
        lists ``epoch, lr, loss, acc, val_loss, val_acc`` and ``best_epoch``,
        ``stopped_early``.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite.
    """
    t = cfg.train
    params = [np.array(p, dtype=np.float32, order="C") for p in params0]  # a copy: inputs may be read-only
    opt = optimizer(params, **t.optimizer_options)
    x = np.ascontiguousarray(x_train, dtype=np.float32)
    y = np.ascontiguousarray(y_train, dtype=np.float32)
    rows = x.shape[0] if t.batch_size == "full" else min(t.batch_size, x.shape[0])
    threads = 1 if rows < SINGLE_THREAD_BELOW else None
    # NaN/inf is detected and reported as a TrainingError, so numpy's own warnings would only be noise.
    with threadpool_limits(limits=threads, user_api="blas"), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = _fit(t, params, x, y, x_val, y_val, activation, opt, progress)
    return {"params": params, "history": history}
