"""Train epochs with the default config, stage against the hand-written script, in one process.

``python benchmarks/epoch_pair.py IDX_DIR [--epochs 3] [--rounds 3]`` prints JSON: per round, the
script's training loop (``handscript.train``: momentum 0.9, L2 5e-4, cosine, batches of 128) for
``--epochs`` epochs just before and just after the train stage with the default config (reading
uint8 rows through split's row numbers, as a cold run does), so that a change of machine load hits
both alike; the script on the faster of the library's default threads and one thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import handscript  # noqa: E402


def stage_epochs(x_raw, y_all, order, n_val, epochs: int) -> list[float]:
    """Seconds per epoch of the train stage, default config, as the runner calls it."""
    from pipeline.api import Progress
    from pipeline.config import build_config
    from plugins.activations import ACTIVATIONS
    from plugins.optimizers import OPTIMIZERS
    from stages import train

    marks: list[float] = []

    class Clock(Progress):
        def update(self, task, completed, total=None, **info):
            marks.append(time.perf_counter())

    prep = {"scale": float(np.float32(1 / 255)), "mean": 0.0, "std": 1.0, "clip": False}
    cfg = build_config(overrides=[("train.epochs", epochs)])
    began = time.perf_counter()
    train.run(cfg, params0=handscript.he_init(), x_raw=x_raw, x_raw_test=None, y_all=y_all, y_all_test=None,
              preprocessing=prep, train_rows=order[n_val:], val_rows=order[:n_val],
              activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["momentum"], progress=Clock())
    return np.diff([began] + marks).tolist()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idx_dir")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    x_raw, labels = (handscript.read_idx(Path(args.idx_dir) / name) for name in handscript.FILES[:2])
    x_raw = x_raw.reshape(len(x_raw), -1)
    y_all = np.eye(10, dtype=np.float32)[labels]
    x = x_raw.astype(np.float32) / np.float32(255)
    rng = np.random.default_rng(42)
    order = rng.permutation(len(x))
    n_val = len(x) // 10
    x_val, y_val, x_tr, y_tr = x[order[:n_val]], y_all[order[:n_val]], x[order[n_val:]], y_all[order[n_val:]]

    def script() -> float:
        per = []
        for threads in (None, 1):
            with threadpool_limits(limits=threads, user_api="blas"):
                seconds, _ = handscript.train(handscript.he_init(), x_tr, y_tr, x_val, y_val, args.epochs,
                                              np.random.default_rng(0), total_epochs=20)
            per.append(statistics.mean(seconds))
        return min(per)

    rounds = []
    for _ in range(args.rounds):
        before = script()
        stage = statistics.mean(stage_epochs(x_raw, y_all, order, n_val, args.epochs))
        after = script()
        rounds.append({"stage": stage, "script": (before + after) / 2, "ratio": stage / ((before + after) / 2)})
    print(json.dumps(rounds))


if __name__ == "__main__":
    main()
