"""Stage ``split``: train / validation / test rows, as scikit-learn's ``train_test_split`` draws them.

:mod:`pipeline.data.holdout` repeats scikit-learn's draws without importing it (a cold run would
spend most of a second on that import alone).

The stage stores row numbers, not copies of the rows: train and evaluate gather the rows they
need through them (:class:`pipeline.nn.inputs.Rows`), as they gather a batch anyway. A sweep over
``split.seed`` then stores a few hundred kilobytes per member, not a copy of the data set.
"""

from __future__ import annotations

import numpy as np

from pipeline.data.holdout import train_test_split
from pipeline.errors import DataError


def _split_indices(rows: np.ndarray, size: float, seed: int, labels: np.ndarray | None,
                   key: str) -> tuple[np.ndarray, np.ndarray]:
    """``train_test_split`` of the index array ``rows`` -> (kept, held out); bad sizes -> DataError."""
    try:
        return train_test_split(rows, size, seed, labels)
    except ValueError as exc:  # e.g. a class with one row, or fewer held-out rows than classes
        raise DataError(f"{key}={size} cannot split {len(rows)} rows"
                        f"{' stratified by class' if labels is not None else ''}: {exc}") from None


def _random(cfg, n: int, m: int) -> dict:
    """The tutorial's split: one unstratified ``train_test_split`` of every row (training rows, then test rows)."""
    train, val = _split_indices(np.arange(n + m), cfg.split.test_size, cfg.split.seed, None, "split.test_size")
    return {"train_rows": train, "val_rows": val, "test_rows": None}


def _official(cfg, labels: np.ndarray, m: int | None) -> dict:
    """Keep the source's test set (or hold one out, stratified), then hold out a stratified val set."""
    seed = cfg.split.seed
    rows = np.arange(len(labels))
    if m is None:
        rows, test = _split_indices(rows, cfg.split.test_size, seed, labels, "split.test_size")
    else:
        test = np.arange(len(labels), len(labels) + m)
    train, val = _split_indices(rows, cfg.split.val_size, seed, labels[rows], "split.val_size")
    return {"train_rows": train, "val_rows": val, "test_rows": test}


def run(cfg, *, y_all: np.ndarray, y_all_test: np.ndarray | None) -> dict:
    """Split the rows into train, validation and test sets, as row numbers.

    Rows are numbered in the concatenation of the source's training rows (``0 .. n-1``) and
    its test rows (``n .. n+m-1``); :class:`pipeline.nn.inputs.Rows` reads them from ``x_raw``
    and ``x_raw_test``, :func:`pipeline.nn.inputs.labels` from ``y_all`` and ``y_all_test``.

    Parameters
    ----------
    cfg : Config
        Reads ``cfg.split.scheme`` (``"official"`` or ``"random"``), ``val_size``,
        ``test_size`` and ``seed`` (the ``random_state`` of every split).
    y_all : ndarray, shape (n, k)
        One-hot labels of the training rows (stratification).
    y_all_test : ndarray, shape (m, k), or None
        Those of the source's own test set.

    Returns
    -------
    dict
        ``train_rows``, ``val_rows``, ``test_rows``: int arrays of row numbers (``test_rows``
        None when there is no test set).

        - ``official``: the test set is the source's (rows ``n .. n+m-1``); without one, a
          stratified ``test_size`` of the rows is held out first. Then a stratified
          ``val_size`` of the remaining rows becomes the validation set.
        - ``random``: exactly ``train_test_split(X, Y, test_size=test_size, random_state=seed)``
          on all rows, training rows first then test rows; the held-out part is the validation
          set and ``test_rows`` is None.

    Raises
    ------
    DataError
        The sizes cannot be honoured, e.g. a class with a single row under stratification.
    """
    m = None if y_all_test is None else len(y_all_test)
    if cfg.split.scheme == "random":
        return _random(cfg, len(y_all), m or 0)
    return _official(cfg, np.argmax(y_all, axis=1), m)
