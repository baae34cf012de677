"""One training system per process: ``python benchmarks/systems.py SYSTEM [options]`` prints JSON.

Systems: ``pair`` (the pipeline's ``train`` stage and the hand-written loop on one BLAS thread
and on the library's default threads, in the same process), ``hand`` (the hand-written loop
alone), ``sklearn-sgd``, ``sklearn-adam``, ``torch-sgd``. Each trains on the arrays that
:func:`data.prepare` saved, with the same network (``d``-``hidden``-10, ReLU), batch size,
float32 data and number of epochs, and reports the wall time of every epoch, taken at the
epoch boundaries the system itself reports. The first epoch (warm-up; the stage's thread tuner
starts on one thread) is reported but left out of the per-epoch figure, the median of the others.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import data  # noqa: E402
import handloop  # noqa: E402


def _summary(name: str, seconds: list[float], **info) -> dict:
    rest = seconds[1:] or seconds
    return {"system": name, "epochs": seconds, "per_epoch": statistics.median(rest), **info}


def _params0(d: int, hidden: int, seed: int = 42) -> list[np.ndarray]:
    """He-normal starting weights from the ``init`` stage (zero biases), float32."""
    from pipeline.config import build_config
    from plugins.initializers import INITIALIZERS
    from stages import init

    cfg = build_config(overrides=[("model.hidden", [hidden]), ("train.seed", seed)])
    x, y = np.empty((1, d), np.float32), np.empty((1, 10), np.float32)
    return init.run(cfg, x_raw=x, y_all=y, initializer=INITIALIZERS["he_normal"])["params0"]


def run_stage(args, x, y, x_val, y_val) -> dict:
    """The ``train`` stage as the runner calls it: plain SGD, constant rate, no weight decay."""
    from pipeline.api import Progress
    from pipeline.config import build_config
    from plugins.activations import ACTIVATIONS
    from plugins.optimizers import OPTIMIZERS
    from pipeline.nn import blas
    from stages import train

    cfg = build_config(overrides=[("model.hidden", [args.hidden]), ("train.optimizer", "sgd"),
                                  ("train.lr", args.lr), ("train.weight_decay", 0.0),
                                  ("train.schedule", "constant"), ("train.epochs", args.epochs),
                                  ("train.batch_size", args.batch)])
    marks: list[float] = []

    class Clock(Progress):                       # epoch boundaries as the stage reports them
        def update(self, task, completed, total=None, **info):
            marks.append(time.perf_counter())

    tuners, make_tuner = [], blas.tuner

    def recorded(*args):                         # to report how the stage's tuner chose
        tuners.append(make_tuner(*args))
        return tuners[-1]

    params0 = _params0(x.shape[1], args.hidden)
    blas.tuner = recorded
    try:
        began = time.perf_counter()
        out = train.run(cfg, params0=params0, **data.stage_inputs(x, y, x_val, y_val),
                        activation=ACTIVATIONS["relu"], optimizer=OPTIMIZERS["sgd"], progress=Clock())
    finally:
        blas.tuner = make_tuner
    seconds = np.diff([began] + marks).tolist()
    fixed = train.blas_threads(params0, min(args.batch, len(x)))
    if fixed is None:
        threads = "all"
    elif tuners and tuners[-1] is not None:
        threads = f"1-2 ({100 * tuners[-1].parallel_share:.0f} % on 2)"
    else:
        threads = "1"
    return _summary("stage", seconds, threads=threads, val_acc=out["history"]["val_acc"][-1])


def run_hand(args, x, y, threads: int | None, epochs: int | None = None, name: str | None = None) -> dict:
    """The hand-written loop under a fixed BLAS thread count (None: the library's default)."""
    params = _params0(x.shape[1], args.hidden)
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds = handloop.train(params, x, y, epochs or args.epochs, args.batch, args.lr)
    return _summary(name or f"hand@{threads or 'all'}", seconds, threads=threads or "all")


def _arrays(args) -> tuple[np.ndarray, ...]:
    x, labels, x_val, labels_val = data.load(Path(args.data))
    if args.rows:                                  # a subset, with validation rows in proportion (1 : 9)
        x, labels = x[:args.rows], labels[:args.rows]
        x_val, labels_val = x_val[:max(1, args.rows // 9)], labels_val[:max(1, args.rows // 9)]
    return x, data.one_hot(labels), x_val, data.one_hot(labels_val)


def run_pair(args) -> list[dict]:
    """In this process: the hand loop on one BLAS thread ("hand@1") just before and just after
    the stage (so that a change of machine load hits both alike), then the hand loop on the
    library's default threads ("hand@all"; ``--default-epochs 0`` skips it: it can be many times
    slower under load).
    """
    x, y, x_val, y_val = _arrays(args)
    before = run_hand(args, x, y, 1)
    stage = run_stage(args, x, y, x_val, y_val)
    after = run_hand(args, x, y, 1)
    seconds = before["epochs"][1:] + after["epochs"][1:]          # warm-up epochs left out of both
    results = [dict(before, system="hand@1", epochs=seconds, per_epoch=statistics.median(seconds)), stage]
    if args.default_epochs != 0:
        results.append(run_hand(args, x, y, None, args.default_epochs))
    return results


class _Stamps:
    """A stdout that records when scikit-learn prints "Iteration N, loss = ..." (verbose=True)."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def write(self, text: str) -> int:
        if text.startswith("Iteration"):
            self.marks.append(time.perf_counter())
        return len(text)

    def flush(self) -> None:
        pass


def run_sklearn(args, solver: str) -> dict:
    """``MLPClassifier`` with the same network, batch, float32 data and epochs, its own threads."""
    from sklearn.neural_network import MLPClassifier

    x, labels = data.load(Path(args.data), ("x_train", "y_train"))
    if args.rows:
        x, labels = x[:args.rows], labels[:args.rows]
    options = dict(momentum=0.0, nesterovs_momentum=False, learning_rate_init=args.lr) if solver == "sgd" \
        else dict(learning_rate_init=1e-3)
    clf = MLPClassifier(hidden_layer_sizes=(args.hidden,), activation="relu", solver=solver, alpha=0.0,
                        batch_size=args.batch, learning_rate="constant", max_iter=args.epochs, shuffle=True,
                        tol=0.0, n_iter_no_change=args.epochs + 1, early_stopping=False, random_state=0,
                        verbose=True, **options)
    stamps, stdout = _Stamps(), sys.stdout
    with threadpool_limits(limits=args.threads, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.stdout = stamps
        try:
            began = time.perf_counter()
            clf.fit(x, labels)
        finally:
            sys.stdout = stdout
    assert clf.coefs_[0].dtype == np.float32, "scikit-learn must train in float32 here"
    return _summary(f"sklearn-{solver}", np.diff([began] + stamps.marks).tolist(),
                    threads=args.threads or "default", dtype=str(clf.coefs_[0].dtype))


def run_torch(args) -> dict:
    """PyTorch (CPU), same network, plain SGD, its default threads."""
    import torch

    x, labels = data.load(Path(args.data), ("x_train", "y_train"))
    if args.rows:
        x, labels = x[:args.rows], labels[:args.rows]
    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    xs, ys = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], args.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(args.hidden, 10))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(args.epochs):
        began = time.perf_counter()
        order, total = torch.randperm(len(xs)), 0.0
        for start in range(0, len(xs), args.batch):
            idx = order[start:start + args.batch]
            loss = loss_fn(model(xs[idx]), ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        seconds.append(time.perf_counter() - began)
    return _summary("torch-sgd", seconds, threads=torch.get_num_threads(), version=torch.__version__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=("pair", "hand", "sklearn-sgd", "sklearn-adam", "torch-sgd"))
    parser.add_argument("--data", required=True, help="directory of the prepared .npy arrays")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--rows", type=int, default=0, help="use only the first ROWS training rows")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: the library's)")
    parser.add_argument("--default-epochs", type=int, default=None,
                        help="pair: epochs of the hand loop on default threads (default: --epochs)")
    args = parser.parse_args(argv)
    if args.system == "pair":
        result = run_pair(args)
    elif args.system == "hand":
        result = run_hand(args, *_arrays(args)[:2], args.threads)
    elif args.system == "torch-sgd":
        result = run_torch(args)
    else:
        result = run_sklearn(args, args.system.split("-")[1])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
