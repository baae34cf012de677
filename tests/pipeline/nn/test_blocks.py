"""Products summed in fixed blocks: the same bits on one BLAS thread or several."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from pipeline.nn import blocks, network
from plugins.activations import ACTIVATIONS


def _two_threads_reachable() -> bool:
    with threadpool_limits(limits=2, user_api="blas"):
        return min((lib.get_num_threads() for lib in blocks.blas_libraries()), default=1) >= 2


@pytest.mark.parametrize("k", [1, 10, 255, 256, 257, 784, 1000, 54000])
def test_bounds_cover_the_axis_in_order_in_equal_blocks_no_longer_than_the_limit(k):
    bounds = blocks.bounds(k)
    assert bounds[0][0] == 0 and bounds[-1][1] == k
    assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:]))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) <= blocks.MAX_BLOCK and max(sizes) - min(sizes) <= len(sizes)
    assert len(bounds) == -(-k // blocks.MAX_BLOCK)                     # as few as fit


def test_dot_is_the_product_and_fills_out():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((50, 784)), rng.standard_normal((784, 7))
    out = np.empty((50, 7))
    assert blocks.dot(a, b, out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blocks.dot(a[:, :100], b[:100]), a[:, :100] @ b[:100], rtol=1e-12)
    np.testing.assert_allclose(blocks.dot(a.T, out), a.T @ out, rtol=1e-12, atol=1e-10)   # transposed view


@pytest.mark.parametrize("m, k, n", [(128, 784, 64), (4096, 784, 64), (37, 784, 1024), (784, 2700, 64),
                                     (128, 784, 10), (1000, 300, 256)])
def test_blocked_products_have_the_same_bits_on_one_and_two_threads(m, k, n):
    if not _two_threads_reachable():
        pytest.skip("one BLAS thread only: nothing can differ")
    rng = np.random.default_rng(1)
    a, b = rng.random((m, k), dtype=np.float32), rng.standard_normal((k, n)).astype(np.float32)
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            results.append(blocks.dot(a, b))
    np.testing.assert_array_equal(*results)
    assert blocks.invariant(m, k, n)


def test_the_check_catches_a_product_that_blas_sums_by_thread_count(monkeypatch):
    """Unblocked, OpenBLAS cuts a 784-long inner axis where the thread count says: the check says so."""
    if not _two_threads_reachable():
        pytest.skip("one BLAS thread only: nothing can differ")
    monkeypatch.setattr(blocks, "MAX_BLOCK", 10 ** 6)
    blocks.bounds.cache_clear()
    blocks.invariant.cache_clear()
    try:
        assert not blocks.invariant(128, 784, 64)
        assert isinstance(blocks.guard([(128, 784, 64)]), threadpool_limits)   # then one thread
    finally:
        blocks.bounds.cache_clear()
        blocks.invariant.cache_clear()


def test_predict_proba_has_the_same_bits_under_any_thread_limit():
    rng = np.random.default_rng(2)
    x = rng.random((5000, 784), dtype=np.float32)
    params = [rng.normal(0, 0.05, (784, 64)).astype(np.float32), np.zeros(64, np.float32),
              rng.normal(0, 0.2, (64, 10)).astype(np.float32), np.zeros(10, np.float32)]
    relu = ACTIVATIONS["relu"]
    default = network.predict_proba(params, x, relu)
    with threadpool_limits(limits=1, user_api="blas"):
        limited = network.predict_proba(params, x, relu)
    np.testing.assert_array_equal(default, limited)


def test_dot_copies_no_column_block_of_its_input():
    # np.dot copied each block a[:, start:stop] (134 KB for 128 MNIST rows); where glibc returns
    # freed memory at once (dask's workers), that copy was page-faulted in again on every batch
    import tracemalloc

    rng = np.random.default_rng(0)
    a, b = rng.random((128, 784), dtype=np.float32), rng.random((784, 64), dtype=np.float32)
    out, part = np.empty((128, 64), np.float32), np.empty((128, 64), np.float32)
    blocks.dot(a, b, out, part)
    tracemalloc.start()
    try:
        blocks.dot(a, b, out, part)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * 262 * 4 // 4, peak   # well under one block's copy
