"""A cold run on IDX files imports no scikit-learn and stores the data set once."""

from __future__ import annotations

import subprocess
import sys

from pipeline.cache.store import Cache
from tests.pipeline.processes import ROOT, cli_args, env


def test_a_cold_run_imports_no_scikit_learn_and_stores_rows_not_copies(idx_dir, tmp_path):
    cache = tmp_path / "cache"
    code = ("import sys\nfrom pipeline.cli import main\ncode = main(sys.argv[1:])\n"
            "assert code == 0, code\nassert 'sklearn' not in sys.modules, 'scikit-learn was imported'\n")
    result = subprocess.run([sys.executable, "-c", code, *cli_args(idx_dir, tmp_path / "out")], env=env(cache),
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    store = Cache(cache)
    sizes = {}
    for stage in ("fetch", "normalize", "split"):
        [key] = [p.name for p in (cache / stage).iterdir() if p.is_dir() and not p.name.startswith(".")]
        entry = store.find(stage, key)
        sizes[stage] = {name: info["size"] for name, info in entry.meta["outputs"].items()}
    rows = 3 * 30 + 3 * 10                                            # the tiny data set's training and test rows
    assert sizes["fetch"]["x_raw"] >= 90 * 36                          # the pixels, once, as uint8
    assert sum(sizes["normalize"].values()) < 1024                     # a recipe, not a float32 copy
    assert sum(sizes["split"].values()) < 8 * rows + 3 * 512           # int64 row numbers (+ headers), not rows
