"""A notebook that uses the Python API, run by a real Jupyter kernel (nbclient), as users run it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from pipeline.registry import stage_names
from tests.conftest import FAST
from tests.pipeline.processes import ROOT

CELLS = [
    """import pipeline, numpy as np
from pipeline.data.idx import read_idx
result = pipeline.run(set={{"data.source": "idx:{idx}", {sets}}}, cache_dir="cache", out="runs/a", quiet=True)
print("accuracy", result.metrics["test_accuracy"], "epochs", len(result.history["val_acc"]))""",
    """print([(s["name"], s["status"]) for s in result.stages])""",
    """model = pipeline.load_model("runs/a")
images = read_idx("{idx}/t10k-images-idx3-ubyte.gz")
labels = read_idx("{idx}/t10k-labels-idx1-ubyte.gz")
print("agree", float(np.mean(model.predict(images) == labels)), model.predict_proba(images).shape)""",
    """again = pipeline.run(set={{"data.source": "idx:{idx}", {sets}}}, cache_dir="cache", out="runs/b")""",
]


def _kernel_spec(tmp_path: Path) -> Path:
    """A kernel spec for this very interpreter, in a private JUPYTER_PATH (no global install)."""
    spec = tmp_path / "jupyter" / "kernels" / "pipeline-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pipeline tests", "language": "python",
        "env": {"PYTHONPATH": str(ROOT)}}))
    return tmp_path / "jupyter"


def test_a_notebook_trains_and_predicts_through_the_api(idx_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(_kernel_spec(tmp_path)))
    sets = ", ".join(f'"{k}": {v}' for k, v in (item.split("=", 1) for item in FAST))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.format(idx=idx_dir, sets=sets)) for c in CELLS])
    work = tmp_path / "work"
    work.mkdir()
    NotebookClient(nb, kernel_name="pipeline-test", timeout=300,
                   resources={"metadata": {"path": str(work)}}).execute()
    texts = ["".join(o.get("text", "") + "".join(o.get("data", {}).values()) for o in cell.outputs)
             for cell in nb.cells]
    accuracy = json.loads((work / "runs" / "a" / "metrics.json").read_text())["test_accuracy"]
    assert texts[0].startswith(f"accuracy {accuracy} epochs 3")
    assert texts[1].strip() == str([(s, "ran") for s in stage_names()])
    assert texts[2].startswith(f"agree {accuracy} (30, 3)")
    assert "stages" in texts[3] and "cached" in texts[3]                   # progress and tables show, not quiet
    assert not any(o.output_type == "error" for cell in nb.cells for o in cell.outputs)
