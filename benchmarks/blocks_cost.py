"""What thread-independent bits cost: ``python benchmarks/blocks_cost.py [--data DIR] [--rounds N]``.

The training loop sums every product in fixed blocks (pipeline/nn/blocks.py) so that its bits
do not depend on the BLAS thread count. This times one training step (gather, forward, backward,
SGD update) on MNIST-shaped batches of 128 rows, 784-64-10, with the blocks and with plain
one-call products (the summation OpenBLAS picks for the thread count), alternating the two in
short runs in one process so that both see the same machine load, on one BLAS thread and on two.
Prints the median per-step time of each and the median of the per-run ratios; also used by
``bench.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


def _plain(on: bool) -> None:
    """Sum products in one BLAS call (True) or in the fixed blocks (False)."""
    from pipeline.nn import blocks

    blocks.MAX_BLOCK = 1 << 30 if on else DEFAULT_BLOCK
    blocks.bounds.cache_clear()


def _setup(x: np.ndarray, y: np.ndarray):
    from pipeline.nn.minibatch import Batch
    from plugins.activations import ACTIVATIONS

    rng = np.random.default_rng(0)
    params = [rng.normal(0, 0.05, (x.shape[1], 64)).astype(np.float32), np.zeros(64, np.float32),
              rng.normal(0, 0.2, (64, 10)).astype(np.float32), np.zeros(10, np.float32)]
    batch = Batch(params, 128, ACTIVATIONS["relu"], 0.0)
    batch.zpart[0] = np.empty_like(batch.z[0])          # scratch for the blocked forward product
    order = rng.permutation(len(x))
    pred = np.empty(128, np.intp)

    def steps(count: int, start: int) -> None:
        for i in range(start, start + count):
            rows = order[(i * 128) % (len(x) - 128):][:128]
            np.take(x, rows, axis=0, out=batch.x, mode="clip")
            batch.loss_and_gradients(batch.x, y[rows], pred)
            for p, g in zip(params, batch.grads):
                p -= np.float32(0.01) * g
    return steps


def measure(x: np.ndarray, y: np.ndarray, threads: int, runs: int = 15, steps_per_run: int = 40) -> dict:
    """Median seconds per step with blocks and plain, and the median ratio blocked / plain."""
    steps = _setup(x, y)
    seconds = {True: [], False: []}
    ratios = []
    with threadpool_limits(limits=threads, user_api="blas"):
        steps(20, 0)                                         # warm-up
        for r in range(runs):
            pair = {}
            for plain in ((True, False) if r % 2 else (False, True)):
                _plain(plain)
                began = time.perf_counter()
                steps(steps_per_run, r * steps_per_run)
                pair[plain] = (time.perf_counter() - began) / steps_per_run
                seconds[plain].append(pair[plain])
            ratios.append(pair[False] / pair[True])
    _plain(False)
    return {"blocked": statistics.median(seconds[False]), "plain": statistics.median(seconds[True]),
            "ratio": statistics.median(ratios), "spread": (min(ratios), max(ratios))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="directory of data.prepare's .npy arrays (default: random)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    if args.data:
        import data
        x, labels = data.load(Path(args.data), ("x_train", "y_train"))
        y = data.one_hot(labels)
    else:
        rng = np.random.default_rng(0)
        x = (rng.random((20000, 784), dtype=np.float32) * (rng.random((20000, 784)) < 0.2)).astype(np.float32)
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 20000)]
    for threads in (1, 2):
        m = measure(x, y, threads, args.runs)
        print(f"{threads} BLAS thread(s): step {m['blocked'] * 1e6:.0f} us blocked, {m['plain'] * 1e6:.0f} us plain; "
              f"blocked/plain median {m['ratio']:.3f} (runs {m['spread'][0]:.3f}-{m['spread'][1]:.3f})")
    return 0


from pipeline.nn.blocks import MAX_BLOCK as DEFAULT_BLOCK  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
