"""The corpus of bad inputs behind ``test_errors.py``, by family, with their builders.

Each case is ``(id, build, fragments)`` (``TRAINING`` adds the exit code before
``build``): ``build`` makes the bad file(s) in the test's directory and
returns the CLI arguments; ``fragments`` must all appear in the one-line error.
"""

from __future__ import annotations

import gzip
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
                "crash": Activation(lambda z: 1 / 0, ones)}

    @hookimpl
    def pipeline_register_initializers(self):
        return {"transposed": lambda fan_in, fan_out, rng: np.zeros((fan_out, fan_in)),
                "nans": lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), np.nan)}

    @hookimpl
    def pipeline_register_optimizers(self):
        return {"upcast": Upcast}


# --- the corpus: (id, args given (tmp_path, idx), exit code, fragments of the message) -------------

SRC = "data.source=idx:{idx}"
PICKLE = b"cos\nsystem\n(S'echo pwned'\ntR."  # would run a command if unpickled
CONFIG = [  # exit 2, found before any stage runs
    ("unknown-section", lambda t, i: run_case("trian.lr=0.1"),
     ["unknown config section 'trian'", "did you mean 'train'"]),
    ("unknown-key", lambda t, i: run_case("train.lrr=0.1"), ["'train.lrr'", "did you mean 'train.lr'"]),
    ("key-without-section", lambda t, i: run_case("lr=0.1"), ["'lr'", "section.key"]),
    ("set-without-equals", lambda t, i: ["run", "--set", "train.lr"], ["--set expects KEY=VALUE", "train.lr"]),
    ("type-int", lambda t, i: run_case("train.epochs=ten"), ["train.epochs must be int", "string"]),
    ("type-float-given-bool", lambda t, i: run_case("train.lr=true"), ["train.lr must be float"]),
    ("type-bool", lambda t, i: run_case("normalize.standardize=yes"), ["normalize.standardize must be bool"]),
    ("type-hidden-scalar", lambda t, i: run_case("model.hidden=64"), ["model.hidden", "[128, 64]"]),
    ("type-options", lambda t, i: run_case("train.optimizer_options=3"), ["train.optimizer_options must be dict"]),
    ("negative-epochs", lambda t, i: run_case("train.epochs=-3"), ["train.epochs must be greater than 0", "-3"]),
    ("zero-batch", lambda t, i: run_case("train.batch_size=0"), ["train.batch_size", '"full"', "got 0"]),
    ("word-batch", lambda t, i: run_case("train.batch_size=half"), ["train.batch_size", '"full"', "half"]),
    ("empty-hidden", lambda t, i: run_case("model.hidden=[]"), ["model.hidden", "non-empty"]),
    ("zero-width", lambda t, i: run_case("model.hidden=[64,0]"), ["model.hidden", "positive integers", "[64, 0]"]),
    ("negative-width", lambda t, i: run_case("model.hidden=[-4]"), ["model.hidden", "positive integers"]),
    ("val-size-above-1", lambda t, i: run_case("split.val_size=1.5"), ["split.val_size", "between 0 and 1", "1.5"]),
    ("val-size-zero", lambda t, i: run_case("split.val_size=0"), ["split.val_size", "between 0 and 1"]),
    ("nan-lr", lambda t, i: run_case("train.lr=nan"), ["train.lr must be a finite number", "nan"]),
    ("inf-lr", lambda t, i: run_case("train.lr=inf"), ["train.lr must be a finite number", "inf"]),
    ("zero-lr", lambda t, i: run_case("train.lr=0"), ["train.lr must be greater than 0"]),
    ("negative-decay", lambda t, i: run_case("train.weight_decay=-1e-4"), ["train.weight_decay must be 0 or more"]),
    ("gamma-above-1", lambda t, i: run_case("train.gamma=2"), ["train.gamma", "between 0 and 1"]),
    ("unknown-schedule", lambda t, i: run_case("train.schedule=linear"), ["train.schedule", "constant, step, cosine"]),
    ("unknown-scheme", lambda t, i: run_case("split.scheme=kfold"), ["split.scheme", "official, random"]),
    ("invalid-toml", lambda t, i: ["run", "--config", str(garbage_file(t, "p.toml", b"[train\nlr = 1"))],
     ["p.toml' is not valid TOML", "line 1"]),
    ("toml-not-a-table", lambda t, i: ["run", "--config", str(garbage_file(t, "p.toml", b"lr = 0.1\n"))],
     ["'lr' must be a [section] table"]),
    ("toml-unknown-key", lambda t, i: ["run", "--config", str(garbage_file(t, "p.toml", b"[train]\nepoch = 3\n"))],
     ["unknown config key 'train.epoch'", "did you mean 'train.epochs'"]),
    ("toml-binary", lambda t, i: ["run", "--config", str(garbage_file(t, "p.toml", b"\xff\xfe\x00"))], ["p.toml"]),
    ("missing-config", lambda t, i: ["run", "--config", str(t / "absent.toml")], ["absent.toml' does not exist"]),
    ("unknown-preset", lambda t, i: ["run", "--preset", "fast"], ["unknown preset 'fast'", "available presets: seed"]),
    ("only-unknown", lambda t, i: ["run", "--only", "trian"], ["unknown stage 'trian'", "fetch, normalize"]),
    ("from-unknown", lambda t, i: ["run", "--from", "bogus"], ["unknown stage 'bogus'"]),
    ("to-unknown", lambda t, i: ["run", "--to", "evaluat"], ["unknown stage 'evaluat'"]),
    ("force-unknown", lambda t, i: ["run", "--force", "tran"], ["unknown stage 'tran'"]),
    ("only-and-from", lambda t, i: ["run", "--only", "train", "--from", "init"], ["--only cannot be combined"]),
    ("from-after-to", lambda t, i: ["run", "--from", "train", "--to", "split"],
     ["--from train comes after --to split"]),
    ("unknown-option", lambda t, i: ["run", "--epochs", "3"], ["unrecognized arguments: --epochs"]),
    ("unknown-command", lambda t, i: ["train"], ["invalid choice: 'train'"]),
    ("unknown-activation", lambda t, i: run_case("model.activation=swish"), ["model.activation = 'swish'",
                                                                             "relu, sigmoid, tanh"]),
    ("unknown-initializer", lambda t, i: run_case("model.init=zeros"), ["model.init = 'zeros'", "he_normal"]),
    ("unknown-optimizer", lambda t, i: run_case("train.optimizer=adamw"), ["train.optimizer = 'adamw'", "momentum"]),
    ("unknown-optimizer-option", lambda t, i: run_case(SRC.format(idx=i), "train.optimizer_options={nesterow=true}"),
     ["train.optimizer_options", "nesterow", "optimizer 'momentum'"]),
    ("bad-optimizer-option-value", lambda t, i: run_case(SRC.format(idx=i), 'train.optimizer_options={momentum="x"}'),
     ["train.optimizer_options", "momentum"]),
    ("block-syntax", lambda t, i: ["run", "-p", "relu"], ["-p expects no:NAME", "'relu'"]),
    ("source-scheme", lambda t, i: run_case("data.source=ftp://host/mnist"), ["data.source 'ftp://host/mnist'",
                                                                                  "idx:DIR | npz:FILE"]),
    ("source-missing-argument", lambda t, i: run_case("data.source=idx:"), ["data.source 'idx:'", "idx:DIR"]),
    ("source-extra-argument", lambda t, i: run_case("data.source=digits:8x8"), ["data.source 'digits:8x8'"]),
    ("cache-clear-unknown", lambda t, i: ["cache", "clear", "trian"], ["unknown stage 'trian'"]),
]

