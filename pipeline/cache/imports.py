"""Which modules a piece of source imports, read with :mod:`ast` (nothing is imported).

Shared by a stage's fingerprint (a module's imports) and a plugin's reach (the imports inside a
function body), so both resolve relative imports and submodules the same way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules an AST imports (``from .x import y`` resolved)."""
    base = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parent = base
            for _ in range(max(node.level - 1, 0)):
                parent = parent.rpartition(".")[0]
            root = node.module or ""
            if node.level:
                root = f"{parent}.{root}" if root else parent
            found.add(root)
            # ``from pipeline.nn import network`` imports the submodule ``pipeline.nn.network``
            found.update(f"{root}.{alias.name}" for alias in node.names)
    return found


#: Fields of a statement that hold statements (compound statements, ``except`` clauses, ``case``s).
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(body: list) -> Iterator[ast.AST]:
    """Every statement in ``body``, nested ones included (imports inside functions too).

    An import is a statement, so expressions (most of a tree's nodes) need no visit: this is
    several times faster than :func:`ast.walk`, which a plan runs over every module of every stage.
    """
    for node in body:
        yield node
        for field in _BODIES:
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
