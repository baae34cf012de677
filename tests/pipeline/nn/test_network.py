"""The reference MLP math: gradients by finite differences, softmax, loss, batched prediction."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.activations import ACTIVATIONS
from pipeline.nn import network


def _net(sizes=(5, 6, 4, 3), n=7, seed=0, dtype=np.float64):
    """Random params for ``sizes``, inputs (n, d) and one-hot targets (n, k)."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0, 0.8, (fan_in, fan_out)).astype(dtype),
                   rng.normal(0, 0.3, fan_out).astype(dtype)]
    x = rng.random((n, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n)]
    return params, x, y


def _numeric_gradients(params, x, y, activation, weight_decay, h=1e-6):
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = network.objective(params, x, y, activation, weight_decay)
            p[i] = old - h
            down = network.objective(params, x, y, activation, weight_decay)
            p[i] = old
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backprop_matches_finite_differences(name, weight_decay):
    params, x, y = _net()
    activation = ACTIVATIONS[name]
    loss, grads = network.gradients(params, x, y, activation, weight_decay)
    assert loss == pytest.approx(network.objective(params, x, y, activation, weight_decay))
    numeric = _numeric_gradients(params, x, y, activation, weight_decay)
    assert [g.shape for g in grads] == [p.shape for p in params]
    for analytic, approx in zip(grads, numeric):
        np.testing.assert_allclose(analytic, approx, rtol=1e-5, atol=1e-8)


def test_weight_decay_touches_weights_not_biases():
    params, x, y = _net()
    relu = ACTIVATIONS["relu"]
    _, plain = network.gradients(params, x, y, relu, 0.0)
    _, decayed = network.gradients(params, x, y, relu, 0.5)
    for i, (a, b) in enumerate(zip(plain, decayed)):
        expected = a + 0.5 * params[i] if i % 2 == 0 else a
        np.testing.assert_allclose(b, expected, rtol=1e-12)
    penalty = 0.5 * 0.5 * sum(np.sum(w ** 2) for w in params[0::2])
    assert network.l2_penalty(params, 0.5) == pytest.approx(penalty)


def test_softmax_rows_sum_to_one_and_resist_overflow():
    z = np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), 0.0]], dtype=np.float32)
    p = network.softmax(z)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.2, 0.6, 0.2]], rtol=1e-6)


def test_cross_entropy_known_value_and_saturation():
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    assert network.cross_entropy(probs, y) == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2)
    zero = np.array([[0.0, 1.0]], dtype=np.float32)
    assert np.isfinite(network.cross_entropy(zero, np.array([[1.0, 0.0]], dtype=np.float32)))


def test_forward_shapes_and_layer_sizes():
    params, x, _ = _net(sizes=(5, 6, 4, 3), n=7)
    zs, acts = network.forward(params, x, ACTIVATIONS["tanh"])
    assert [z.shape for z in zs] == [(7, 6), (7, 4), (7, 3)]
    assert [a.shape for a in acts] == [(7, 5), (7, 6), (7, 4), (7, 3)]
    np.testing.assert_allclose(acts[-1].sum(axis=1), 1.0)
    assert network.layer_sizes(params) == [5, 6, 4, 3]


@pytest.mark.parametrize("batch_size", [1, 3, 7, 100])
def test_predict_proba_is_batched_float32_and_equals_forward(batch_size):
    params, x, _ = _net(sizes=(5, 8, 3), n=7, dtype=np.float32)
    relu = ACTIVATIONS["relu"]
    probs = network.predict_proba(params, x.astype(np.float64), relu, batch_size)
    assert probs.dtype == np.float32 and probs.shape == (7, 3)
    np.testing.assert_allclose(probs, network.forward(params, x, relu)[1][-1], rtol=1e-6)


def test_predict_proba_of_no_rows():
    params, x, _ = _net(sizes=(5, 8, 3), dtype=np.float32)
    assert network.predict_proba(params, x[:0], ACTIVATIONS["relu"]).shape == (0, 3)


def test_accuracy():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([[1.0, 0], [1, 0], [1, 0]])
    assert network.accuracy(probs, y) == pytest.approx(2 / 3)
