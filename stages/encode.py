"""Stage ``encode``: labels to one-hot rows, classes fixed by the training labels."""

from __future__ import annotations

import numpy as np

from pipeline.errors import DataError


def run(cfg, *, y_raw: np.ndarray, y_raw_test: np.ndarray | None) -> dict:
    """One-hot encode labels with scikit-learn's ``OneHotEncoder``, fit on the training labels.

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
    from sklearn.preprocessing import OneHotEncoder  # imported here: cached runs must not load sklearn

    encoder = OneHotEncoder(sparse_output=False, dtype=np.float32)
    y_all = encoder.fit_transform(np.asarray(y_raw).reshape(-1, 1))
    categories = encoder.categories_[0]
    y_all_test = None
    if y_raw_test is not None:
        unseen = np.setdiff1d(np.asarray(y_raw_test), categories)
        if unseen.size:
            shown = ", ".join(repr(v.item()) for v in unseen[:5]) + (", ..." if unseen.size > 5 else "")
            raise DataError(f"test labels {shown} never occur in the training labels "
                            f"{[c.item() for c in categories]}; the test set must use the training classes")
        y_all_test = encoder.transform(np.asarray(y_raw_test).reshape(-1, 1))
    return {"y_all": y_all, "y_all_test": y_all_test, "classes": [c.item() for c in categories]}
