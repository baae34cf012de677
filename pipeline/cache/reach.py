"""Everything a plugin's code can read, walked from the registered object.

:func:`reached` collects, as text, every input a plugin implementation's result
can depend on inside its own distribution:

* the source of every function and class reached (a literal in the body, a
  class attribute, a default written in the signature are in that text);
* the *values* of what the code reads at run time: module-level names of any
  type (tuples, lists, dicts, sets, NumPy arrays and scalars, dataclass and
  enum instances, instances of plain classes), default arguments, closure
  cells, ``functools.partial`` arguments, class attributes along the MRO,
  instance attributes; containers are walked element by element;
* a module of the distribution the code refers to as a whole
  (``from . import helpers`` then ``helpers.COEFFS``): its source, the source
  of the distribution's modules it imports, and the values of its data names;
* code of other distributions (NumPy, the standard library) by name and
  version only.

Where the code cannot be followed statically, more is hashed, never less:
``getattr``/``vars``/``globals`` hash the whole defining module,
``eval``/``exec``/``__import__``/``importlib`` and values of unknown kinds
hash every source file of the distribution.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import hashlib
import inspect
import textwrap
import types
from typing import Any

from pipeline.cache.distributions import version_of
from pipeline.cache.imports import imported_modules

#: Names whose use means "this code reads its module by name": hash the whole module.
MODULE_WIDE = frozenset({"getattr", "vars", "globals", "locals", "__dict__", "hasattr"})
#: Names whose use means "this code can reach anything": hash the whole distribution.
DISTRIBUTION_WIDE = frozenset({"eval", "exec", "compile", "__import__", "import_module", "importlib",
                               "modules", "reload", "__builtins__"})

_SIMPLE = (int, float, complex, str, bool, bytes, type(None))


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


class Reach:
    """One walk: ``parts`` holds the texts hashed, each with a label.

    Parameters
    ----------
    scope : set of str
        Top-level packages whose code is followed (the plugin's distribution).

    ``parts`` is a list of ``(label, text)``: two lambdas of one module share a
    label (``mod.<lambda>``), and both must count.
    """

    def __init__(self, scope: set[str]):
        self.scope = scope
        self.parts: list[tuple[str, str]] = []
        self.modules: set[str] = set()          # hashed as a whole
        self.everything: set[str] = set()       # distributions hashed file by file
        self._walked: set[int] = set()
        self._active: set[int] = set()          # containers being rendered (cycles)
        self._keep: list[Any] = []              # keeps walked objects (and their ids) alive

    def add(self, label: str, text: str) -> None:
        """Hash ``text`` under ``label``."""
        self.parts.append((label, text))

    def ours(self, obj: Any) -> bool:
        module = getattr(obj, "__module__", None) or ""
        return module.split(".")[0] in self.scope

    # -- values --------------------------------------------------------------

    def value(self, v: Any) -> str:
        """A canonical text of ``v``: equal texts for equal values; code walked on the way."""
        if isinstance(v, _SIMPLE):
            return f"{type(v).__name__}:{v!r}"
        if isinstance(v, enum.Enum):
            self.code(type(v))
            return f"enum {type(v).__qualname__}.{v.name}={self.value(v.value)}"
        if isinstance(v, (types.FunctionType, type, types.BuiltinFunctionType)):
            self.code(v)
            return f"code {getattr(v, '__module__', '?')}.{getattr(v, '__qualname__', '?')}"
        if isinstance(v, types.MethodType):
            return f"method {self.value(v.__func__)} of {self.value(v.__self__)}"
        if isinstance(v, types.ModuleType):
            self.module(v.__name__)
            return f"module {v.__name__}"
        if isinstance(v, (staticmethod, classmethod)):
            return f"{type(v).__name__} {self.value(v.__func__)}"
        if isinstance(v, property):
            return f"property {[self.value(f) for f in (v.fget, v.fset, v.fdel)]}"
        if hasattr(v, "__array_interface__") and hasattr(v, "tobytes"):  # ndarray, NumPy scalar
            return (f"array {v.dtype.str} {getattr(v, 'shape', ())} "
                    f"{hashlib.sha256(v.tobytes()).hexdigest()}")
        if id(v) in self._active:
            return "<cycle>"
        self._active.add(id(v))
        try:
            return self._composite(v)
        finally:
            self._active.discard(id(v))

    def _composite(self, v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return f"{type(v).__name__}[{', '.join(self.value(x) for x in v)}]"
        if isinstance(v, (set, frozenset)):
            return f"{type(v).__name__}{{{', '.join(sorted(self.value(x) for x in v))}}}"
        if isinstance(v, dict):
            items = sorted(f"{self.value(k)}: {self.value(x)}" for k, x in v.items())
            return f"{type(v).__name__}{{{', '.join(items)}}}"
        if isinstance(v, functools.partial):
            return f"partial {self.value(v.func)} {self.value(v.args)} {self.value(v.keywords)}"
        if dataclasses.is_dataclass(v):
            self.code(type(v))
            fields = {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
            return f"dataclass {type(v).__qualname__} {self.value(fields)}"
        return self._instance(v)

    def _instance(self, v: Any) -> str:
        cls = type(v)
        self.code(cls)
        state = dict(getattr(v, "__dict__", {}))
        for slot in (s for c in cls.__mro__ for s in getattr(c, "__slots__", ())):
            if hasattr(v, slot):
                state[slot] = getattr(v, slot)
        if state or hasattr(v, "__dict__") or getattr(cls, "__slots__", None) is not None:
            return f"instance {cls.__module__}.{cls.__qualname__} {self.value(state)}"
        # a C-level object of unknown structure: its value cannot be read back, so hash more
        if self.ours(cls):
            self.everything.add(cls.__module__.split(".")[0])
        return f"opaque {cls.__module__}.{cls.__qualname__} ({version_of(cls.__module__)})"

    # -- code ------------------------------------------------------------------

    def code(self, obj: Any) -> None:
        """Walk a function or class: its source, and the values it can read."""
        if id(obj) in self._walked:
            return
        self._walked.add(id(obj))
        self._keep.append(obj)
        module = getattr(obj, "__module__", None) or ""
        label = f"{module}.{getattr(obj, '__qualname__', repr(obj))}"
        if not self.ours(obj):
            self.add(label, f"external ({version_of(module)})")
            return
        self.add(label, self._source(obj, module))
        if isinstance(obj, type):
            self._class(obj)
        elif isinstance(obj, types.FunctionType):
            self._function(obj, label)

    def _source(self, obj: Any, module: str) -> str:
        try:
            return inspect.getsource(obj)
        except (OSError, TypeError):
            # defined where no source is found (exec, a REPL): its module as a whole, then
            self.module(module)
            return "<no source>"

    def _class(self, cls: type) -> None:
        for klass in cls.__mro__:
            if klass is object:
                continue
            if klass is not cls:
                self.code(klass)
                continue
            for name, attr in sorted(vars(klass).items()):
                if name not in ("__dict__", "__weakref__", "__module__", "__doc__"):
                    self.add(f"{klass.__module__}.{klass.__qualname__}.{name}", self.value(attr))

    def _function(self, fn: types.FunctionType, label: str) -> None:
        values = {"defaults": fn.__defaults__, "kwdefaults": fn.__kwdefaults__,
                  "closure": [c.cell_contents for c in fn.__closure__ or () if _filled(c)]}
        self.add(label + " (bound values)", self.value(values))
        names = _code_names(fn.__code__)
        if names & DISTRIBUTION_WIDE:
            self.everything.add(fn.__module__.split(".")[0])
        if names & MODULE_WIDE:
            self.module(fn.__module__)
        for name in sorted(names):
            if name in fn.__globals__:
                self.add(f"{fn.__module__}:{name}", self.value(fn.__globals__[name]))
        for imported in _local_imports(fn):
            if imported.split(".")[0] in self.scope:
                self.module(imported)

    def module(self, name: str) -> None:
        """Hash a module of the distribution as a whole: its source and the source of the
        distribution's modules it imports (read without importing). Not its runtime values:
        whether a module is imported yet, or what its caches hold, differs between processes
        (a sweep's workers must compute the keys the client computes)."""
        if name in self.modules:
            return
        if name.split(".")[0] not in self.scope:
            self.add(f"module {name}", f"external ({version_of(name)})")
            return
        self.modules.add(name)


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell: a name assigned later in the enclosing scope
        return False
    return True


def _local_imports(fn: types.FunctionType) -> set[str]:
    """Modules imported inside a function body (``from .helpers import X``), resolved."""
    if "IMPORT_NAME" not in {i.opname for i in __import__("dis").get_instructions(fn)}:
        return set()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return set()
    return imported_modules(tree, fn.__module__, bool(fn.__globals__.get("__path__")))
