"""pipeline.nn.scores gives scikit-learn's per-class figures and confusion matrix, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from pipeline.nn import scores


@pytest.mark.parametrize("seed, k, n", [(0, 10, 1000), (1, 3, 7), (2, 5, 40)])
def test_equals_scikit_learn_classes_never_predicted_included(seed, k, n):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, max(k - 1, 1), n))   # class k-1 rarely predicted
    matrix = scores.confusion(y_true, y_pred, k)
    np.testing.assert_array_equal(matrix, confusion_matrix(y_true, y_pred, labels=list(range(k))))
    mine = scores.per_class(matrix)
    theirs = precision_recall_fscore_support(y_true, y_pred, labels=list(range(k)), zero_division=0)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)
