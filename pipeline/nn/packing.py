"""Parameters packed in one buffer: elementwise updates in a few NumPy calls instead of one per array.

An optimizer step on a 784-64-10 net touches four arrays with three or four ufuncs each; at about
2 µs of call overhead per ufunc, the calls cost more than the arithmetic on the three small arrays.
When the parameters are views tiling one contiguous buffer (:func:`pack`), and the gradients tile
another buffer in the same layout (:func:`like`), an elementwise update can run on the two flat
buffers (:func:`flat`) with the same result, bit for bit, as array by array. Weights come first in
the buffer, then biases, so that the weight decay (weights only) is one contiguous slice too
(:func:`weight_slice`).

The list still holds one array per parameter, in the usual ``[W1, b1, W2, b2, ...]`` order:
anything that works on separate arrays (plugins included) works on these.
"""

from __future__ import annotations

import numpy as np


def _layout(shapes: list[tuple[int, ...]]) -> list[int]:
    """Offsets of ``[W1, b1, W2, b2, ...]`` in a buffer holding the weights first, then the biases."""
    sizes = [int(np.prod(s)) for s in shapes]
    order = list(range(0, len(shapes), 2)) + list(range(1, len(shapes), 2))
    offsets, at = [0] * len(shapes), 0
    for i in order:
        offsets[i], at = at, at + sizes[i]
    return offsets


def _views(buffer: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    offsets = _layout(shapes)
    return [buffer[o:o + int(np.prod(s))].reshape(s) for o, s in zip(offsets, shapes)]


def pack(arrays: list[np.ndarray], dtype=np.float32) -> list[np.ndarray]:
    """Copies of ``arrays`` (``[W1, b1, ...]``) as views of one new C-contiguous buffer."""
    shapes = [np.shape(a) for a in arrays]
    buffer = np.empty(sum(int(np.prod(s)) for s in shapes), dtype)
    views = _views(buffer, shapes)
    for view, array in zip(views, arrays):
        view[...] = array
    return views


def like(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Empty arrays shaped as ``arrays``: views of one buffer in :func:`pack`'s layout when
    ``arrays`` are packed, separate arrays otherwise."""
    if flat(arrays) is None:
        return [np.empty_like(a) for a in arrays]
    return _views(np.empty(sum(a.size for a in arrays), arrays[0].dtype), [a.shape for a in arrays])


def flat(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D buffer that ``arrays`` tile in :func:`pack`'s layout, or None if they do not."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    if base.size != sum(a.size for a in arrays) or any(a.base is not base or a.dtype != base.dtype for a in arrays):
        return None
    start = base.__array_interface__["data"][0]
    for array, offset in zip(arrays, _layout([a.shape for a in arrays])):
        if not array.flags.c_contiguous or array.__array_interface__["data"][0] != start + offset * base.itemsize:
            return None
    return base


def weight_slice(arrays: list[np.ndarray]) -> slice:
    """The weights' part of the packed buffer of ``arrays`` (``[W1, b1, ...]``)."""
    return slice(0, sum(a.size for a in arrays[0::2]))


class Flat:
    """Remembers the flat buffer of a list of arrays that is passed again and again (the gradients).

    ``Flat(params)(grads)`` is ``flat(grads)`` when ``grads`` tile a buffer in ``params``' packed
    layout, else None; the answer for the last buffer seen is kept, so a step pays for the check
    only when the gradient buffers change (an epoch's last, shorter batch has its own).
    """

    def __init__(self, params: list[np.ndarray]) -> None:
        self.params = flat(params)
        self.base: np.ndarray | None = None
        self.answer: np.ndarray | None = None

    def __call__(self, grads: list[np.ndarray]) -> np.ndarray | None:
        if self.params is None:
            return None
        base = grads[0].base
        if base is not self.base or any(g.base is not base for g in grads):
            self.base = base
            found = flat(grads)
            self.answer = found if found is not None and found.size == self.params.size \
                and found.dtype == self.params.dtype else None
        return self.answer
