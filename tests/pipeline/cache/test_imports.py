"""One reader of a source's imports, for the stage fingerprint and the plugin reach alike."""

from __future__ import annotations

import ast

import pytest

from pipeline.cache.imports import imported_modules

SOURCE = """
import os.path
from . import helpers
from .nn import network as net
from ..data import idx
"""


@pytest.mark.parametrize("module, is_package, expected", [
    ("pkg.sub.mod", False, {"os.path", "pkg.sub", "pkg.sub.helpers", "pkg.sub.nn", "pkg.sub.nn.network",
                            "pkg.data", "pkg.data.idx"}),
    # in a package's __init__, "." is the package itself
    ("pkg.sub", True, {"os.path", "pkg.sub", "pkg.sub.helpers", "pkg.sub.nn", "pkg.sub.nn.network",
                       "pkg.data", "pkg.data.idx"}),
    ("pkg.sub.deeper.mod", False, {"os.path", "pkg.sub.deeper", "pkg.sub.deeper.helpers", "pkg.sub.deeper.nn",
                                   "pkg.sub.deeper.nn.network", "pkg.sub.data", "pkg.sub.data.idx"}),
])
def test_relative_imports_resolve_against_the_module_or_the_package(module, is_package, expected):
    assert imported_modules(ast.parse(SOURCE), module, is_package) == expected


def test_imports_inside_functions_count_too():
    tree = ast.parse("def f():\n    from pipeline.nn import blas\n    import numpy\n")
    assert imported_modules(tree, "plugins.x", False) == {"pipeline.nn", "pipeline.nn.blas", "numpy"}


NESTED = """
class A:
    import a1
    def m(self):
        if x:
            import a2
        else:
            for _ in y:
                import a3
            else:
                import a4
        while z:
            with w:
                import a5
        try:
            import a6
        except ImportError:
            import a7
        else:
            import a8
        finally:
            import a9
        match v:
            case 1:
                import a10
        async def g():
            async with q:
                import a11
"""


def test_imports_in_every_kind_of_nested_statement_are_found():
    # the reader visits statements only (an import is one), not every expression node
    expected = {f"a{i}" for i in range(1, 12)}
    assert imported_modules(ast.parse(NESTED), "m", False) == expected