DATA = [  # exit 1
    ("idx-missing-dir", lambda t, i: run_case(f"data.source=idx:{t / 'nowhere'}"), ["nowhere: no such directory"]),
    ("idx-missing-labels", lambda t, i: run_case(f"data.source={idx_set(t, y=None)}"),
     ["missing train-labels-idx1-ubyte", "train-images-idx3-ubyte and train-labels"]),
    ("idx-half-test-set", lambda t, i: run_case(f"data.source={idx_set(t, yt=None)}"),
     ["has t10k-images-idx3-ubyte but not t10k-labels", "both t10k files or neither"]),
    ("idx-truncated-gzip", lambda t, i: run_case(f"data.source={truncated_gz(t)}"),
     ["train-images-idx3-ubyte.gz: gzip stream is truncated"]),
    ("idx-corrupt-gzip", lambda t, i: run_case(f"data.source={corrupt_gz(t)}"),
     ["train-images-idx3-ubyte.gz: corrupt gzip data"]),
    ("idx-gz-name-not-gzip", lambda t, i: run_case(f"data.source={not_gzip(t)}"), [".gz but the file is not gzip"]),
    ("idx-bad-magic", lambda t, i: run_case(f"data.source={bad_magic(t)}"),
     ["train-images-idx3-ubyte: bad IDX magic 0x00000703", "0x00000803 images"]),
    ("idx-empty-file", lambda t, i: run_case(f"data.source={idx_set(t, x=b'')}"), ["0 bytes is too short"]),
    ("idx-header-larger-than-payload", lambda t, i: run_case(f"data.source={header_too_big(t)}"),
     ["payload is truncated", "(31, 6, 6)"]),
    ("idx-payload-longer-than-header", lambda t, i: run_case(f"data.source={payload_too_long(t)}"),
     ["longer than its header says"]),
    ("idx-images-not-3d", lambda t, i: run_case(f"data.source={idx_set(t, x=idx_bytes(np.zeros((30, 36), np.uint8)))}"),
     ["images must have 3 dimensions", "(30, 36)"]),
    ("idx-count-mismatch", lambda t, i: run_case(f"data.source={idx_set(t, y=idx_bytes(np.zeros(29, np.uint8)))}"),
     ["has 30 images but", "train-labels-idx1-ubyte has 29 labels"]),
    ("idx-test-label-unseen", lambda t, i: run_case(
        f"data.source={idx_set(t, yt=idx_bytes(np.full(12, 7, np.uint8)))}"),
     ["t10k-labels-idx1-ubyte: test labels 7 are not among the training classes [0, 1, 2]"]),
    ("idx-single-class", lambda t, i: run_case(f"data.source={idx_set(t, y=idx_bytes(np.zeros(30, np.uint8)))}"),
     ["every training label is 0", "at least 2 classes"]),
    ("idx-test-image-size", lambda t, i: run_case(
        f"data.source={idx_set(t, xt=idx_bytes(np.zeros((12, 5, 5), np.uint8)))}"),
     ["t10k-images-idx3-ubyte: images are (5, 5), the training images are (6, 6)"]),
    ("npz-missing-file", lambda t, i: run_case(f"data.source=npz:{t / 'absent.npz'}"), ["absent.npz: no such file"]),
    ("npz-is-a-directory", lambda t, i: run_case(f"data.source=npz:{t}"), ["no such file"]),
    ("npz-garbage", lambda t, i: run_case(f"data.source=npz:{garbage_file(t, 'g.npz')}"),
     ["g.npz: not a readable .npz file", "x_train, y_train"]),
    ("npz-pickle-bytes", lambda t, i: run_case(f"data.source=npz:{garbage_file(t, 'p.npz', PICKLE)}"),
     ["p.npz: not a readable .npz file"]),
    ("npz-single-array", lambda t, i: run_case(f"data.source=npz:{_images(t, 'one.npy', np.zeros(3))}"),
     ["one.npy: holds a single array"]),
    ("npz-missing-x-train", lambda t, i: run_case(f"data.source={npz(t, x_train=None)}"),
     ["missing array(s) x_train", "has: y_train, x_test, y_test"]),
    ("npz-test-images-without-labels", lambda t, i: run_case(f"data.source={npz(t, y_test=None)}"),
     ["missing array(s) y_test"]),
    ("npz-labels-2d", lambda t, i: run_case(f"data.source={npz(t, y_train=np.zeros((30, 2), np.uint8))}"),
     ["array y_train has shape (30, 2); expected (n,)"]),
    ("npz-images-1d", lambda t, i: run_case(f"data.source={npz(t, x_train=np.zeros(30, np.uint8))}"),
     ["array x_train has shape (30,)", "(n, h, w) or (n, pixels)"]),
    ("npz-object-array", lambda t, i: run_case(f"data.source={npz(t, y_train=np.array([{}] * 30, dtype=object))}"),
     ["array y_train cannot be read", "allow_pickle=False"]),
    ("npz-string-images", lambda t, i: run_case(f"data.source={npz(t, x_train=np.full((30, 36), 'a'))}"),
     ["array x_train has dtype <U1; expected integers or floats"]),
    ("npz-complex-images", lambda t, i: run_case(f"data.source={npz(t, x_train=np.zeros((30, 36), np.complex64))}"),
     ["dtype complex64"]),
    ("npz-bool-images", lambda t, i: run_case(f"data.source={npz(t, x_train=np.zeros((30, 36), bool))}"),
     ["dtype bool"]),
    ("npz-nan-pixels", lambda t, i: run_case(f"data.source={npz(t, x_train=np.full((30, 36), np.nan, np.float32))}"),
     ["[x_train]: pixel values must be finite and >= 0"]),
    ("npz-negative-pixels", lambda t, i: run_case(f"data.source={npz(t, x_train=np.full((30, 36), -1.0))}"),
     ["pixel values must be finite and >= 0", "-1.0"]),
    ("npz-fractional-labels", lambda t, i: run_case(f"data.source={npz(t, y_train=np.linspace(0, 2, 30))}"),
     ["[y_train]: labels must be whole numbers"]),
    ("npz-count-mismatch", lambda t, i: run_case(f"data.source={npz(t, y_train=np.zeros(29, np.uint8))}"),
     ["[x_train] has 30 images but", "[y_train] has 29 labels"]),
    ("npz-no-rows", lambda t, i: run_case(
        f"data.source={npz(t, x_train=np.zeros((0, 36), np.uint8), y_train=np.zeros(0))}"),
     ["[x_train]: holds no images"]),
    ("npz-test-label-unseen", lambda t, i: run_case(f"data.source={npz(t, y_test=np.full(12, 9))}"),
     ["[y_test]: test labels 9 are not among the training classes"]),
    ("split-too-small", lambda t, i: run_case(SRC.format(idx=i), "split.val_size=0.01"),
     ["split.val_size=0.01 cannot split"]),
]

