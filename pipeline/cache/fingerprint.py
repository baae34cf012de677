"""Code fingerprints: what of a stage's or a plugin's code goes into a cache key.

A cache key must change whenever the code that produces an output changes,
including helpers, not only the function the runner calls. Two cases:

* a stage module: its source plus, transitively, the source of every module of
  the project's own packages it imports (``stages`` and ``pipeline``: the
  network math in ``pipeline.nn`` and the readers in ``pipeline.data`` are
  code the stage runs), found with :mod:`ast` without importing anything (so a
  cached run never imports the stages);
* a plugin implementation (function, class, instance or
  :class:`~pipeline.api.Activation`): its own source plus the source of the
  module-level functions and classes of its package it refers to by name, and
  the values of the simple constants it refers to (``ALPHA = 0.01``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import inspect
import types
from pathlib import Path
from typing import Any

_SIMPLE = (int, float, str, bool, bytes, type(None))


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


def _imported_modules(tree: ast.Module, module: str, is_package: bool) -> set[str]:
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
        for dep in _imported_modules(tree, current, path.name == "__init__.py"):
            if dep.split(".")[0] in followed and dep not in sources and _module_path(dep):
                todo.append(dep)
    return _digest([f"{mod}\n{sources[mod]}" for mod in sorted(sources)])


def _top_package(obj: Any) -> str:
    return (getattr(obj, "__module__", None) or "").split(".")[0]


def _referenced_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_names(const)
    return names


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        # compiled or dynamically made: fall back to its qualified name
        return f"<no source: {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}>"


def _functions_of(obj: Any) -> list[types.FunctionType]:
    if isinstance(obj, types.FunctionType):
        return [obj]
    if isinstance(obj, type):
        return [v for v in vars(obj).values() if isinstance(v, types.FunctionType)]
    return []


def _walk(obj: Any, package: str, seen: dict[int, str]) -> None:
    """Collect the source of ``obj`` and of what it refers to inside ``package``."""
    if id(obj) in seen:
        return
    seen[id(obj)] = _source(obj)
    for fn in _functions_of(obj):
        for name in sorted(_referenced_names(fn.__code__)):
            value = fn.__globals__.get(name)
            if isinstance(value, _SIMPLE) and name in fn.__globals__:
                seen[id(fn) ^ hash(name)] = f"{name} = {value!r}"
            elif isinstance(value, (types.FunctionType, type)) and _top_package(value) == package:
                _walk(value, package, seen)


def object_fingerprint(obj: Any) -> str:
    """Fingerprint of a plugin implementation's code.

    Parameters
    ----------
    obj : object
        A function, a class, an instance of a class, a ``functools.partial``,
        or a dataclass instance whose fields are functions (an ``Activation``).

    Returns
    -------
    str
        16 hex digits that change when the code of ``obj``, or of a helper or
        constant of its own package that it uses, changes.
    """
    parts: list[Any] = []
    if isinstance(obj, functools.partial):
        parts = [obj.func]
        extra = repr((obj.args, sorted(obj.keywords.items())))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        parts = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        extra = type(obj).__qualname__
    elif isinstance(obj, (types.FunctionType, type)):
        parts, extra = [obj], ""
    else:
        parts, extra = [type(obj)], repr(sorted(getattr(obj, "__dict__", {}).items(), key=str))
    seen: dict[int, str] = {}
    for part in parts:
        if callable(part) and not isinstance(part, (types.FunctionType, type)):
            part = type(part)
        _walk(part, _top_package(part), seen)
    return _digest(sorted(seen.values()) + [extra])
