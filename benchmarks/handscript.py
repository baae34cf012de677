"""The default job written by hand, as one plain NumPy script: ``python benchmarks/handscript.py DIR``.

What ``python -m pipeline run`` does with the default configuration, written the way one would
write it without the tool: read the four gzipped IDX files, ``/ 255`` to float32, one-hot labels,
a seeded 10 % validation split, He-normal init, a 784-64-10 ReLU net, momentum 0.9, learning rate
0.2 on a cosine schedule, L2 5e-4 on the weights, batches of 128, 20 epochs, the validation loss
and accuracy after every epoch, the test accuracy at the end. Fancy-index gathers, ``@`` and a
fresh array for every intermediate; no plugins, no cache, no scikit-learn. Prints one JSON line:
the wall time of every epoch, the accuracies and the process's peak RSS.
"""

from __future__ import annotations

import gzip
import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


def read_idx(path: Path) -> np.ndarray:
    data = gzip.decompress(path.read_bytes())
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def forward(params, x):
    w1, b1, w2, b2 = params
    z1 = x @ w1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ w2 + b2
    z2 = z2 - z2.max(axis=1, keepdims=True)
    p = np.exp(z2)
    return z1, a1, p / p.sum(axis=1, keepdims=True)


def train(params, x_tr, y_tr, x_val, y_val, epochs: int, rng, total_epochs: int | None = None,
          first_epoch: int = 0) -> tuple[list[float], float]:
    """Momentum + L2 mini-batch training of ``params`` in place; wall seconds per epoch, last val accuracy."""
    velocity = [np.zeros_like(p) for p in params]
    lr0, wd, mu, batch = 0.2, 5e-4, 0.9, 128
    total = total_epochs or epochs
    seconds, val_acc = [], 0.0
    for epoch in range(first_epoch, first_epoch + epochs):
        start = time.perf_counter()
        lr = lr0 * 0.5 * (1 + math.cos(math.pi * epoch / total))
        perm = rng.permutation(len(x_tr))
        for i in range(0, len(x_tr), batch):
            idx = perm[i:i + batch]
            xb, yb = x_tr[idx], y_tr[idx]
            z1, a1, p = forward(params, xb)
            delta2 = (p - yb) / len(idx)
            delta1 = (delta2 @ params[2].T) * (z1 > 0)
            grads = [xb.T @ delta1 + wd * params[0], delta1.sum(axis=0),
                     a1.T @ delta2 + wd * params[2], delta2.sum(axis=0)]
            for param, v, g in zip(params, velocity, grads):
                v *= mu
                v -= lr * g
                param += v
        probs = forward(params, x_val)[2]
        val_loss = float(-np.mean(np.sum(y_val * np.log(np.maximum(probs, 1e-30)), axis=1)))
        val_acc = float(np.mean(probs.argmax(1) == y_val.argmax(1)))
        seconds.append(time.perf_counter() - start)
        if not np.isfinite(val_loss):
            raise FloatingPointError("diverged")
    return seconds, val_acc


def he_init(seed: int = 42) -> list[np.ndarray]:
    init = np.random.RandomState(seed)
    return [(init.standard_normal((784, 64)) * np.sqrt(2 / 784)).astype(np.float32), np.zeros(64, np.float32),
            (init.standard_normal((64, 10)) * np.sqrt(2 / 64)).astype(np.float32), np.zeros(10, np.float32)]


def main(directory: str, epochs: int = 20) -> dict:
    began = time.perf_counter()
    x, y, x_test, y_test = (read_idx(Path(directory) / name) for name in FILES)
    x = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / np.float32(255)
    y1, yt1 = np.eye(10, dtype=np.float32)[y], np.eye(10, dtype=np.float32)[y_test]
    rng = np.random.default_rng(42)
    order = rng.permutation(len(x))
    n_val = len(x) // 10
    x_val, y_val, x_tr, y_tr = x[order[:n_val]], y1[order[:n_val]], x[order[n_val:]], y1[order[n_val:]]
    params = he_init()
    seconds, val_acc = train(params, x_tr, y_tr, x_val, y_val, epochs, rng)
    test_acc = float(np.mean(forward(params, x_test)[2].argmax(1) == yt1.argmax(1)))
    return {"epochs": seconds, "per_epoch": float(np.median(seconds[1:])), "val_acc": val_acc,
            "test_acc": test_acc, "seconds": time.perf_counter() - began,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))))
