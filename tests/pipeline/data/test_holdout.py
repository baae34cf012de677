"""pipeline.data.holdout draws the very rows scikit-learn's train_test_split draws."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split as sklearn_split

from pipeline.data import holdout


@pytest.mark.parametrize("n, test_size, seed", [(10, 0.2, 0), (97, 0.1, 42), (1000, 0.25, 7), (60000, 0.1, 42),
                                                 (5, 0.5, 3)])
def test_unstratified_split_equals_scikit_learn(n, test_size, seed):
    rows = np.arange(n) * 3 + 1
    mine = holdout.train_test_split(rows, test_size, seed)
    theirs = sklearn_split(rows, test_size=test_size, random_state=seed)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("counts, test_size, seed", [((40, 30, 50), 0.2, 0), ((5923, 6742, 5958, 6131, 5842, 5421,
                         5918, 6265, 5851, 5949), 0.1, 42), ((2, 2, 2, 3), 0.5, 1), ((7, 7, 7), 0.3, 5),
                         ((100, 3, 17, 2), 0.15, 9), ((3, 3, 3, 3, 3), 0.34, 11)])
def test_stratified_split_equals_scikit_learn_ties_included(counts, test_size, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(seed).shuffle(labels)
    rows = np.arange(len(labels))
    mine = holdout.train_test_split(rows, test_size, seed, labels)
    theirs = sklearn_split(rows, test_size=test_size, random_state=seed, stratify=labels)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("labels, test_size", [(np.array([0] * 40 + [1]), 0.1), (np.array([0, 1, 2] * 3), 0.2),
                                               (np.array([0, 1] * 5), 0.0), (np.array([0, 1] * 5), 1.0)])
def test_refuses_what_scikit_learn_refuses(labels, test_size):
    rows = np.arange(len(labels))
    with pytest.raises(ValueError):
        sklearn_split(rows, test_size=test_size, random_state=0, stratify=labels)
    with pytest.raises(ValueError):
        holdout.train_test_split(rows, test_size, 0, labels)
