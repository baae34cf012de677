"""A plugin's fingerprint sees every value its code can read (property test over generated modules).

Each example writes a plugin package with two modules: ``plug`` defines
values of every kind (tuple, list, dict, set, NumPy array, dataclass and enum
instances, class attributes, default arguments, a closure, a
``functools.partial``) and ``helpers`` holds functions and constants of
another module of the same package; the plugin uses a random subset of
them. Then every numeric literal of both files is changed, one at a time.
Either the plugin's fingerprint changes, or the literal provably cannot reach
the plugin: no name chain from the plugin's body leads to the top-level
statement that holds it (the generated code reads nothing dynamically, so
the name chain is the whole story). The test says which, for every literal.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import linecache
import random
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cache.fingerprint import module_fingerprint, object_fingerprint

#: name -> (definition, how the plugin uses it); {n} numbers literals so every one differs.
FEATURES = {
    "tuple": ("TUP = ({a}, -{b}, {c})", "sum(TUP)"),
    "list": ("LST = [{a}, {b}]", "sum(LST)"),
    "dict": ("DCT = {{'a': {a}, 'b': ({b}, {c})}}", "DCT['a'] + sum(DCT['b'])"),
    "set": ("SET_ = {{{a}, {b}}}", "sum(SET_)"),
    "array": ("ARR = np.array([{a}, {b}])", "float(ARR.sum())"),
    "dataclass": ("@dataclasses.dataclass(frozen=True)\nclass Data:\n    x: float = {a}\n    y: int = {b}\n\n"
                  "DATA = Data(x={c})", "DATA.x + DATA.y"),
    "enum": ("class Choice(enum.Enum):\n    FIRST = {a}\n    SECOND = {b}\n\nCHOSEN = Choice.SECOND",
             "CHOSEN.value"),
    "class attribute": ("class Scaler:\n    factor = {a}\n\n    def method(self, z):\n"
                        "        return z * self.factor + {b}", "Scaler().method(z)"),
    "default": ("def with_default(z, c={a}):\n    return z + c", "with_default(z)"),
    "closure": ("def make_closure():\n    k = {a}\n\n    def inner(z):\n        return z * k\n"
                "    return inner\n\n\nCLOSED = make_closure()", "CLOSED(z)"),
    "partial": ("def target(z, u, v=0):\n    return z * u + v\n\n\n"
                "PARTIAL = functools.partial(target, u={a}, v={b})", "PARTIAL(z)"),
    "helper module": ("", "helpers.scaled(z)"),
    "helper imported": ("from {pkg}.helpers import offset", "offset(z)"),
}

HELPERS = """\
import numpy as np

SCALE = {a}
TABLE = np.array([{b}, {c}])


def scaled(z):
    return z * SCALE + float(TABLE[0])


def offset(z):
    return z + {d}


def never_called():
    return {e}
"""


def _literals(rng: random.Random):
    """An endless supply of distinct numeric literals (ints and floats)."""
    for i in itertools.count(1):
        yield str(i * 7 + rng.randrange(5)) if rng.random() < 0.5 else f"{i * 1.25 + rng.randrange(5)}"


def generate(rng: random.Random, pkg: str) -> tuple[dict[str, str], list[str]]:
    """The package's module sources and the features the plugin uses."""
    lits = _literals(rng)
    used = sorted(name for name in FEATURES if rng.random() < 0.5) or ["tuple"]
    blocks, uses = [], []
    for name, (definition, use) in FEATURES.items():
        fields = {k: next(lits) for k in "abc"} | {"pkg": pkg}
        blocks.append(definition.format(**fields))
        if name in used:
            uses.append(use)
        blocks.append(f"UNUSED_{len(blocks)} = {next(lits)}")
    plug = (f"import dataclasses\nimport enum\nimport functools\n\nimport numpy as np\n\n"
            f"from {pkg} import helpers\n\n" + "\n\n\n".join(b for b in blocks if b)
            + f"\n\n\ndef plugin(z):\n    return z * {next(lits)} + " + " + ".join(uses) + "\n")
    helpers = HELPERS.format(**{k: next(lits) for k in "abcde"})
    return {"plug": plug, "helpers": helpers}, used


