"""The gallery's choice of images, and which inputs count as images."""

from __future__ import annotations

import numpy as np

from pipeline.report import pictures


def test_the_gallery_picks_the_most_confident_mistakes_and_the_least_confident_hits():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.45, 0.55], [0.3, 0.7], [0.51, 0.49]])
    y = np.array([1, 1, 0, 0, 0, 0])           # rows 0, 3, 4 are wrong; 1, 2, 5 right
    picked = pictures.pick(proba, np.eye(2)[y], size=2)
    assert picked.wrong.tolist() == [0, 4]       # predicted with 0.9, then 0.7 (0.55 left out by size)
    assert picked.right.tolist() == [5, 2]       # right with 0.51, then 0.6
    assert picked.true.tolist() == y.tolist() and picked.pred.tolist() == [0, 1, 0, 1, 1, 0]
    np.testing.assert_allclose(picked.confidence, [0.9, 0.8, 0.6, 0.55, 0.7, 0.51])
    assert pictures.pick(proba, y, size=10).wrong.tolist() == [0, 4, 3]   # labels as indices work too


def test_ties_keep_row_order_and_an_all_right_split_has_no_mistakes():
    proba = np.tile([[0.2, 0.8]], (4, 1))
    picked = pictures.pick(proba, np.ones(4, dtype=int))
    assert picked.wrong.tolist() == [] and picked.right.tolist() == [0, 1, 2, 3]


def test_only_two_dimensional_shapes_that_match_the_row_are_images():
    assert pictures.is_image([28, 28], 784) and pictures.is_image([6, 6], 36) and pictures.is_image([3, 5], 15)
    assert not pictures.is_image([1, 12], 12)        # flat rows of a non-square width
    assert not pictures.is_image([28, 28], 100)      # a shape that does not fit the rows
    assert not pictures.is_image([784], 784)


def test_tiles_put_each_image_in_its_cell_with_nan_gaps():
    images = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3)
    tiled = pictures._tiles(images, columns=2, pad=1, below=1)
    assert tiled.shape == (1 + 2 + 1 + 1, 1 + 2 * (3 + 1))
    np.testing.assert_array_equal(tiled[1:3, 1:4], images[0])
    np.testing.assert_array_equal(tiled[1:3, 5:8], images[1])
    assert np.isnan(tiled[0]).all() and np.isnan(tiled[:, 4]).all() and np.isnan(tiled[3:]).all()
