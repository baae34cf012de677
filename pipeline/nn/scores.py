"""Per-class precision, recall, F1, support and the confusion matrix, with NumPy.

The same figures as scikit-learn's ``precision_recall_fscore_support(..., zero_division=0)`` and
``confusion_matrix`` (the same formulas: precision ``tp / (tp + fp)``, recall ``tp / (tp + fn)``,
F1 ``2 tp / (2 tp + fp + fn)``, 0 where a denominator is 0), without importing scikit-learn,
which alone would cost a cold run most of a second.
"""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Counts (k, k): row = true class, column = predicted class, of integer labels (n,) in ``0..k-1``."""
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(len(numerator), np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``precision, recall, f1, support`` (k,) of a confusion matrix (k, k)."""
    tp = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    fp, fn = predicted - tp, support - tp
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn), support
