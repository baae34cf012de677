"""Which installed distribution ships a package, and what else it ships: the scope of a plugin's reach.

A plugin's fingerprint (:mod:`pipeline.cache.reach`) follows its code into every top-level package
of its own distribution and names other code by distribution and version. Finding the
distribution by the package's own name first avoids scanning every installed one (~0.25 s).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import inspect
import sys
from pathlib import Path


@functools.lru_cache(maxsize=8)
def _distributions(path: tuple[str, ...]) -> dict[str, list[str]]:
    """Top-level package -> distributions that ship it, for one ``sys.path`` (scanning is slow)."""
    return importlib.metadata.packages_distributions()


def _declared_tops(dist: importlib.metadata.Distribution) -> set[str]:
    """Top-level names a distribution declares (``top_level.txt``), or infers from its files."""
    declared = dist.read_text("top_level.txt")
    if declared:
        return {line.strip() for line in declared.splitlines() if line.strip()}
    names = {f.parts[0] if len(f.parts) > 1 else inspect.getmodulename(str(f)) or str(f)
             for f in dist.files or () if f.parts}
    return {name for name in names if "." not in name}  # as importlib.metadata infers them


@functools.lru_cache(maxsize=None)
def _named_distribution(top: str) -> tuple[str, str, frozenset[str]] | None:
    """The tops of the distribution named like ``top`` (or this project's) that ships it, or None.

    Scanning every installed distribution costs ~0.25 s, most of a cached run's planning; the
    distribution that ships a plugin package almost always carries its name; when none does, all
    are scanned as before. A namespace package (no ``__init__``) may come from several
    distributions: always scanned.
    """
    if not top.isidentifier():  # e.g. a class made at run time with an odd __module__
        return None
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or (spec.submodule_search_locations is not None and spec.origin is None):
        return None
    # the package's own name, and this project's distribution (which ships pipeline, plugins, stages)
    for name in dict.fromkeys((top, top.replace("_", "-"), __name__.split(".")[0])):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        tops = _declared_tops(dist)
        if top in tops:
            return dist.metadata["Name"], dist.version, frozenset(tops)
    return None


def distribution_tops(top: str) -> frozenset[str]:
    """The top-level packages shipped with ``top`` (just ``top`` when no metadata says more)."""
    named = _named_distribution(top)
    if named is not None:
        return frozenset({top} | named[2])
    shipped = _distributions(tuple(sys.path))
    dists = set(shipped.get(top, ()))
    return frozenset({top} | {t for t, ds in shipped.items() if dists & set(ds)})


def version_of(module: str) -> str:
    """``"NAME VERSION"`` of the distribution shipping ``module``, ``"stdlib"`` or ``"unversioned"``."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return "stdlib"
    named = _named_distribution(top)
    if named is not None:  # found without scanning every distribution
        return f"{named[0]} {named[1]}"
    for dist in _distributions(tuple(sys.path)).get(top, []):
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return "stdlib" if top in sys.stdlib_module_names else "unversioned"


def package_files(top: str) -> list[Path]:
    """Every ``.py`` file of top-level package ``top`` (the module itself for a single-file one)."""
    spec = importlib.util.find_spec(top)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return sorted(p for loc in spec.submodule_search_locations for p in Path(loc).rglob("*.py"))
    return [Path(spec.origin)] if spec.origin and spec.origin.endswith(".py") else []
