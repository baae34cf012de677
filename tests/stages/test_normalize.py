"""Stage normalize: float32 in [0, 1], training-only standardization, the preprocessing record."""

import numpy as np
import pytest

from pipeline.config import build_config
from pipeline.errors import DataError
from stages import normalize
from tests.datasets import make_images

PLAIN = build_config()
STANDARDIZE = build_config(overrides=[("normalize.standardize", True)])


def dataset(pixel_max=255.0, shape=(6, 6)):
    return {"pixel_max": pixel_max, "image_shape": list(shape)}


def readonly(array):
    array = np.array(array)
    array.flags.writeable = False  # like a memory-mapped cache entry: any write would raise
    return array


def test_scales_uint8_to_unit_float32():
    x, _ = make_images()
    x_raw = readonly(x.reshape(len(x), -1))
    x_test = readonly(np.array([[0, 255] * 18], np.uint8))
    out = normalize.run(PLAIN, x_raw=x_raw, x_raw_test=x_test, dataset=dataset())
    assert out["x_all"].dtype == np.float32 and out["x_all"].shape == x_raw.shape
    assert out["x_all"].min() >= 0 and out["x_all"].max() <= 1
    np.testing.assert_allclose(out["x_all"], x_raw / 255.0, rtol=1e-6)
    assert out["x_all_test"][0, :2].tolist() == [0.0, 1.0]
    assert out["preprocessing"] == {"scale": float(np.float32(1 / 255)), "mean": 0.0, "std": 1.0,
                                    "image_shape": [6, 6]}


@pytest.mark.parametrize("pixel_max, x", [
    (16.0, np.array([[0, 8, 16]], np.uint8)), (1.0, np.array([[0.0, 0.25, 1.0]])),
    (65535.0, np.array([[0, 65535, 1000]], np.uint16)), (300.7, np.array([[0.0, 300.7, 150.35]])),
])
def test_other_pixel_scales_stay_in_unit_range(pixel_max, x):
    out = normalize.run(PLAIN, x_raw=x, x_raw_test=None, dataset=dataset(pixel_max, (1, 3)))
    assert out["x_all"].dtype == np.float32 and out["x_all_test"] is None
    assert out["x_all"].min() == 0 and out["x_all"].max() == 1.0
    np.testing.assert_allclose(out["x_all"], x / pixel_max, rtol=1e-6)


def test_standardize_uses_training_statistics_only():
    x, _ = make_images(n_per_class=30)
    x_raw = readonly(x.reshape(len(x), -1))
    x_test = readonly(np.full((4, 36), 255, np.uint8))
    out = normalize.run(STANDARDIZE, x_raw=x_raw, x_raw_test=x_test, dataset=dataset())
    pre = out["preprocessing"]
    scaled = x_raw.astype(np.float64) / 255
    assert pre["mean"] == pytest.approx(scaled.mean(), rel=1e-6)
    assert pre["std"] == pytest.approx(scaled.std(), rel=1e-6)
    assert float(out["x_all"].mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(out["x_all"].std()) == pytest.approx(1.0, rel=1e-5)
    # The test rows use the training statistics: bright test images are far above 0.
    np.testing.assert_allclose(out["x_all_test"], (1.0 - pre["mean"]) / pre["std"], rtol=1e-5)


def test_preprocessing_reproduces_the_outputs():
    x, _ = make_images(shape=(3, 4))
    x_raw = x.reshape(len(x), -1)
    for cfg in (PLAIN, STANDARDIZE):
        out = normalize.run(cfg, x_raw=x_raw, x_raw_test=None, dataset=dataset(shape=(3, 4)))
        p = out["preprocessing"]
        again = (x_raw.astype(np.float32) * np.float32(p["scale"]) - np.float32(p["mean"])) / np.float32(p["std"])
        np.testing.assert_allclose(out["x_all"], again, rtol=1e-5, atol=1e-6)
        assert p["image_shape"] == [3, 4]


def test_standardize_constant_images_is_an_error():
    with pytest.raises(DataError, match="normalize.standardize.*standard deviation is 0"):
        normalize.run(STANDARDIZE, x_raw=np.full((3, 4), 7, np.uint8), x_raw_test=None, dataset=dataset())


def test_moments_match_numpy_across_chunks(monkeypatch):
    monkeypatch.setattr(normalize, "_CHUNK", 7)  # many partial chunks
    x = np.random.default_rng(0).random((13, 5), dtype=np.float32)
    mean, std = normalize._moments(x)
    assert mean == pytest.approx(x.astype(np.float64).mean(), rel=1e-9)
    assert std == pytest.approx(x.astype(np.float64).std(), rel=1e-6)
