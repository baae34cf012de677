"""Whole-pipeline measurements: full and cached CLI runs, imports, cached fetch, IDX parsing, memory.

Every CLI run is a fresh ``python -m pipeline run`` subprocess, timed from spawn to exit, so
interpreter start-up and imports count, as they do for a user.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Modules registered as stages (``pipeline/registry.py``); none may be imported on a fully cached run.
STAGE_MODULES = ("stages.fetch", "stages.normalize", "stages.encode", "stages.split", "stages.init",
                 "stages.train", "stages.evaluate", "stages.export")


def _env() -> dict[str, str]:
    """A plain environment: no third-party plugins, wide output, the repository importable."""
    env = dict(os.environ, PIPELINE_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="200")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def pipeline_run(source: str, cache: Path, out: Path, *sets: str, python_flags: tuple = ()) -> dict:
    """One ``python -m pipeline run -q``; wall seconds, peak RSS (MB) of that process, run.json.

    The child's own resource usage comes from ``os.wait4``, so nothing else this benchmark
    ran earlier can be mistaken for its peak.
    """
    cmd = [sys.executable, *python_flags, "-m", "pipeline", "run", "-q", "--cache-dir", str(cache),
           "--out", str(out), "--set", f"data.source={source}"]
    for item in sets:
        cmd += ["--set", item]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=out.parent, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()       # small: -q prints next to nothing
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    record = json.loads((out / "run.json").read_text())
    return {"wall": wall, "rss_mb": usage.ru_maxrss / 1024, "record": record, "stderr": stderr.decode(),
            "stdout": stdout.decode()}


def stage_seconds(record: dict, name: str) -> float:
    """Seconds of stage ``name`` in a run record."""
    return next(s["seconds"] for s in record["stages"] if s["name"] == name)


def cached_runs(source: str, cache: Path, out: Path, repeats: int) -> dict:
    """Fully cached runs: wall times, statuses, and what ``-X importtime`` says was imported."""
    walls, statuses = [], set()
    for _ in range(repeats):
        result = pipeline_run(source, cache, out)
        walls.append(result["wall"])
        statuses |= {s["status"] for s in result["record"]["stages"]}
    traced = pipeline_run(source, cache, out, python_flags=("-X", "importtime"))
    imported = {line.split("|")[-1].strip() for line in traced["stderr"].splitlines() if "import time:" in line}
    sklearn = sorted(m for m in imported if m == "sklearn" or m.startswith("sklearn."))
    stages = sorted(m for m in imported if m in STAGE_MODULES)
    helpers = sorted(m for m in imported if (m.startswith("stages.") and m not in STAGE_MODULES)
                     or m.startswith(("pipeline.nn.", "pipeline.data.idx", "pipeline.data.openml")))
    return {"walls": walls, "median": statistics.median(walls), "statuses": sorted(statuses),
            "sklearn": sklearn, "stage_modules": stages, "stage_helpers": helpers}


def bare_python(repeats: int) -> float:
    """Median wall seconds of a Python that imports numpy, joblib, pluggy and rich, then exits."""
    cmd = [sys.executable, "-c", "import numpy, joblib, pluggy, rich.console"]
    walls = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run(cmd, check=True, env=_env())
        walls.append(time.perf_counter() - began)
    return statistics.median(walls)


def cached_fetch_load(source: str, cache: Path, repeats: int = 5) -> float:
    """Median seconds to load every output of the cached ``fetch`` entry, as the runner does."""
    from pipeline.cache.store import Cache
    from pipeline.config import build_config
    from pipeline.hooks.manager import load_plugins
    from pipeline.runner import Runner

    store = Cache(cache)
    runner = Runner(build_config(overrides=[("data.source", source)]), store, load_plugins(autoload=False))
    key = runner.make_plan().keys["fetch"]
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        entry = store.lookup("fetch", key)
        entry.verify()
        outputs = entry.outputs()
        arrays = [outputs[name] for name in entry.meta["outputs"]]
        times.append(time.perf_counter() - began)
        del arrays, outputs
    return statistics.median(times)


def idx_parse(idx_dir: Path, repeats: int = 3) -> float:
    """Median seconds to read and decode the four IDX files (gzip included)."""
    from data import IDX_FILES
    from pipeline.data.idx import read_idx

    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        for name in IDX_FILES:
            read_idx(idx_dir / name)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _traced_peak(function, *args, **kwargs) -> tuple[int, object]:
    """Peak bytes allocated (NumPy reports its buffers to tracemalloc) while ``function`` runs."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = function(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def inference_memory(npy: Path, idx_dir: Path) -> dict:
    """Peak traced memory of the ``evaluate`` stage and of ``predict``, against float64 copies.

    evaluate scores the validation and test rows (float32, as the ``split`` stage hands them
    over); predict classifies the raw uint8 test images from the IDX file, preprocessing
    included. A full-size float64 temporary of the rows would alone be 100 % of the reference.
    """
    import numpy as np

    from pipeline.config import build_config
    from pipeline.predict import Model, predict
    from plugins.activations import ACTIVATIONS
    from stages import evaluate
    from data import IDX_FILES, load, one_hot
    from pipeline.data.idx import read_idx

    x_val, y_val, x_test, y_test = load(npy, ("x_val", "y_val", "x_test", "y_test"))
    y_val, y_test = one_hot(y_val), one_hot(y_test)
    rng = np.random.default_rng(0)
    d = x_val.shape[1]
    params = [(rng.standard_normal((d, 64)) * 0.05).astype(np.float32), np.zeros(64, np.float32),
              (rng.standard_normal((64, 10)) * 0.1).astype(np.float32), np.zeros(10, np.float32)]
    relu = ACTIVATIONS["relu"]
    import sklearn.metrics  # noqa: F401  (imported before tracing: its import is not the stage's memory)

    from pipeline.nn.inputs import IDENTITY
    inputs = {"x_raw": x_val, "x_raw_test": x_test, "y_all": y_val, "y_all_test": y_test,
              "preprocessing": dict(IDENTITY), "val_rows": np.arange(len(x_val)),
              "test_rows": np.arange(len(x_val), len(x_val) + len(x_test))}
    peak_eval, out = _traced_peak(evaluate.run, build_config(), params=params, classes=list(range(10)),
                                  activation=relu, **inputs)
    images = read_idx(idx_dir / IDX_FILES[2])
    model = Model(params, {"layers": [d, 64, 10], "preprocessing": {"scale": 1 / 255, "mean": 0.0, "std": 1.0}})
    peak_predict, probs = _traced_peak(predict, model, images, relu)
    return {"evaluate_peak": peak_eval, "evaluate_f64": (x_val.size + x_test.size) * 8,
            "predict_peak": peak_predict, "predict_f64": images.size * 8, "predict_dtype": str(probs.dtype),
            "test_accuracy_untrained": out["metrics"]["test_accuracy"]}
