"""Builders of bad inputs for ``test_errors.py``: damaged data files, bad model files,
plugins that break their contract. The cases themselves are in ``bad_inputs.py``.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from pipeline import hookimpl
from pipeline.api import Activation
from tests.conftest import FAST
from tests.datasets import idx_bytes, write_idx_dataset, write_npz_dataset

NAMES = {"x": "train-images-idx3-ubyte", "y": "train-labels-idx1-ubyte",
         "xt": "t10k-images-idx3-ubyte", "yt": "t10k-labels-idx1-ubyte"}


# --- bad data, built in the test's directory -----------------------------------------------------

def idx_set(tmp: Path, gz: bool = False, **replace: bytes | None) -> str:
    """``idx:DIR`` of a good tiny set (3 classes, 6x6), with files replaced (bytes) or removed (None)."""
    directory = write_idx_dataset(tmp / "idx", n_train_per_class=10, n_test_per_class=4, gz=gz)
    for key, data in replace.items():
        path = directory / (NAMES[key] + (".gz" if gz else ""))
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
    return f"idx:{directory}"


def _good_gz(tmp: Path) -> bytes:
    return (Path(idx_set(tmp, gz=True)[4:]) / f"{NAMES['x']}.gz").read_bytes()


def truncated_gz(tmp):
    return idx_set(tmp, gz=True, x=_good_gz(tmp)[:150])


def corrupt_gz(tmp):
    data = bytearray(_good_gz(tmp))
    data[30:60] = b"\xff" * 30
    return idx_set(tmp, gz=True, x=bytes(data))


def not_gzip(tmp):
    return idx_set(tmp, gz=True, x=idx_bytes(np.zeros((30, 6, 6), np.uint8)))


def bad_magic(tmp):
    data = bytearray(idx_bytes(np.zeros((30, 6, 6), np.uint8)))
    data[2] = 0x07
    return idx_set(tmp, x=bytes(data))


def header_too_big(tmp):
    data = bytearray(idx_bytes(np.zeros((30, 6, 6), np.uint8)))
    data[4:8] = struct.pack(">I", 31)
    return idx_set(tmp, x=bytes(data))


def payload_too_long(tmp):
    return idx_set(tmp, x=idx_bytes(np.zeros((30, 6, 6), np.uint8)) + b"\0" * 36)


def npz(tmp, **arrays):
    return f"npz:{write_npz_dataset(tmp / 'set.npz', n_train_per_class=10, n_test_per_class=4, **arrays)}"


def garbage_file(tmp, name, data=b"\x00garbage" * 50):
    path = tmp / name
    path.write_bytes(data)
    return path


def run_case(*sets: str) -> list[str]:
    args = ["run", "-q"]
    for item in [*FAST, *sets]:
        args += ["--set", item]
    return args


# --- plugins that break their contract -----------------------------------------------------------

class Upcast:
    """An optimizer that replaces the weights by float64 copies."""

    def __init__(self, params):
        self.params = params

    def step(self, grads, lr):
        for i, g in enumerate(grads):
            self.params[i] = self.params[i].astype(np.float64) - lr * g


class BadPlugins:
    @hookimpl
    def pipeline_register_activations(self):
        ones = lambda z, a: np.ones_like(z)  # noqa: E731
        return {"narrow": Activation(lambda z: z[:, :1].copy(), ones),
                "double": Activation(lambda z: z.astype(np.float64), ones),
                "crash": Activation(lambda z: 1 / 0, ones),
                "inplace": Activation(lambda z: np.maximum(z, 0, out=z), ones),
                "infinite": Activation(lambda z: np.full_like(z, np.inf), ones)}

    @hookimpl
    def pipeline_register_initializers(self):
        return {"transposed": lambda fan_in, fan_out, rng: np.zeros((fan_out, fan_in)),
                "nans": lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), np.nan)}

    @hookimpl
    def pipeline_register_optimizers(self):
        return {"upcast": Upcast}


def edited_model(tmp: Path, **changes) -> str:
    """The exported model of the template run, with model.json keys changed."""
    path = tmp / "out" / "model.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))
    return str(tmp / "out")


def npz_model(tmp: Path, **arrays) -> str:
    np.savez(tmp / "out" / "model.npz", **arrays)
    return str(tmp / "out")


def without(path: Path) -> str:
    """Remove ``path``; returns its directory."""
    path.unlink()
    return str(path.parent)


def images(tmp: Path, name: str, array) -> str:
    path = tmp / name
    if name.endswith(".npz"):
        np.savez(path, **array)
    else:
        np.save(path, array, allow_pickle=True)
    return str(path)