def reachable_statements(source: str, roots: set[str]) -> set[int]:
    """Line numbers of the top-level statements of ``source`` that a name chain from ``roots`` reaches."""
    tree = ast.parse(source)
    defined: dict[str, list[ast.stmt]] = {}
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names = [stmt.name]
        if isinstance(stmt, ast.ImportFrom):
            names = [a.asname or a.name for a in stmt.names]
        for name in names:
            defined.setdefault(name, []).append(stmt)
    reached, todo = set(), list(roots)
    while todo:
        for stmt in defined.get(todo.pop(), []):
            if stmt.lineno in reached:
                continue
            reached.add(stmt.lineno)
            todo += [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)]
            todo += [n.attr for n in ast.walk(stmt) if isinstance(n, ast.Attribute)]
    return reached


def _statement_of(tree: ast.Module, line: int) -> ast.stmt:
    return next(s for s in tree.body if s.lineno <= line <= s.end_lineno)


def numeric_literals(source: str):
    """(line, col, end_col, text) of every int/float literal."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            yield node.lineno, node.col_offset, node.end_col_offset, ast.get_source_segment(source, node)


def _changed(source: str, line: int, col: int, end: int) -> str:
    lines = source.splitlines(keepends=True)
    text = lines[line - 1][col:end]
    new = str(float(text) + 0.5) if "." in text else str(int(text) + 1)
    lines[line - 1] = lines[line - 1][:col] + new + lines[line - 1][end:]
    return "".join(lines)


class Package:
    """A throwaway package on sys.path whose modules can be rewritten and re-imported."""

    counter = itertools.count()

    def __init__(self, root: Path):
        self.name = f"genplug{next(self.counter)}"
        self.dir = root / self.name
        self.dir.mkdir()
        (self.dir / "__init__.py").write_text("")

    def write(self, sources: dict[str, str]):
        for module, text in sources.items():
            (self.dir / f"{module}.py").write_text(text)
        for mod in [m for m in sys.modules if m.split(".")[0] == self.name]:
            del sys.modules[mod]
        importlib.invalidate_caches()
        linecache.clearcache()     # several rewrites a millisecond apart: never trust a stat
        module_fingerprint.cache_clear()
        return importlib.import_module(f"{self.name}.plug").plugin


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("genplugins")
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_every_literal_changes_the_key_or_cannot_reach_the_plugin(site, seed):
    pkg = Package(site)
    sources, used = generate(random.Random(seed), pkg.name)
    base = object_fingerprint(pkg.write(sources))
    roots = {"plug": {"plugin"}}
    # what the plugin reaches in helpers: whatever plug's reached statements name
    reached_plug = reachable_statements(sources["plug"], roots["plug"])
    plug_tree = ast.parse(sources["plug"])
    named = {n.id for s in plug_tree.body if s.lineno in reached_plug for n in ast.walk(s) if isinstance(n, ast.Name)}
    named |= {n.attr for s in plug_tree.body if s.lineno in reached_plug
              for n in ast.walk(s) if isinstance(n, ast.Attribute)}
    reached = {"plug": reached_plug, "helpers": reachable_statements(sources["helpers"], named)}
    verdicts = {"key changed": [], "unreachable": []}
    for module, text in sources.items():
        tree = ast.parse(text)
        for line, col, end, literal in numeric_literals(text):
            edited = dict(sources, **{module: _changed(text, line, col, end)})
            changed = object_fingerprint(pkg.write(edited)) != base
            statement = _statement_of(tree, line)
            where = f"{module}.py:{line} {literal!r} in `{ast.get_source_segment(text, statement).splitlines()[0]}`"
            if changed:
                verdicts["key changed"].append(where)
            elif statement.lineno in reached[module]:
                pytest.fail(f"{where}: reachable from plugin() (uses {', '.join(used)}), "
                            f"but the fingerprint did not change")
            else:
                verdicts["unreachable"].append(f"{where}: no name chain from plugin() reaches it")
    pkg.write(sources)
    assert verdicts["key changed"], "no literal changed the key: the test would prove nothing"


def test_unused_definitions_are_reported_unreachable(site):
    """The oracle itself: a constant nobody names is unreachable, one the plugin sums is not."""
    source = textwrap.dedent("""\
        A = 1
        B = 2
        def helper():
            return A
        def plugin(z):
            return helper()
    """)
    reached = reachable_statements(source, {"plugin"})
    assert reached == {1, 3, 5}
