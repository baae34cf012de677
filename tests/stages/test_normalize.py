"""Stage normalize: the recipe to float32 in [0, 1], training-only standardization, applied as rows are read."""

import numpy as np
import pytest

from pipeline.config import build_config
from pipeline.errors import DataError
from pipeline.nn.inputs import Rows
from pipeline.predict.models import Model, prepare
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


def applied(out, x):
    """The rows ``x`` as train and evaluate read them under normalize's recipe."""
    return Rows([x], None, out["preprocessing"]).dense()


def test_scales_uint8_to_unit_float32():
    x, _ = make_images()
    x_raw = readonly(x.reshape(len(x), -1))
    out = normalize.run(PLAIN, x_raw=x_raw, dataset=dataset())
    assert set(out) == {"preprocessing"}                                   # a recipe, no copy of the data
    assert out["preprocessing"] == {"scale": float(np.float32(1 / 255)), "mean": 0.0, "std": 1.0, "clip": False,
                                    "image_shape": [6, 6]}
    rows = applied(out, x_raw)
    assert rows.dtype == np.float32 and rows.shape == x_raw.shape and rows.min() >= 0 and rows.max() <= 1
    np.testing.assert_allclose(rows, x_raw / 255.0, rtol=1e-6)
    assert applied(out, np.array([[0, 255] * 18], np.uint8))[0, :2].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("pixel_max, x", [
    (16.0, np.array([[0, 8, 16]], np.uint8)), (1.0, np.array([[0.0, 0.25, 1.0]])),
    (65535.0, np.array([[0, 65535, 1000]], np.uint16)), (300.7, np.array([[0.0, 300.7, 150.35]])),
])
def test_other_pixel_scales_stay_in_unit_range(pixel_max, x):
    out = normalize.run(PLAIN, x_raw=x, dataset=dataset(pixel_max, (1, 3)))
    rows = applied(out, x)
    assert rows.dtype == np.float32 and rows.min() == 0 and rows.max() == 1.0
    np.testing.assert_allclose(rows, x / pixel_max, rtol=1e-6)


def test_the_clip_is_recorded_exactly_where_the_scale_rounds_up():
    for pixel_max in (255.0, 16.0, 300.7, 0.7, 3.3):
        clip = normalize.run(PLAIN, x_raw=np.zeros((1, 1)), dataset=dataset(pixel_max, (1, 1)))["preprocessing"]["clip"]
        assert clip == bool(np.float32(pixel_max) * np.float32(1 / pixel_max) > 1)


def test_standardize_uses_training_statistics_only():
    x, _ = make_images(n_per_class=30)
    x_raw = readonly(x.reshape(len(x), -1))
    out = normalize.run(STANDARDIZE, x_raw=x_raw, dataset=dataset())
    pre = out["preprocessing"]
    scaled = x_raw.astype(np.float64) / 255
    assert pre["mean"] == pytest.approx(scaled.mean(), rel=1e-6)
    assert pre["std"] == pytest.approx(scaled.std(), rel=1e-6)
    rows = applied(out, x_raw)
    assert float(rows.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(rows.std()) == pytest.approx(1.0, rel=1e-5)
    # Test rows use the training statistics: bright test images are far above 0.
    np.testing.assert_allclose(applied(out, np.full((4, 36), 255, np.uint8)), (1.0 - pre["mean"]) / pre["std"],
                               rtol=1e-5)


def test_predict_prepares_new_images_bit_for_bit_as_training_read_them():
    x, _ = make_images(shape=(3, 4))
    x_raw = x.reshape(len(x), -1)
    for cfg in (PLAIN, STANDARDIZE):
        out = normalize.run(cfg, x_raw=x_raw, dataset=dataset(shape=(3, 4)))
        model = Model([np.zeros((12, 2), np.float32), np.zeros(2, np.float32)],
                      {"layers": [12, 2], "preprocessing": out["preprocessing"]})
        np.testing.assert_array_equal(prepare(model, x), applied(out, x_raw))
        assert out["preprocessing"]["image_shape"] == [3, 4]


def test_standardize_constant_images_is_an_error():
    with pytest.raises(DataError, match="normalize.standardize.*standard deviation is 0"):
        normalize.run(STANDARDIZE, x_raw=np.full((3, 4), 7, np.uint8), dataset=dataset())


def test_moments_match_numpy_across_chunks(monkeypatch):
    monkeypatch.setattr(normalize, "_CHUNK_ROWS", 3)  # many chunks, the last one partial
    x = np.random.default_rng(0).integers(0, 256, (13, 5)).astype(np.uint8)
    pre = normalize.run(PLAIN, x_raw=x, dataset=dataset(shape=(1, 5)))["preprocessing"]
    mean, std = normalize._moments(x, pre)
    scaled = (x.astype(np.float32) * np.float32(pre["scale"])).astype(np.float64)
    assert mean == pytest.approx(scaled.mean(), rel=1e-9)
    assert std == pytest.approx(scaled.std(), rel=1e-6)
