"""Stage ``split``: train / validation / test rows, with scikit-learn's ``train_test_split``.

Splits are computed on row indices and each output is gathered once, so a
two-step split does not copy the training rows twice and the random scheme
never concatenates train and test rows into a temporary array.
"""

from __future__ import annotations

import numpy as np

from pipeline.errors import DataError


def _split_indices(rows: np.ndarray, size: float, seed: int, labels: np.ndarray | None,
                   key: str) -> tuple[np.ndarray, np.ndarray]:
    """``train_test_split`` of the index array ``rows`` -> (kept, held out); bad sizes -> DataError."""
    from sklearn.model_selection import train_test_split  # not at import: cached runs skip sklearn

    try:
        return train_test_split(rows, test_size=size, random_state=seed, stratify=labels)
    except ValueError as exc:  # e.g. a class with one row, or fewer held-out rows than classes
        raise DataError(f"{key}={size} cannot split {len(rows)} rows"
                        f"{' stratified by class' if labels is not None else ''}: {exc}") from None


def _gather(parts: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of the virtual concatenation of ``parts``, in that order, in one new array."""
    if len(parts) == 1:
        return parts[0][rows]
    out = np.empty((len(rows),) + parts[0].shape[1:], dtype=np.result_type(*parts))
    offset = 0
    for part in parts:
        mine = (rows >= offset) & (rows < offset + len(part))
        out[mine] = part[rows[mine] - offset]
        offset += len(part)
    return out


def _random(cfg, x_parts: list, y_parts: list) -> dict:
    """The tutorial's split: one unstratified ``train_test_split`` of every row."""
    n = sum(len(p) for p in x_parts)
    train, val = _split_indices(np.arange(n), cfg.split.test_size, cfg.split.seed, None, "split.test_size")
    return {"x_train": _gather(x_parts, train), "y_train": _gather(y_parts, train),
            "x_val": _gather(x_parts, val), "y_val": _gather(y_parts, val), "x_test": None, "y_test": None}


def _official(cfg, x_all, y_all, x_all_test, y_all_test) -> dict:
    """Keep the source's test set (or hold one out, stratified), then hold out a stratified val set."""
    seed = cfg.split.seed
    labels = np.argmax(y_all, axis=1)
    rows = np.arange(len(x_all))
    if x_all_test is None:
        rows, test = _split_indices(rows, cfg.split.test_size, seed, labels, "split.test_size")
        x_all_test, y_all_test = x_all[test], y_all[test]
    train, val = _split_indices(rows, cfg.split.val_size, seed, labels[rows], "split.val_size")
    return {"x_train": x_all[train], "y_train": y_all[train], "x_val": x_all[val], "y_val": y_all[val],
            "x_test": x_all_test, "y_test": y_all_test}


def run(cfg, *, x_all: np.ndarray, y_all: np.ndarray, x_all_test: np.ndarray | None,
        y_all_test: np.ndarray | None) -> dict:
    """Split the rows into train, validation and test sets.

    Parameters
    ----------
    cfg : Config
        Reads ``cfg.split.scheme`` (``"official"`` or ``"random"``), ``val_size``,
        ``test_size`` and ``seed`` (the ``random_state`` of every split).
    x_all : ndarray, shape (n, d)
        Training rows; not modified.
    y_all : ndarray, shape (n, k)
        One-hot labels of ``x_all``.
    x_all_test, y_all_test : ndarray, shapes (m, d) and (m, k), or None
        The source's own test set.

    Returns
    -------
    dict
        ``x_train, y_train, x_val, y_val, x_test, y_test``, rows of the inputs.

        - ``official``: the test set is kept as given (passed through, not copied); without
          one, a stratified ``test_size`` of the rows is held out first. Then a stratified
          ``val_size`` of the remaining rows becomes the validation set.
        - ``random``: exactly ``train_test_split(X, Y, test_size=test_size, random_state=seed)``
          on all rows, training rows first then test rows; the held-out part is the validation
          set and ``x_test``/``y_test`` are None.

    Raises
    ------
    DataError
        The sizes cannot be honoured, e.g. a class with a single row under stratification.
    """
    if cfg.split.scheme == "random":
        parts = [(x_all, y_all)] + ([(x_all_test, y_all_test)] if x_all_test is not None else [])
        return _random(cfg, [p[0] for p in parts], [p[1] for p in parts])
    return _official(cfg, x_all, y_all, x_all_test, y_all_test)
