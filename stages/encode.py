"""Stage ``encode``: labels to one-hot rows, classes fixed by the training labels."""

from __future__ import annotations

import numpy as np

from pipeline.errors import DataError


def _plain(values) -> list:
    """NumPy scalars as the matching Python scalars."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _one_hot(codes: np.ndarray, k: int) -> np.ndarray:
    """float32 rows (n, k) with a 1 in column ``codes[i]`` of row ``i``."""
    out = np.zeros((len(codes), k), np.float32)
    out[np.arange(len(codes)), codes] = 1.0
    return out


def run(cfg, *, y_raw: np.ndarray, y_raw_test: np.ndarray | None) -> dict:
    """One-hot encode labels as scikit-learn's ``OneHotEncoder`` fit on the training labels does.

    The classes are the sorted distinct training labels; done with NumPy (importing
    scikit-learn would cost a cold run most of a second).

    Parameters
    ----------
    cfg : Config
        Unused (the stage reads no config keys).
    y_raw : ndarray, shape (n,)
        Training labels, int64 or str; not modified.
    y_raw_test : ndarray, shape (m,), or None
        Test labels; each must occur among the training labels.

    Returns
    -------
    dict
        ``y_all`` float32 (n, k), ``y_all_test`` float32 (m, k) or None, and ``classes``: the
        ``k`` sorted distinct training labels as plain Python ints or strs; column ``j`` of the
        one-hot rows stands for ``classes[j]``.

    Raises
    ------
    DataError
        A test label that no training row has (the model could never predict it).
    """
    categories, codes = np.unique(np.asarray(y_raw).reshape(-1), return_inverse=True)
    y_all = _one_hot(codes.reshape(-1), len(categories))
    y_all_test = None
    if y_raw_test is not None:
        unseen = np.setdiff1d(np.asarray(y_raw_test), categories)
        if unseen.size:
            shown = ", ".join(repr(v.item()) for v in unseen[:5]) + (", ..." if unseen.size > 5 else "")
            raise DataError(f"test labels {shown} never occur in the training labels "
                            f"{_plain(categories)}; the test set must use the training classes")
        y_all_test = _one_hot(np.searchsorted(categories, np.asarray(y_raw_test).reshape(-1)), len(categories))
    return {"y_all": y_all, "y_all_test": y_all_test, "classes": _plain(categories)}