TRAINING = [  # exit 1, except a misbehaving plugin (exit 2)
    ("divergence", 1, lambda t, i: run_case(SRC.format(idx=i), "train.lr=1e30"),
     ["loss became", "epoch 1", "1e+30", "lower train.lr"]),
    ("divergence-late", 1, lambda t, i: run_case(SRC.format(idx=i), "train.lr=1e4", "train.epochs=30"),
     ["loss became", "epoch", "lower train.lr"]),
    ("activation-wrong-shape", 2, lambda t, i: run_case(SRC.format(idx=i), "model.activation=narrow"),
     ["activation 'narrow' (plugin 'badplugins')", "shape (4, 1)"]),
    ("activation-wrong-dtype", 2, lambda t, i: run_case(SRC.format(idx=i), "model.activation=double"),
     ["activation 'double' (plugin 'badplugins')", "float64"]),
    ("activation-raises", 2, lambda t, i: run_case(SRC.format(idx=i), "model.activation=crash"),
     ["activation 'crash' (plugin 'badplugins') raised", "ZeroDivisionError"]),
    ("initializer-wrong-shape", 2, lambda t, i: run_case(SRC.format(idx=i), "model.init=transposed"),
     ["initializer 'transposed' (plugin 'badplugins')", "shape (3, 5)"]),
    ("initializer-nan", 2, lambda t, i: run_case(SRC.format(idx=i), "model.init=nans"),
     ["initializer 'nans' (plugin 'badplugins')", "NaN"]),
    ("optimizer-changes-dtype", 2, lambda t, i: run_case(SRC.format(idx=i), "train.optimizer=upcast"),
     ["optimizer 'upcast' (plugin 'badplugins')", "float64"]),
]


