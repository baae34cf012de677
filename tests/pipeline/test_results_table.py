"""``benchmarks/results.py`` runs end to end, and the README's "Results" table is its output.

Accuracies and timings are not checked (they need real MNIST and depend on the machine); only
that every row ran and was reported, and that the README shows the script's rows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402


def test_results_script_runs_every_row_quick(tmp_path: Path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| `python -m pipeline run")]
    assert len(rows) == len(results.ROWS)
    for line, row in zip(rows, results.ROWS):
        assert f"`{results.command(row, 'idx:path/to/mnist')}`" in line
        assert re.search(r"\*\*\d+\.\d\d %\*\*", line) and "| 1 |" in line  # accuracy; --quick: 1 epoch
    assert "the tutorial's own script" in rows[0] and "after 1 epoch," in rows[0]


def test_readme_results_table_has_the_scripts_rows():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Results", 1)[1].split("\n## ", 1)[0]
    assert "python benchmarks/results.py" in section
    shown = re.findall(r"^\| `(python -m pipeline run[^`]*)` \|", section, flags=re.MULTILINE)
    assert shown == [results.command(row, "idx:path/to/mnist") for row in results.ROWS]
