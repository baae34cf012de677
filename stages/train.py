"""Stage ``train``: mini-batch gradient descent on the MLP.

The arithmetic is :mod:`pipeline.nn.network`'s, run by :mod:`pipeline.nn.epochs` over the steps of
:mod:`pipeline.nn.minibatch`, with preallocated float32 buffers (the tests check one step of it
against :func:`pipeline.nn.network.gradients`).
Every product sums its inner axis in fixed blocks (:mod:`pipeline.nn.blocks`), so no bit depends
on the BLAS thread count (docs/design.md, "Determinism"). Training runs on one BLAS thread; the
first layer's two products of a large batch (:func:`blas_threads`) run on every thread allowed,
and those of a mini-batch on one or two, whichever :mod:`pipeline.nn.blas` measures faster.

The learning rate comes from a schedule plugin (:mod:`pipeline.hooks.rates`): epoch ``e``
(0-based) uses ``schedule(e, epochs, lr, **options)``, or, for a ``per_step`` schedule, step
``i`` of it uses ``schedule(e + i / steps, ...)``; ``lr`` is ``train.lr``, or the optimizer's
recommended rate when ``train.lr`` is ``"auto"``. The loss and accuracy of an epoch are accumulated over
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
from pipeline.hooks import rates
from pipeline.nn import blas, network, packing
from pipeline.nn.epochs import Epochs, Scorer
from pipeline.nn.inputs import Rows, labels

#: Batches whose largest matrix product has fewer multiply-adds (m * n * k) train on one BLAS
#: thread, larger ones on the library's default (every core). Measured on 2 cores, 784-64-10:
#: up to ~2000 rows a second OpenBLAS thread gains 0-30 % on an idle machine but costs 1.3-5.6x
#: with one competing CPU-bound process (its spinning workers stall each small product); from
#: ~4000 rows it gains 1.6x idle for 1.2-1.3x under load, and a full batch of 27 000 rows is
#: 2.8x faster idle and still 1.5x faster under load.
MULTITHREAD_PRODUCT = 1 << 27

#: Rows per forward pass when measuring the validation loss (memory only), unless the thread
#: tuner can share its threads with chunks of the training batch's shape (:func:`_scorer`). As
#: ``evaluate.batch_size``: 1024 rows keep a chunk's float32 copy at 3 MB (4096 raised the peak of a
#: process running three members by 27 MB) and are no slower (16 000 MNIST rows: 21 ms against 27 ms).
EVAL_BATCH = 1024

def blas_threads(params: list[np.ndarray], rows: int) -> int | None:
    """BLAS threads for the first layer of batches of ``rows`` rows: 1 (the tuner may use two),
    or None for every thread the process was allowed. Speed only: no bit depends on it."""
    largest = max(rows * w.shape[0] * w.shape[1] for w in network.weights(params))
    return None if largest >= MULTITHREAD_PRODUCT else 1


def _scorer(params, activation, x_val: Rows, y_val, rows: int, pace: blas.Tuner | None) -> Scorer:
    """The validation pass; in chunks of the training batch's shape when a tuner can share its threads."""
    y_val = np.ascontiguousarray(y_val, dtype=np.float32)
    scorer = Scorer(params, activation, x_val, y_val, rows if pace else EVAL_BATCH)
    if pace and rows in scorer.batches:
        pace.follow(scorer.batches[rows])
    return scorer


