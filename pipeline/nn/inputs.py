"""The network's inputs: rows of the raw pixel arrays, scaled to float32 only as they are gathered.

The cache keeps the data once, as the source gave it (``fetch``'s ``x_raw``, uint8 for MNIST:
47 MB instead of two float32 copies of 180 MB each); ``normalize`` keeps only the scale (and the
standardization's mean and std) and ``split`` only row indices. Training gathers a batch's rows
(uint8: 784 bytes a row instead of 3136, so the random gather is faster too) and scales them
into the batch's float32 buffer with the very operations ``normalize`` used to apply to the
whole array (:func:`scale_into`), so every input value, hence every bit downstream, is the same.
"""

from __future__ import annotations

import numpy as np

#: The preprocessing that leaves float32 rows as they are.
IDENTITY = {"scale": 1.0, "mean": 0.0, "std": 1.0, "clip": False}


def scale_into(raw: np.ndarray, out: np.ndarray, preprocessing: dict) -> np.ndarray:
    """``out = (min(raw * scale, 1) - mean) / std`` in float32, as ``normalize`` defines it.

    Parameters
    ----------
    raw : ndarray, shape (r, d)
        Pixels, any numeric dtype (cast to float32 before the multiplication).
    out : ndarray of float32, shape (r, d)
    preprocessing : dict
        ``scale``, ``mean``, ``std`` and ``clip`` (whether ``raw * scale`` can round above 1).
    """
    np.multiply(raw, np.float32(preprocessing["scale"]), out=out, dtype=np.float32)
    if preprocessing.get("clip"):
        np.minimum(out, np.float32(1.0), out=out)
    if preprocessing["mean"] != 0.0 or preprocessing["std"] != 1.0:
        np.subtract(out, np.float32(preprocessing["mean"]), out=out)
        np.divide(out, np.float32(preprocessing["std"]), out=out)
    return out


def _one_source(parts: list[np.ndarray], rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One array and indices into it for rows ``rows`` of the concatenation of ``parts``.

    Rows of one part index that part (no copy); rows from several parts (the ``random`` split
    scheme) need the concatenation, made once.
    """
    if rows is None:
        return parts[0], np.arange(len(parts[0]))
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size == 0:
        return parts[0], rows
    offset = 0
    for part in parts:
        if rows.min() >= offset and rows.max() < offset + len(part):
            return part, rows - offset
        offset += len(part)
    return np.concatenate(parts), rows


class Rows:
    """Rows ``rows`` of the concatenation of ``parts``, read as the network's float32 inputs.

    Parameters
    ----------
    parts : list of ndarray, each (n_i, d)
        Raw pixel arrays (``x_raw`` and ``x_raw_test``), possibly memory-mapped; never modified.
    rows : ndarray of int or None
        Row numbers in the concatenation of ``parts`` (None: every row of ``parts[0]``).
    preprocessing : dict or None
        As :func:`scale_into` takes it; None leaves float32 values unchanged.
    """

    def __init__(self, parts: list[np.ndarray], rows: np.ndarray | None, preprocessing: dict | None) -> None:
        self.source, self.rows = _one_source([p for p in parts if p is not None], rows)
        self.preprocessing = preprocessing or IDENTITY
        self.plain = preprocessing in (None, IDENTITY) and self.source.dtype == np.float32
        self.shape = (len(self.rows), self.source.shape[1])
        self.dtype = np.dtype(np.float32)
        self._scratch: dict[int, np.ndarray] = {}

    @classmethod
    def of(cls, x) -> Rows:
        """``x`` itself if it is :class:`Rows`, else every row of the float32 array ``x``."""
        return x if isinstance(x, Rows) else cls([np.ascontiguousarray(x, dtype=np.float32)], None, None)

    def __len__(self) -> int:
        return self.shape[0]

    def map(self, positions: np.ndarray) -> np.ndarray:
        """Row numbers in the source of positions ``positions`` (e.g. an epoch's order)."""
        return np.take(self.rows, positions, mode="clip")

    def gather(self, source_rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows ``source_rows`` (from :meth:`map`) of the source, scaled, into ``out`` (r, d) float32."""
        if self.plain:
            return np.take(self.source, source_rows, axis=0, out=out, mode="clip")
        scratch = self._scratch.get(len(source_rows))
        if scratch is None:
            scratch = self._scratch[len(source_rows)] = np.empty(out.shape, self.source.dtype)
        np.take(self.source, source_rows, axis=0, out=scratch, mode="clip")
        return scale_into(scratch, out, self.preprocessing)

    def __getitem__(self, index: slice) -> np.ndarray:
        """Positions ``index`` (a slice) as a new float32 array (r, d)."""
        chosen = self.rows[index]
        return self.gather(chosen, np.empty((len(chosen), self.shape[1]), np.float32))

    def dense(self) -> np.ndarray:
        """Every row as one float32 array (n, d); no copy when the rows are already that."""
        if self.plain and len(self.rows) == len(self.source) and np.array_equal(self.rows, np.arange(len(self.rows))):
            return np.ascontiguousarray(self.source)
        return self[:]


def labels(parts: list[np.ndarray | None], rows: np.ndarray | None) -> np.ndarray | None:
    """Rows ``rows`` of the concatenation of the (small) target arrays ``parts``, as a new array."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    source, chosen = _one_source(present, rows)
    return np.ascontiguousarray(source[chosen])
