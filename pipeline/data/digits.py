"""The 8x8 digits bundled with scikit-learn: the offline source, and the fallback of ``auto``.

Its own module so that ``sources`` (the scheme table) and ``openml`` (whose ``auto`` falls back
to it) both import it, and not each other.
"""

from __future__ import annotations

import numpy as np

from pipeline.api import Progress
from pipeline.data.rawdata import RawData, assemble

#: What to use instead of a download, named in the offline messages.
OFFLINE_ALTERNATIVES = ("data.source=idx:DIR (the four MNIST .gz files), npz:FILE (an mnist.npz) "
                        "or digits (bundled with scikit-learn)")


def identity_digits(arg: str, data_home) -> dict:
    import importlib.metadata  # the bundled file can only change with scikit-learn itself

    return {"scikit-learn": importlib.metadata.version("scikit-learn")}


def load_digits(arg: str, data_home, progress: Progress) -> RawData:
    from sklearn.datasets import load_digits as sklearn_digits

    x, y = sklearn_digits(return_X_y=True)
    # Values are whole numbers 0..16 stored as float64: uint8 is lossless and 8x smaller.
    where = {"x": "digits", "y": "digits"}
    return assemble(x.astype(np.uint8), y, None, None, where, "digits", "digits", scale=16.0)