def _fit(t, params, x, y, x_val, y_val, activation, optimizer, progress, rate, per_step, events) -> dict:
    """The epoch loop with early stopping; updates ``params`` in place, returns the history."""
    keys = ("epoch", "lr", "loss", "acc", "val_loss", "val_acc")
    history: dict = {k: [] for k in keys} | {"best_epoch": None, "stopped_early": False}
    n = x.shape[0]
    full = t.batch_size == "full"
    epochs = Epochs(params, activation, t.weight_decay, x, y, None if full else t.batch_size)
    rng = np.random.default_rng(t.seed)
    has_val = x_val is not None and y_val is not None and len(x_val) > 0
    best_loss, best_params = math.inf, None
    rows = n if full else min(t.batch_size, n)                      # of a full-size batch
    threads = blas_threads(params, rows)
    with threadpool_limits(limits=1, user_api="blas") as limits:
        allowed = limits.get_original_num_threads().get("blas") or 1   # e.g. OPENBLAS_NUM_THREADS=1
        pace = None if full else blas.tuner(epochs.batches[rows], threads, allowed)
        if threads is None:             # a large batch: its first layer on every allowed thread
            epochs.batches[rows].parallel = blas.share(epochs.batches[rows], allowed)
        validate = _scorer(params, activation, x_val, y_val, rows, pace) if has_val else (lambda: (None, None))
        steps = 1 if full else -(-n // t.batch_size)
        for epoch in range(1, t.epochs + 1):
            lr = rate(epoch - 1)
            events("before_epoch", epoch=epoch, epochs=t.epochs, lr=lr)
            done = [0]

            def update(grads, loss_sum, epoch=epoch, lr=lr):
                step_lr = rate(epoch - 1 + done[0] / steps) if per_step else lr
                done[0] += 1
                if not math.isfinite(loss_sum):
                    raise TrainingError(f"the training loss became {loss_sum} in epoch {epoch} at learning rate "
                                        f"{step_lr:g} (train.lr = {t.lr}); lower train.lr, "
                                        f"e.g. --set train.lr={rate(0) / 10:g}")
                optimizer.step(grads, step_lr)

            loss_sum, correct = epochs.run(None if full else rng.permutation(n), update, pace)
            loss, acc = loss_sum / n, correct / n
            val_loss, val_acc = validate()
            for key, value in zip(keys, (epoch, lr, loss, acc, val_loss, val_acc)):
                history[key].append(value)
            progress.update("train", epoch, t.epochs, loss=loss, acc=acc, val_loss=val_loss, val_acc=val_acc)
            events("after_epoch", epoch=epoch, epochs=t.epochs, lr=lr, loss=loss, acc=acc, val_loss=val_loss,
                   val_acc=val_acc)
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


def run(cfg, *, params0: list[np.ndarray], x_raw: np.ndarray, x_raw_test: np.ndarray | None,
        y_all: np.ndarray, y_all_test: np.ndarray | None, preprocessing: dict, train_rows: np.ndarray,
        val_rows: np.ndarray | None, activation: Activation, optimizer: Callable,
        schedule: Callable | None = None, progress: Progress = SILENT,
        events: Callable[..., None] = lambda hook, **figures: None) -> dict:
    """Train the network from ``params0``.

    Reads the ``train`` section: ``lr`` (a number, or ``"auto"``: the
    optimizer factory's ``default_lr``, else 0.2), ``epochs``, ``batch_size`` (int or
    ``"full"``), ``weight_decay``, ``schedule`` (+ ``schedule_options``, ``step_size``, ``gamma``),
    ``patience`` (0 = no early stopping; otherwise stop after ``patience``
    epochs without a lower validation loss and return the best epoch's
    weights), ``seed`` (batch order) and ``optimizer_options``.

    Parameters
    ----------
    cfg : Config
        The configuration.
    params0 : list of ndarray
        Starting ``[W1, b1, ...]``; copied, never modified.
    x_raw, x_raw_test : ndarray, shapes (n, d) and (m, d) (or None)
        The source's pixels; rows are read through ``train_rows`` and ``val_rows`` and scaled
        by ``preprocessing`` as they are gathered (:class:`pipeline.nn.inputs.Rows`).
    y_all, y_all_test : ndarray, shapes (n, k) and (m, k) (or None)
        One-hot targets of those rows.
    preprocessing : dict
        From normalize (:func:`pipeline.nn.inputs.scale_into`).
    train_rows, val_rows : ndarray of int
        From split: row numbers in the concatenation of training and test rows; the
        validation rows are measured after every epoch (None or empty: no validation).
    activation : Activation
        Hidden-layer activation.
    optimizer : callable
        Factory ``optimizer(params, **cfg.train.optimizer_options)``.
    schedule : callable, optional
        ``schedule(epoch, epochs, lr, **options) -> float`` (see :mod:`pipeline.hooks.rates`);
        the runner passes the registered ``train.schedule``. Default: the built-in of that name.
    progress : Progress
        Receives ``update("train", epoch, epochs, loss=, acc=, val_loss=, val_acc=)``.
    events : callable
        ``events(hook, **figures)`` calls the observe-only ``before_epoch`` and
        ``after_epoch`` hooks; it must not change the results.

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
    params = packing.pack(params0)  # a copy (inputs may be read-only), in one buffer: fewer calls per update
    if schedule is None:  # called directly (tests, notebooks): the built-in schedule of that name
        from plugins.schedules import SCHEDULES

        schedule = SCHEDULES[t.schedule]
    opt = optimizer(params, **t.optimizer_options)
    lr, _ = rates.base_lr(t, optimizer)
    rate = rates.rate_function(t, schedule, lr)
    x = Rows([x_raw, x_raw_test], train_rows, preprocessing)
    y = np.ascontiguousarray(labels([y_all, y_all_test], train_rows), dtype=np.float32)
    has_val = val_rows is not None and len(val_rows) > 0
    x_val = Rows([x_raw, x_raw_test], val_rows, preprocessing) if has_val else None
    y_val = labels([y_all, y_all_test], val_rows) if has_val else None
    # NaN/inf is detected and reported as a TrainingError, so numpy's own warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = _fit(t, params, x, y, x_val, y_val, activation, opt, progress, rate, rates.per_step(schedule),
                       events)
    return {"params": params, "history": history}
