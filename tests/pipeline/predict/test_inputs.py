"""Pixel values are converted only when their meaning is clear, and refused with the range otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import DataError
from pipeline.predict.inputs import flatten, to_model_units


def _convert(x, pixel_max=255.0):
    steps = []
    return to_model_units(np.asarray(x), pixel_max, "in.npy", lambda s, n: steps.append(s)), steps


def test_raw_integers_pass_unchanged():
    out, steps = _convert(np.array([[0, 17, 255]], np.uint8))
    assert out.dtype == np.float32 and out.tolist() == [[0, 17, 255]] and steps == []


def test_floats_in_unit_range_are_scaled_to_the_model_range():
    out, steps = _convert(np.array([[0.0, 0.5, 1.0]], np.float32))
    np.testing.assert_array_equal(out, np.float32([[0, 127.5, 255]]))
    assert steps == ["float values in [0, 1] scaled to 0-255"]


def test_floats_in_pixel_units_pass_unchanged():
    out, steps = _convert(np.array([[0.0, 12.5, 255.0]]))
    assert out.tolist() == [[0, 12.5, 255]] and steps == []


@pytest.mark.parametrize("values, fragment", [
    ([[-0.42, 0.3, 2.8]], "range from -0.42 to 2.8"),            # standardized
    ([[0.0, 300.0]], "range from 0 to 300"),                      # beyond 0-255
    ([[0.0, 0.5, 1.02]], "neither floats in [0, 1] nor raw pixels 0-255"),
])
def test_ambiguous_or_impossible_values_are_refused_with_the_range(values, fragment):
    with pytest.raises(DataError) as info:
        _convert(np.array(values, np.float32))
    assert fragment in str(info.value) and "'in.npy'" in str(info.value)


def test_eight_bit_images_for_a_model_of_another_range_are_scaled():
    out, steps = _convert(np.array([[0, 255]], np.uint8), pixel_max=16.0)
    np.testing.assert_allclose(out, [[0, 16]])
    assert steps == ["8-bit values 0-255 scaled to the model's 0-16"]
    assert _convert(np.array([[0, 16]], np.uint8), pixel_max=16.0)[1] == []   # already in range


def test_flatten_one_image_labels_and_channels():
    steps = []
    note = lambda s, n: steps.append(s)  # noqa: E731
    assert flatten(np.zeros((6, 6)), 36, (6, 6), "one.npy", note).shape == (1, 36)
    assert steps == ["one 6x6 image"]
    with pytest.raises(DataError, match=r"one-dimensional data of shape \(5,\): labels, not images"):
        flatten(np.zeros(5), 36, (6, 6), "y.npy", note)
    with pytest.raises(DataError, match=r"has 3 colour channels \(shape \(2, 6, 6, 3\)\)"):
        flatten(np.zeros((2, 6, 6, 3)), 36, (6, 6), "rgb.npy", note)
