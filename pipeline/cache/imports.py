"""Which modules a piece of source imports, read with :mod:`ast` (nothing is imported).

Shared by a stage's fingerprint (a module's imports) and a plugin's reach (the imports inside a
function body), so both resolve relative imports and submodules the same way.
"""

from __future__ import annotations

import ast


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules an AST imports (``from .x import y`` resolved)."""
    base = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
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
