"""scikit-learn's ``train_test_split`` of row numbers, stratified or not, without importing scikit-learn.

Importing ``sklearn.model_selection`` takes 0.6-1 s (it loads most of scikit-learn and SciPy),
more than everything else a cold run does outside training. These functions repeat its steps
(``_validate_shuffle_split``, ``ShuffleSplit``, ``StratifiedShuffleSplit`` and
``_approximate_mode`` of scikit-learn 1.x) draw for draw from the same ``RandomState(seed)``, so
they return the very same rows (the tests compare them with scikit-learn's for many sizes and seeds).
"""

from __future__ import annotations

import math

import numpy as np


def sizes(n: int, test_size: float) -> tuple[int, int]:
    """``(n_train, n_test)`` of ``n`` rows with a held-out fraction ``test_size``; ValueError if one is empty."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size} should be a float in the (0, 1) range")
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train <= 0 or n_test >= n:
        raise ValueError(f"with {n} rows and test_size={test_size}, the training part would be empty")
    return n_train, n_test


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Rows drawn from each class: the floor of its share, the rest by largest remainder, ties drawn at random."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _stratified(labels: np.ndarray, n_train: int, n_test: int, rng: np.random.RandomState):
    classes, y_indices, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    if np.min(class_counts) < 2:
        raise ValueError(f"the least populated classes have only 1 member: {classes[class_counts < 2].tolist()}")
    for part, count in (("training", n_train), ("held-out", n_test)):
        if count < len(classes):
            raise ValueError(f"the {part} part would have {count} rows, fewer than the {len(classes)} classes")
    class_indices = np.split(np.argsort(y_indices.reshape(-1), kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list = []
    test: list = []
    for i in range(len(classes)):
        rows = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(rows[:n_i[i]])
        test.extend(rows[n_i[i]:n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(rows: np.ndarray, test_size: float, seed: int,
                     labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``sklearn.model_selection.train_test_split(rows, test_size=, random_state=seed, stratify=labels)``.

    Parameters
    ----------
    rows : ndarray, shape (n,)
        What to split (row numbers).
    test_size : float
        Held-out fraction, in (0, 1).
    seed : int
        ``random_state``.
    labels : ndarray, shape (n,), optional
        Class of each row: the split keeps every class's share.

    Returns
    -------
    kept, held_out : ndarray
        Elements of ``rows``, in scikit-learn's order.

    Raises
    ------
    ValueError
        As scikit-learn would: a size that leaves a part empty, a class with one row, or a part
        with fewer rows than there are classes.
    """
    n_train, n_test = sizes(len(rows), test_size)
    rng = np.random.RandomState(seed)
    if labels is None:
        permutation = rng.permutation(len(rows))
        train, test = permutation[n_test:n_test + n_train], permutation[:n_test]
    else:
        train, test = _stratified(np.asarray(labels), n_train, n_test, rng)
    return rows[train], rows[test]
