"""The project's layout holds: libraries below the stages, no import cycles, keys that follow the code.

``stages/`` holds the eight stages only; the network math lives in ``pipeline/nn``, the readers
in ``pipeline/data`` and the cache in ``pipeline/cache``. These tests keep it that way: a stage's
key must follow its code wherever that code lives, and the libraries never import upwards.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cache.imports import imported_modules
from pipeline.registry import STAGES
from tests.conftest import FAST

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "stages", "plugins")
LIBRARIES = ("pipeline.nn", "pipeline.data", "pipeline.cache")
UPWARDS = ("stages", "plugins", "pipeline.cli", "pipeline.commands")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Project modules imported by ``module``, the lazy imports inside functions too."""
    names = imported_modules(ast.parse(path.read_text()), module, path.name == "__init__.py")
    modules = _modules()
    return {n for n in names if n in modules and n != module}


def test_stages_holds_the_stages_and_nothing_else():
    files = {p.stem for p in (ROOT / "stages").glob("*.py")} - {"__init__"}
    assert files == {stage.module.split(".")[-1] for stage in STAGES}


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_never_import_stages_plugins_or_the_cli(library):
    offenders = {}
    for module, path in _modules().items():
        if module == library or module.startswith(library + "."):
            bad = {m for m in _imports(path, module)
                   if any(m == u or m.startswith(u + ".") for u in UPWARDS)}
            if bad:
                offenders[module] = sorted(bad)
    assert offenders == {}


def test_no_import_cycles():
    # every import, the lazy ones inside functions too: a cycle there is still a knot to untie
    graph = {m: _imports(p, m) for m, p in _modules().items()}
    # a package's __init__ is imported with each of its modules: not a cycle of the code's own making
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


# -- the key follows the code: a copy of the project, edited, and `status` asked -------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory, idx_dir):
    """A copy of the project's packages with one tiny run cached, and a `status` function over it."""
    base = tmp_path_factory.mktemp("project")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, base / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(base), "PIPELINE_CACHE_DIR": str(base / "cache"),
           "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"}
    sets = [a for item in [f"data.source=idx:{idx_dir}", *FAST] for a in ("--set", item)]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline", *args, *sets], cwd=base, env=env,
                              capture_output=True, text=True, timeout=120)

    ran = cli("run", "-q", "--out", str(base / "out"))
    assert ran.returncode == 0, ran.stderr

    def status() -> dict[str, str]:
        result = cli("status")
        assert result.returncode == 0, result.stderr
        rows = {}
        for line in result.stdout.splitlines():
            cells = [c.strip() for c in re.split(r"[│|]", line)]
            if len(cells) > 3 and cells[1] in {s.name for s in STAGES}:
                rows[cells[1]] = f"{cells[2]} {cells[4]}"
        return rows

    return base, status


def _edit(path: Path, function: str) -> str:
    """Add a harmless statement inside ``function`` of ``path``; returns the old text."""
    text = path.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == function)
    first = node.body[0]
    lines = text.splitlines(keepends=True)
    lines.insert(first.end_lineno, " " * first.col_offset + "_edited = 1  # a code change\n")
    path.write_text("".join(lines))
    return text


@pytest.mark.parametrize("module, function, stale", [
    ("pipeline/nn/network.py", "forward", {"train", "evaluate", "export", "report"}),
    ("pipeline/report/figures.py", "curves", {"report"}),
    ("pipeline/data/idx.py", "read_idx", set(s.name for s in STAGES)),
    ("pipeline/ui/terminal.py", "styled", set()),
])
def test_an_edit_makes_exactly_the_stages_that_run_that_code_stale(project, module, function, stale):
    base, status = project
    before = status()
    assert all(state.startswith("cached") for state in before.values()), before
    path = base / module
    old = _edit(path, function)
    try:
        after = status()
    finally:
        path.write_text(old)
    assert {name for name, state in after.items() if not state.startswith("cached")} == stale
    for name in stale:  # the first stale one says its code changed, the rest that their upstream did
        assert "changed" in after[name], after[name]
    first = next((s.name for s in STAGES if s.name in stale), None)
    if first:
        assert "stage code changed" in after[first], after[first]
    assert status() == before  # the original text gives the original keys


def test_a_fully_cached_run_imports_no_stage_no_network_no_scikit_learn_no_matplotlib(project, idx_dir, tmp_path):
    base, _ = project
    env = {**os.environ, "PYTHONPATH": str(base), "PIPELINE_CACHE_DIR": str(base / "cache"),
           "PIPELINE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    sets = [a for item in [f"data.source=idx:{idx_dir}", *FAST] for a in ("--set", item)]
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline", "run", "-q", "--out",
                             str(tmp_path / "again"), *sets], cwd=base, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "import time:" in line}
    assert "pipeline.runner" in imported  # the trace works
    assert sorted(m for m in imported if m.split(".")[0] in ("stages", "sklearn", "matplotlib")
                  or m.startswith("pipeline.nn.")) == []
    assert "pipeline.report.page" in imported and (tmp_path / "again" / "report.html").is_file()
