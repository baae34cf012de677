"""Stage split: official and random schemes, sizes, stratification, seeds, the tutorial split."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from pipeline.config import build_config
from pipeline.errors import DataError
from stages import split

NAMES = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def data(n_per_class=(40, 30, 50), n_test=20, d=4, seed=0):
    """Rows whose first column is their index (to trace them), one-hot labels, optional test set."""
    labels = np.repeat(np.arange(len(n_per_class)), n_per_class)
    np.random.default_rng(seed).shuffle(labels)
    x = np.tile(np.arange(len(labels), dtype=np.float32)[:, None], (1, d))
    y = np.eye(len(n_per_class), dtype=np.float32)[labels]
    x_test = -1 - np.tile(np.arange(n_test, dtype=np.float32)[:, None], (1, d)) if n_test else None
    y_test = np.eye(len(n_per_class), dtype=np.float32)[np.arange(n_test) % len(n_per_class)] if n_test else None
    for a in (x, y, x_test, y_test):
        if a is not None:
            a.flags.writeable = False
    return {"x_all": x, "y_all": y, "x_all_test": x_test, "y_all_test": y_test}


def cfg(**split_keys):
    return build_config(overrides=[(f"split.{k}", v) for k, v in split_keys.items()])


def test_official_keeps_test_set_and_stratifies_validation():
    inputs = data()
    out = split.run(cfg(val_size=0.2), **inputs)
    assert set(out) == set(NAMES)
    assert out["x_test"] is inputs["x_all_test"] and out["y_test"] is inputs["y_all_test"]  # no copy
    assert len(out["x_train"]) == 96 and len(out["x_val"]) == 24
    np.testing.assert_array_equal(out["y_val"].sum(0), [8, 6, 10])  # 20% of every class
    rows = np.concatenate([out["x_train"][:, 0], out["x_val"][:, 0]])
    assert sorted(rows.tolist()) == list(range(120))  # a partition of the training rows
    np.testing.assert_array_equal(out["y_train"], inputs["y_all"][out["x_train"][:, 0].astype(int)])


def test_official_without_test_set_holds_one_out_first():
    out = split.run(cfg(val_size=0.25, test_size=0.25), **data(n_per_class=(40, 40, 40), n_test=0))
    assert (len(out["x_train"]), len(out["x_val"]), len(out["x_test"])) == (67, 23, 30)
    np.testing.assert_array_equal(out["y_test"].sum(0), [10, 10, 10])
    rows = np.concatenate([out[k][:, 0] for k in ("x_train", "x_val", "x_test")])
    assert sorted(rows.tolist()) == list(range(120))


def test_determinism_per_seed():
    a, b = split.run(cfg(seed=3), **data()), split.run(cfg(seed=3), **data())
    c = split.run(cfg(seed=4), **data())
    for name in ("x_train", "x_val", "y_train"):
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["x_val"], c["x_val"])


def test_random_scheme_is_the_tutorial_split():
    inputs = data()
    out = split.run(cfg(scheme="random", test_size=0.2, seed=42), **inputs)
    x = np.concatenate([inputs["x_all"], inputs["x_all_test"]])
    y = np.concatenate([inputs["y_all"], inputs["y_all_test"]])
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, random_state=42)
    np.testing.assert_array_equal(out["x_train"], x_train)
    np.testing.assert_array_equal(out["x_val"], x_val)
    np.testing.assert_array_equal(out["y_train"], y_train)
    np.testing.assert_array_equal(out["y_val"], y_val)
    assert out["x_test"] is None and out["y_test"] is None and out["x_train"].dtype == np.float32


def test_random_scheme_without_test_set():
    inputs = data(n_test=0)
    out = split.run(cfg(scheme="random", test_size=0.25, seed=1), **inputs)
    x_train, x_val = train_test_split(inputs["x_all"], test_size=0.25, random_state=1)
    np.testing.assert_array_equal(out["x_train"], x_train)
    np.testing.assert_array_equal(out["x_val"], x_val)


def test_impossible_stratification_is_a_data_error():
    with pytest.raises(DataError, match="split.val_size=0.1 cannot split 41 rows stratified by class"):
        split.run(cfg(val_size=0.1), **data(n_per_class=(40, 1), n_test=4))
