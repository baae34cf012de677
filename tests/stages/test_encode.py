"""Stage encode: one-hot float32 rows and the class list fixed by the training labels."""

import json

import numpy as np
import pytest

from pipeline.config import build_config
from pipeline.errors import DataError
from stages import encode

CFG = build_config()


def test_one_hot_rows_and_classes():
    y = np.array([3, 1, 3, 7, 1], np.int64)
    y.flags.writeable = False
    out = encode.run(CFG, y_raw=y, y_raw_test=np.array([7, 7, 1]))
    assert out["classes"] == [1, 3, 7] and all(type(c) is int for c in out["classes"])
    json.dumps(out["classes"])
    assert out["y_all"].dtype == np.float32 and out["y_all"].shape == (5, 3)
    np.testing.assert_array_equal(out["y_all"].argmax(1), [1, 0, 1, 2, 0])
    np.testing.assert_array_equal(out["y_all"].sum(1), 1)
    np.testing.assert_array_equal(out["y_all_test"], [[0, 0, 1], [0, 0, 1], [1, 0, 0]])


def test_string_labels_and_missing_test_set():
    out = encode.run(CFG, y_raw=np.array(["dog", "cat", "dog"]), y_raw_test=None)
    assert out["classes"] == ["cat", "dog"] and all(type(c) is str for c in out["classes"])
    assert out["y_all_test"] is None
    np.testing.assert_array_equal(out["y_all"], [[0, 1], [1, 0], [0, 1]])


def test_test_label_outside_training_classes():
    with pytest.raises(DataError, match=r"test labels 9 never occur in the training labels \[0, 1\]"):
        encode.run(CFG, y_raw=np.array([0, 1, 1]), y_raw_test=np.array([1, 9, 9]))


@pytest.mark.parametrize("y, y_test", [(np.array([5, 0, 9, 5, 2, 0]), np.array([9, 0])),
                                       (np.array(["b", "a", "c", "a"], dtype=object), np.array(["c", "a"])),
                                       (np.array(["dog", "cat", "emu"]), None)])
def test_as_scikit_learns_one_hot_encoder(y, y_test):
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(sparse_output=False, dtype=np.float32).fit(y.reshape(-1, 1))
    out = encode.run(CFG, y_raw=y, y_raw_test=y_test)
    np.testing.assert_array_equal(out["y_all"], encoder.transform(y.reshape(-1, 1)))
    assert out["y_all"].dtype == np.float32
    assert out["classes"] == [c.item() if hasattr(c, "item") else c for c in encoder.categories_[0]]
    if y_test is not None:
        np.testing.assert_array_equal(out["y_all_test"], encoder.transform(y_test.reshape(-1, 1)))
