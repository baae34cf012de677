"""Code fingerprints: what of a stage's or a plugin's code goes into a cache key.

A cache key must change whenever the code that produces an output changes,
including helpers, not only the function the runner calls. Two cases:

* a stage module: its source plus, transitively, the source of every module of
  the project's own packages it imports (``stages`` and ``pipeline``: the
  network math in ``pipeline.nn`` and the readers in ``pipeline.data`` are
  code the stage runs), found with :mod:`ast` without importing anything (so a
  cached run never imports the stages);
* a plugin implementation (function, class, instance, ``functools.partial``
  or :class:`~pipeline.api.Activation`): everything its code can read inside
  its distribution, sources and values (:mod:`pipeline.cache.reach`); where
  that cannot be followed statically, the whole module or the whole
  distribution's source files.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import types
from pathlib import Path
from typing import Any

from pipeline.cache.imports import imported_modules
from pipeline.cache.distributions import distribution_tops, package_files
from pipeline.cache.reach import Reach

def _digest(parts: list[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def _module_path(name: str) -> Path | None:
    """Source file of a module of an importable package, found without importing it."""
    top, _, rest = name.partition(".")
    spec = importlib.util.find_spec(top)  # imports only the top-level package
    if spec is None or not spec.submodule_search_locations:
        return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None
    for location in spec.submodule_search_locations:
        base = Path(location, *rest.split(".")) if rest else Path(location)
        candidates = (base.with_suffix(".py"), base / "__init__.py") if rest else (base / "__init__.py",)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    return None


@functools.lru_cache(maxsize=None)
def module_fingerprint(name: str, packages: tuple[str, ...] = ()) -> str:
    """Fingerprint of module ``name`` and the modules it imports from ``packages``.

    Parameters
    ----------
    name : str
        Dotted module name, e.g. ``"stages.train"``.
    packages : tuple of str
        Top-level packages whose modules are followed when imported (the
        module's own package always is): a stage passes ``("stages",
        "pipeline")`` so that a helper moved into ``pipeline.nn`` stays in its key.

    Returns
    -------
    str
        16 hex digits; changes when any of those source files changes.
    """
    followed = {name.split(".")[0], *packages}
    todo, sources = [name], {}
    while todo:
        current = todo.pop()
        if current in sources:
            continue
        path = _module_path(current)
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        sources[current] = text
        tree = ast.parse(text)
        for dep in imported_modules(tree, current, path.name == "__init__.py"):
            if dep.split(".")[0] in followed and dep not in sources and _module_path(dep):
                todo.append(dep)
    return _digest([f"{mod}\n{sources[mod]}" for mod in sorted(sources)])


def _code_roots(obj: Any) -> list[Any]:
    """The functions and classes whose packages a plugin object comes from."""
    if isinstance(obj, functools.partial):
        return _code_roots(obj.func)
    if isinstance(obj, (types.FunctionType, type)):
        return [obj]
    if isinstance(obj, types.MethodType):
        return _code_roots(obj.__func__) + _code_roots(obj.__self__)
    if dataclasses.is_dataclass(obj):
        return [type(obj)] + [r for f in dataclasses.fields(obj) for r in _code_roots(getattr(obj, f.name))]
    return [type(obj)] if callable(obj) or hasattr(obj, "__dict__") else []


def object_fingerprint(obj: Any) -> str:
    """Fingerprint of everything a plugin implementation's code can read.

    The walk (:class:`pipeline.cache.reach.Reach`) follows the code into every
    top-level package of the distributions the object comes from (and
    ``pipeline``'s): the source of each function and class reached, and the
    values it reads: module-level names of any type, class attributes,
    defaults, closures, ``functools.partial`` arguments, instance attributes,
    whole modules it refers to. Where the code reads names dynamically
    (``getattr``, ``eval``, ``importlib``), or holds values that cannot be
    read back, the whole module or every source file of the distribution is
    hashed instead.

    Parameters
    ----------
    obj : object
        A function, a class, an instance of a class, a ``functools.partial``,
        or a dataclass instance whose fields are functions (an ``Activation``).

    Returns
    -------
    str
        16 hex digits.
    """
    scope = set(distribution_tops("pipeline"))
    for root in _code_roots(obj):
        scope |= distribution_tops((getattr(root, "__module__", None) or "").split(".")[0])
    walk = Reach(scope)
    parts = [f"root {walk.value(obj)}"]
    parts += [f"{label}\n{text}" for label, text in walk.parts]
    parts += [f"module {name} {module_fingerprint(name, tuple(sorted(scope)))}" for name in walk.modules]
    for top in sorted(walk.everything):
        for top_level in sorted(distribution_tops(top)):
            parts += [f"file {path}\n{path.read_text(encoding='utf-8')}" for path in package_files(top_level)]
    return _digest(sorted(parts))
