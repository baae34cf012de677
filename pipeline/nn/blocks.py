"""Matrix products whose bits do not depend on how many threads BLAS runs.

OpenBLAS shares a product's work between threads by rows and columns of the result, so each
element is still one sum over the inner axis; but it sums an inner axis longer than its block
(``GEMM_Q``: 448 for single precision with this machine's SkylakeX kernels) in pieces, and an
axis between one and two blocks long is cut in two at a point that depends on the thread count
(784 becomes 392 + 392 on one thread, 400 + 384 on two). The result's last bits then depend on
``OPENBLAS_NUM_THREADS``, an enclosing ``threadpool_limits`` or a worker pool's settings.

:func:`dot` cuts the inner axis itself, into equal blocks of at most :data:`MAX_BLOCK` chosen
from its length alone, multiplies block by block and adds the partial products in order. Every
block is shorter than OpenBLAS's, so BLAS sums each in one piece on any number of threads, and
the sum of the pieces is NumPy's, in a fixed order. :func:`invariant` checks that on the shapes
in use (a BLAS built otherwise fails it; callers then stay on one thread).
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits

#: Most rows :func:`invariant` multiplies: threads share rows in the same way beyond this, and a
#: check of every evaluation chunk's 4096 rows would cost more than the products it guards.
CHECK_ROWS = 512

#: Longest inner axis summed by one BLAS call: below OpenBLAS's single-precision block (448 with
#: the SkylakeX kernels measured here; 510 already fails), with a margin for kernel sets with a
#: shorter one; 784 is summed as 3 x 262. Fewer, longer blocks cost less on two threads (each
#: product wakes the second thread). A build that cuts even these fails :func:`invariant` and
#: stays on one thread.
MAX_BLOCK = 384

@functools.lru_cache(maxsize=None)
def bounds(k: int) -> tuple[tuple[int, int], ...]:
    """Blocks ``(start, stop)`` of an inner axis of length ``k``: as few as fit, of equal length."""
    count = max(1, -(-k // MAX_BLOCK))
    size = -(-k // count)
    return tuple((start, min(start + size, k)) for start in range(0, k, size)) or ((0, 0),)


def dot(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None,
        part: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` summed over :func:`bounds` of the inner axis, the same bits on any thread count.

    Parameters
    ----------
    a : ndarray, shape (m, k)
    b : ndarray, shape (k, n)
        Any layout NumPy hands to BLAS (transposed views included); same dtype as ``a``.
    out : ndarray, shape (m, n), optional
        C-contiguous, receives the product.
    part : ndarray, shape (m, n), optional
        Scratch for the second and later blocks (allocated when missing and needed).

    Returns
    -------
    ndarray, shape (m, n)
        ``out``, or a new array.
    """
    # np.matmul hands a column block a[:, start:stop] to BLAS in place, with its row stride; np.dot
    # copies it first (134 KB a block for a batch of 128 MNIST rows), and where glibc is told to
    # return freed memory at once (dask's workers set MALLOC_TRIM_THRESHOLD_), every copy is
    # page-faulted in again: training ran 1.7x slower there. Same BLAS call, same bits.
    blocks = bounds(a.shape[1])
    start, stop = blocks[0]
    if len(blocks) == 1:
        return np.matmul(a, b, out=out)
    out = np.matmul(a[:, start:stop], b[start:stop], out=out)
    if part is None:
        part = np.empty_like(out)
    for start, stop in blocks[1:]:
        np.matmul(a[:, start:stop], b[start:stop], out=part)
        out += part
    return out


def blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process."""
    return ThreadpoolController().select(user_api="blas").lib_controllers


def set_threads(libraries: list, threads: int) -> None:
    """Set every BLAS library in ``libraries`` to ``threads`` threads."""
    for library in libraries:
        library.set_num_threads(threads)


@functools.lru_cache(maxsize=None)
def invariant(m: int, k: int, n: int, threads: int = 2, dtype: str = "float32") -> bool:
    """Whether :func:`dot` of an (m, k) by (k, n) product gives one thread's bits on ``threads``.

    Checked once per shape, thread count and process on random data (dense, so every bit
    counts), on at most :data:`CHECK_ROWS` rows; the thread counts in force are restored
    afterwards. Where fewer threads can be had, the product cannot run on them here: True
    (another process checks for itself).
    """
    libraries = blas_libraries()
    if not libraries:
        return True
    rng = np.random.default_rng(0)
    m = min(m, CHECK_ROWS)
    a = (rng.random((m, k), dtype=np.float32) - np.float32(0.5)).astype(dtype, copy=False)
    b = (rng.random((k, n), dtype=np.float32) - np.float32(0.5)).astype(dtype, copy=False)
    before = [library.get_num_threads() for library in libraries]
    try:
        set_threads(libraries, 1)
        one = dot(a, b)
        set_threads(libraries, threads)
        if min(library.get_num_threads() for library in libraries) < threads:
            return True
        return bool(np.array_equal(one, dot(a, b)))
    finally:
        for library, threads in zip(libraries, before):
            library.set_num_threads(threads)


def guard(shapes: list[tuple[int, int, int]]):
    """A context for products of ``shapes`` (m, k, n): as it is where :func:`invariant` holds for
    all, else one BLAS thread, so that their bits never depend on the thread count."""
    threads = max((library.get_num_threads() for library in blas_libraries()), default=1)
    if threads < 2 or all(invariant(min(m, CHECK_ROWS), k, n, threads) for m, k, n in shapes):
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
