"""Stage split: official and random schemes, sizes, stratification, seeds, the tutorial split, as row numbers."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from pipeline.config import build_config
from pipeline.errors import DataError
from pipeline.nn.inputs import Rows, labels
from stages import split

NAMES = ("train_rows", "val_rows", "test_rows")


def data(n_per_class=(40, 30, 50), n_test=20, seed=0):
    """One-hot labels, shuffled, and an optional test set; read-only, as cache entries are."""
    labels_ = np.repeat(np.arange(len(n_per_class)), n_per_class)
    np.random.default_rng(seed).shuffle(labels_)
    y = np.eye(len(n_per_class), dtype=np.float32)[labels_]
    y_test = np.eye(len(n_per_class), dtype=np.float32)[np.arange(n_test) % len(n_per_class)] if n_test else None
    for a in (y, y_test):
        if a is not None:
            a.flags.writeable = False
    return {"y_all": y, "y_all_test": y_test}


def pixels(inputs, d=4):
    """Rows whose every column is their row number (training rows 0.., test rows after them)."""
    n = len(inputs["y_all"])
    m = 0 if inputs["y_all_test"] is None else len(inputs["y_all_test"])
    x = np.tile(np.arange(n, dtype=np.float32)[:, None], (1, d))
    x_test = np.tile(np.arange(n, n + m, dtype=np.float32)[:, None], (1, d)) if m else None
    return x, x_test


def cfg(**split_keys):
    return build_config(overrides=[(f"split.{k}", v) for k, v in split_keys.items()])


def test_official_keeps_test_set_and_stratifies_validation():
    inputs = data()
    out = split.run(cfg(val_size=0.2), **inputs)
    assert set(out) == set(NAMES) and out["train_rows"].dtype.kind == "i"
    np.testing.assert_array_equal(out["test_rows"], np.arange(120, 140))        # the source's test set
    assert len(out["train_rows"]) == 96 and len(out["val_rows"]) == 24
    np.testing.assert_array_equal(labels([inputs["y_all"], inputs["y_all_test"]], out["val_rows"]).sum(0), [8, 6, 10])
    rows = np.concatenate([out["train_rows"], out["val_rows"]])
    assert sorted(rows.tolist()) == list(range(120))  # a partition of the training rows
    x, x_test = pixels(inputs)                          # read through the rows, as train and evaluate do
    read = Rows([x, x_test], out["test_rows"], None)
    assert read.source is x_test and read[:][:, 0].tolist() == list(range(120, 140))   # no copy of the test set
    assert Rows([x, x_test], out["train_rows"], None).source is x


def test_official_without_test_set_holds_one_out_first():
    out = split.run(cfg(val_size=0.25, test_size=0.25), **data(n_per_class=(40, 40, 40), n_test=0))
    assert (len(out["train_rows"]), len(out["val_rows"]), len(out["test_rows"])) == (67, 23, 30)
    np.testing.assert_array_equal(labels([data(n_per_class=(40, 40, 40), n_test=0)["y_all"]], out["test_rows"]).sum(0),
                                  [10, 10, 10])
    rows = np.concatenate([out[k] for k in NAMES])
    assert sorted(rows.tolist()) == list(range(120))


def test_determinism_per_seed():
    a, b = split.run(cfg(seed=3), **data()), split.run(cfg(seed=3), **data())
    c = split.run(cfg(seed=4), **data())
    for name in NAMES:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["val_rows"], c["val_rows"])


def test_random_scheme_is_the_tutorial_split():
    inputs = data()
    out = split.run(cfg(scheme="random", test_size=0.2, seed=42), **inputs)
    x, x_test = pixels(inputs)
    x_all, y_all = np.concatenate([x, x_test]), np.concatenate([inputs["y_all"], inputs["y_all_test"]])
    x_train, x_val, y_train, y_val = train_test_split(x_all, y_all, test_size=0.2, random_state=42)
    np.testing.assert_array_equal(Rows([x, x_test], out["train_rows"], None).dense(), x_train)
    np.testing.assert_array_equal(Rows([x, x_test], out["val_rows"], None).dense(), x_val)
    np.testing.assert_array_equal(labels([inputs["y_all"], inputs["y_all_test"]], out["train_rows"]), y_train)
    np.testing.assert_array_equal(labels([inputs["y_all"], inputs["y_all_test"]], out["val_rows"]), y_val)
    assert out["test_rows"] is None


def test_random_scheme_without_test_set():
    inputs = data(n_test=0)
    out = split.run(cfg(scheme="random", test_size=0.25, seed=1), **inputs)
    x, _ = pixels(inputs)
    x_train, x_val = train_test_split(x, test_size=0.25, random_state=1)
    np.testing.assert_array_equal(Rows([x, None], out["train_rows"], None).dense(), x_train)
    np.testing.assert_array_equal(Rows([x, None], out["val_rows"], None).dense(), x_val)


def test_impossible_stratification_is_a_data_error():
    with pytest.raises(DataError, match="split.val_size=0.1 cannot split 41 rows stratified by class"):
        split.run(cfg(val_size=0.1), **data(n_per_class=(40, 1), n_test=4))
