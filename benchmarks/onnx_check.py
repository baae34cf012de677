"""model.onnx on onnxruntime against the NumPy forward pass, on the MNIST test set.

Trains the default model (or reuses the cached one) through ``pipeline.run``, then feeds the
raw test images to both: ``pipeline.predict`` (NumPy, float32, the reference) and
onnxruntime on the exported ``model.onnx`` (preprocessing inside the graph). Reports the
largest probability difference (target <= 1e-5), how many labels differ (target 0), both
accuracies, and the time of one pass over the test set as a ratio to NumPy's, measured in
the same run (median of 5).

Usage: ``python benchmarks/onnx_check.py --data idx:path/to/mnist [--workdir DIR]``;
``--quick`` uses a small synthetic MNIST-shaped set (seconds; checks the script works).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def _median_seconds(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="idx:../shared/data/mnist", help="idx:DIR or npz:FILE of MNIST")
    parser.add_argument("--workdir", help="cache and run directory (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="small synthetic data, 2 epochs")
    args = parser.parse_args()

    import onnxruntime as ort

    import pipeline
    from pipeline.data.sources import load_source
    from pipeline.predict import open_model

    work = Path(args.workdir or tempfile.mkdtemp(prefix="onnx-check-"))
    sets: dict = {"data.source": args.data}
    if args.quick:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from data import write_synthetic_idx

        sets = {"data.source": f"idx:{write_synthetic_idx(work / 'data', 3000, 1000)}", "train.epochs": 2}
    result = pipeline.run(set=sets, cache_dir=work / "cache", out=work / "run", quiet=True)
    raw = load_source(sets["data.source"], work / "cache" / "downloads")
    images, truth = raw.x_test, raw.y_test

    model = pipeline.load_model(result.out_dir)
    session = ort.InferenceSession(str(result.out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    pixels = images.reshape(len(images), -1).astype(np.float32)
    reference = model.predict_proba(images)
    probabilities, labels = session.run(["probabilities", "label"], {"pixels": pixels})
    expected = np.asarray(model.classes)[reference.argmax(axis=1)]

    diff = float(np.abs(probabilities - reference).max())
    differing = int(np.sum(labels != expected))
    numpy_model = open_model(result.out_dir)                # the forward pass alone, on the same float32 rows
    numpy_s = _median_seconds(lambda: numpy_model.proba(pixels))
    onnx_s = _median_seconds(lambda: session.run(["probabilities", "label"], {"pixels": pixels}))
    print(f"test set: {len(images)} images {images.shape[1:]}, model {'-'.join(map(str, model.meta['layers']))} "
          f"{model.meta['activation']}")
    print(f"max |p_onnxruntime - p_numpy|: {diff:.2e} (target <= 1e-05): {'met' if diff <= 1e-5 else 'NOT met'}")
    print(f"labels that differ: {differing} of {len(images)} (target 0): {'met' if differing == 0 else 'NOT met'}")
    print(f"accuracy: numpy {np.mean(expected == truth):.4f}, onnxruntime {np.mean(labels == truth):.4f} "
          f"(evaluate stage: {result.metrics['test_accuracy']:.4f})")
    print(f"one pass: numpy forward {numpy_s * 1e3:.1f} ms (reference), onnxruntime {onnx_s * 1e3:.1f} ms, "
          f"ratio {onnx_s / numpy_s:.2f}")
    return 0 if diff <= 1e-5 and differing == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