def _model(tmp: Path, **changes) -> str:
    """The exported model of the template run, with model.json keys changed."""
    path = tmp / "out" / "model.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))
    return str(tmp / "out")


def _npz_model(tmp: Path, **arrays) -> str:
    np.savez(tmp / "out" / "model.npz", **arrays)
    return str(tmp / "out")


def _without(path: Path) -> str:
    """Remove ``path``; returns its directory."""
    path.unlink()
    return str(path.parent)


def _images(tmp: Path, name: str, array) -> str:
    path = tmp / name
    if name.endswith(".npz"):
        np.savez(path, **array)
    else:
        np.save(path, array, allow_pickle=True)
    return str(path)


GOOD = np.zeros((2, 6, 6), np.uint8)
PREDICT = [  # exit 1; the cache is not involved
    ("model-missing", lambda t: ["predict", str(t / "nowhere"), _images(t, "a.npy", GOOD)],
     ["nowhere' does not exist", "run directory"]),
    ("model-json-missing", lambda t: ["predict", _without(t / "out" / "model.json"), _images(t, "a.npy", GOOD)],
     ["model.json' does not exist"]),
    ("model-json-garbage", lambda t: ["predict", str(garbage_file(t / "out", "model.json").parent),
                                      _images(t, "a.npy", GOOD)], ["model.json' is not JSON"]),
    ("model-json-foreign", lambda t: ["predict", _model(t, format="keras"), _images(t, "a.npy", GOOD)],
     ["not a pipeline model description", "'keras'", "'pipeline-mlp'"]),
    ("model-json-version", lambda t: ["predict", _model(t, format_version=99), _images(t, "a.npy", GOOD)],
     ["format_version 99 is not supported"]),
    ("model-json-layers", lambda t: ["predict", _model(t, layers=[36]), _images(t, "a.npy", GOOD)],
     ["'layers' must list the positive layer widths", "[36]"]),
    ("model-json-classes", lambda t: ["predict", _model(t, classes=[0, 1]), _images(t, "a.npy", GOOD)],
     ["'classes' must list one label per output (3)"]),
    ("model-json-std-zero", lambda t: ["predict", _model(t, preprocessing={"scale": 1, "mean": 0, "std": 0}),
                                       _images(t, "a.npy", GOOD)], ["preprocessing.std must be a finite number"]),
    ("model-unknown-activation", lambda t: ["predict", _model(t, activation="swish"), _images(t, "a.npy", GOOD)],
     ["needs activation 'swish'", "available: leaky_relu, relu"]),
    ("model-npz-garbage", lambda t: ["predict", str(garbage_file(t / "out", "model.npz").parent),
                                     _images(t, "a.npy", GOOD)], ["model.npz' is not a weights-only npz file"]),
    ("model-npz-pickle", lambda t: ["predict", _npz_model(t, W1=np.array([{}], dtype=object)),
                                    _images(t, "a.npy", GOOD)], ["model.npz' is not a weights-only npz file"]),
    ("model-npz-wrong-shape", lambda t: ["predict", _npz_model(t, W1=np.zeros((3, 3)), b1=np.zeros(3)),
                                         _images(t, "a.npy", GOOD)], ["W1/b1 missing or not shaped (36, 16)"]),
    ("model-npz-nan", lambda t: ["predict", _npz_model(t, **{**dict(np.load(t / "out" / "model.npz")),
                                                             "W1": np.full((36, 16), np.nan, np.float32)}),
                                 _images(t, "a.npy", GOOD)], ["W1/b1 must hold finite floating-point weights"]),
    ("input-missing", lambda t: ["predict", str(t / "out"), str(t / "absent.npy")], ["absent.npy' does not exist"]),
    ("input-directory", lambda t: ["predict", str(t / "out"), str(t)], ["(it is a directory)"]),
    ("input-wrong-size", lambda t: ["predict", str(t / "out"), _images(t, "a.npy", np.zeros((2, 5, 5), np.uint8))],
     ["25 pixels", "built for 36", "6x6"]),
    ("input-npy-garbage", lambda t: ["predict", str(t / "out"), str(garbage_file(t, "a.npy"))],
     ["a.npy' is not a .npy file"]),
    ("input-npy-object", lambda t: ["predict", str(t / "out"), _images(t, "a.npy", np.array([{}], dtype=object))],
     ["a.npy' is not a plain .npy array"]),
    ("input-npy-strings", lambda t: ["predict", str(t / "out"), _images(t, "a.npy", np.full((2, 36), "x"))],
     ["expected numeric images", "<U1"]),
    ("input-npy-nan", lambda t: ["predict", str(t / "out"), _images(t, "a.npy", np.full((2, 36), np.nan))],
     ["NaN or infinite pixel values"]),
    ("input-npy-empty", lambda t: ["predict", str(t / "out"), _images(t, "a.npy", np.zeros((0, 36)))],
     ["expected numeric images", "(0, 36)"]),
    ("input-npz-unknown-names", lambda t: ["predict", str(t / "out"), _images(t, "a.npz", {"a": GOOD, "b": GOOD})],
     ["holds ['a', 'b']", "x_test, x or images"]),
    ("input-npz-garbage", lambda t: ["predict", str(t / "out"), str(garbage_file(t, "a.npz"))],
     ["a.npz' is not an .npz file"]),
    ("input-idx-bad-magic", lambda t: ["predict", str(t / "out"),
                                       str(garbage_file(t, "imgs.idx", b"\x01\x02\x03\x04"))],
     ["imgs.idx: bad IDX magic"]),
    ("input-idx-truncated-gzip", lambda t: ["predict", str(t / "out"), str(garbage_file(
        t, "imgs.gz", gzip.compress(idx_bytes(GOOD))[:-12]))], ["imgs.gz: gzip stream is truncated"]),
]
