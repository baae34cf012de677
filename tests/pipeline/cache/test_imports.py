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
