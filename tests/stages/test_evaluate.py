"""Stage ``evaluate``: metrics against scikit-learn on a case with known predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, log_loss, precision_recall_fscore_support

from pipeline.config import build_config
from plugins.activations import ACTIVATIONS
from stages import evaluate
from tests.datasets import evaluate_inputs
from pipeline.nn import network

CLASSES = ["zero", "one", "two", "three"]
Y_TRUE = np.array([0, 0, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 2, 2, 0])  # class "three": no rows, never predicted


def _known_case():
    """A net with no hidden layer whose prediction for row i is ``Y_PRED[i]``.

    ``x`` is the one-hot code of the wanted prediction and ``W = 5 * I``, so
    row i's logits are 5 at ``Y_PRED[i]`` and 0 elsewhere.
    """
    k = len(CLASSES)
    params = [np.eye(k, dtype=np.float32) * 5, np.zeros(k, dtype=np.float32)]
    x = np.eye(k, dtype=np.float32)[Y_PRED]
    y = np.eye(k, dtype=np.float32)[Y_TRUE]
    return params, x, y


def _run(params, x, y, x_test=None, y_test=None, batch_size=4096):
    cfg = build_config(overrides=[("evaluate.batch_size", batch_size)])
    return evaluate.run(cfg, params=params, **evaluate_inputs(x, y, x_test, y_test),
                        classes=CLASSES, activation=ACTIVATIONS["relu"])


def test_metrics_by_hand_and_by_scikit_learn():
    params, x, y = _known_case()
    metrics = _run(params, x, y, x, y)["metrics"]
    assert metrics["val_accuracy"] == pytest.approx(4 / 6)
    probs = network.predict_proba(params, x, ACTIVATIONS["relu"])
    assert metrics["val_loss"] == pytest.approx(log_loss(Y_TRUE, probs, labels=range(4)), rel=1e-5)
    rows = metrics["per_class"]["val"]
    assert [r["class"] for r in rows] == CLASSES
    assert [r["precision"] for r in rows] == pytest.approx([0.5, 0.5, 1.0, 0.0])
    assert [r["recall"] for r in rows] == pytest.approx([0.5, 1.0, 2 / 3, 0.0])
    assert [r["support"] for r in rows] == [2, 1, 3, 0]
    p, r, f, s = precision_recall_fscore_support(Y_TRUE, Y_PRED, labels=range(4), zero_division=0)
    assert [row["f1"] for row in rows] == pytest.approx(list(f))
    assert metrics["confusion_matrix"]["val"] == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    assert metrics["confusion_matrix"]["val"] == confusion_matrix(Y_TRUE, Y_PRED, labels=range(4)).tolist()
    assert metrics["per_class"]["test"] == rows and metrics["test_accuracy"] == metrics["val_accuracy"]


def test_format_types_and_json_bytes():
    params, x, y = _known_case()
    out = _run(params, x, y)
    metrics = out["metrics"]
    assert list(metrics) == ["val_loss", "val_accuracy", "test_loss", "test_accuracy", "classes",
                             "per_class", "confusion_matrix"]
    assert metrics["test_loss"] is None and metrics["test_accuracy"] is None
    assert metrics["per_class"]["test"] is None and metrics["confusion_matrix"]["test"] is None
    assert metrics["classes"] == CLASSES
    assert type(metrics["val_loss"]) is float and type(metrics["val_accuracy"]) is float
    row = metrics["per_class"]["val"][0]
    assert list(row) == ["class", "precision", "recall", "f1", "support"]
    assert type(row["precision"]) is float and type(row["support"]) is int
    assert all(type(v) is int for line in metrics["confusion_matrix"]["val"] for v in line)
    text = out["metrics.json"].decode("utf-8")
    assert json.loads(text) == metrics
    assert text.startswith('{\n  "val_loss"')


def test_batch_size_does_not_change_the_metrics():
    rng = np.random.default_rng(0)
    params = [rng.normal(0, 1, s).astype(np.float32) for s in [(5, 7), (7,), (7, 4), (4,)]]
    x = rng.random((23, 5), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 23)]
    small, large = _run(params, x, y, batch_size=3)["metrics"], _run(params, x, y)["metrics"]
    assert small["val_loss"] == pytest.approx(large["val_loss"], rel=1e-6)
    assert small["confusion_matrix"] == large["confusion_matrix"]


def test_numpy_class_labels_become_plain_python():
    params, x, y = _known_case()
    cfg = build_config()
    metrics = evaluate.run(cfg, params=params, **evaluate_inputs(x, y),
                           classes=list(np.arange(4, dtype=np.uint8)), activation=ACTIVATIONS["relu"])["metrics"]
    assert metrics["classes"] == [0, 1, 2, 3] and all(type(c) is int for c in metrics["classes"])
    assert type(metrics["per_class"]["val"][0]["class"]) is int


def test_probabilities_are_the_softmax_the_metrics_were_computed_from():
    params, x, y = _known_case()
    out = _run(params, x, y, x[:4], y[:4])
    proba = out["probabilities"]
    assert proba["val"].dtype == np.float32 and proba["val"].shape == (6, 4) and proba["test"].shape == (4, 4)
    # row i: logit 5 at Y_PRED[i], 0 elsewhere -> softmax e^5 / (e^5 + 3)
    expected = np.full((6, 4), 1 / (np.exp(5) + 3))
    expected[np.arange(6), Y_PRED] = np.exp(5) / (np.exp(5) + 3)
    np.testing.assert_allclose(proba["val"], expected, rtol=1e-6)
    np.testing.assert_array_equal(proba["test"], proba["val"][:4])
    assert confusion_matrix(Y_TRUE, proba["val"].argmax(axis=1), labels=range(4)).tolist() \
        == out["metrics"]["confusion_matrix"]["val"]
    assert _run(params, x, y)["probabilities"]["test"] is None   # no test rows, no test probabilities
