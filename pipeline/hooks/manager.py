"""Loading plugins, and the :class:`Plugins` a run asks for implementations and calls hooks on.

Built-ins (the top-level ``plugins`` package) and third-party packages (the
``pipeline`` entry-point group) are registered the same way; the registries
are then merged from the registration hooks (:mod:`pipeline.hooks.registries`).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from pipeline.errors import PluginError
from pipeline.hooks import specs as hookspecs
from pipeline.hooks.registries import (ABSENT, KINDS, NAME_OF, OPTIONAL_KINDS, Implementation, PluginInfo,
                                       build_registry, build_sections)

#: Entry-point group third-party plugin packages register under.
ENTRY_POINT_GROUP = "pipeline"
#: Set to 1 to load no third-party plugins (built-ins still load).
AUTOLOAD_ENV = "PIPELINE_DISABLE_PLUGIN_AUTOLOAD"


@dataclass
class Plugins:
    """The plugin manager and the registries built from it."""

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo]
    registries: dict[str, dict[str, Implementation]] = field(default_factory=dict)
    trace: Callable[[str], None] | None = None
    #: Config sections declared by plugins: plugin name -> {key: default}.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def call(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin, naming the plugin that raises.

        Implementations run in pluggy's order (last registered first). An
        exception from a plugin becomes a :class:`PluginError` that names it.
        """
        impls = list(reversed(getattr(self.pm.hook, hook_name).get_hookimpls()))
        if self.trace is not None:
            args = ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items())
            # a call nobody implements is traced too: it shows when each hook fires
            self.trace(f"{hook_name}({args}) -> {', '.join(i.plugin_name for i in impls) or 'no implementation'}")
        for impl in impls:
            wanted = {name: kwargs[name] for name in impl.argnames}
            try:
                impl.function(**wanted)
            except Exception as exc:  # foreign code: report it by plugin name
                raise PluginError(f"plugin '{impl.plugin_name}' raised in {hook_name}: "
                                  f"{type(exc).__name__}: {exc}") from exc

    def get(self, kind: str, name: str, key: str | None = None) -> Implementation:
        """The implementation of ``kind`` called ``name``; unknown names list the known ones."""
        known = self.registries[kind]
        value, name = name, NAME_OF.get(kind, str)(name)
        if name not in known and kind in OPTIONAL_KINDS:
            return Implementation(kind, name, None, ABSENT)
        if name not in known:
            where = f"{key} = '{value}'" if key else f"{kind} '{name}'"
            if not known:  # e.g. every plugin providing this kind blocked with -p no:NAME
                raise PluginError(f"{where}: no {kind} is available at all: no loaded plugin provides one "
                                  f"(blocked with -p no:NAME?); `python -m pipeline plugins` lists what is loaded")
            close = difflib.get_close_matches(name, list(known), 1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PluginError(f"{where}: no {kind} of that name{hint}; available: {', '.join(sorted(known))} "
                              f"(`python -m pipeline plugins` lists them)")
        return known[name]


def _dist_of(module_name: str) -> tuple[str, str]:
    """(distribution, version) that ships a top-level module, best effort."""
    top = module_name.split(".")[0]
    dists = importlib.metadata.packages_distributions().get(top, [])
    for dist in dists:
        try:
            return dist, importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "pipeline", __import__("pipeline").__version__


def _register(pm: pluggy.PluginManager, obj: Any, info: PluginInfo) -> None:
    try:
        pm.register(obj, name=info.name)
    except ValueError as exc:  # pluggy: name or object already registered
        raise PluginError(f"plugin '{info.name}' ({info.dist}) cannot be registered: {exc}") from None
    except pluggy.PluginValidationError as exc:
        # pluggy's message spans lines; the CLI promises one
        raise PluginError(f"plugin '{info.name}' ({info.dist}) has an invalid hook: "
                          f"{' '.join(str(exc).split())}") from None
    # Hooks are called one implementation at a time (so that errors name their
    # plugin), which would silently skip a wrapper's code: refuse wrappers.
    for caller in pm.get_hookcallers(obj) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin_name == info.name and (impl.hookwrapper or impl.wrapper):
                raise PluginError(f"plugin '{info.name}' ({info.dist}): {caller.name} is declared as a "
                                  f"wrapper, which pipeline does not support; use a plain @hookimpl")


def _load_builtins(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    from plugins import DEFAULT_PLUGINS

    version = __import__("pipeline").__version__
    for module_name in DEFAULT_PLUGINS:
        if pm.is_blocked(module_name):
            continue
        module = importlib.import_module(module_name)
        info = PluginInfo(module_name, "pipeline", version, module.__file__ or module_name, True)
        _register(pm, module, info)
        infos[module_name] = info


def _load_entry_points(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name):
            continue
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        if ep.name in infos:  # never let one plugin silently shadow another
            other = infos[ep.name]
            raise PluginError(f"plugin name '{ep.name}' of {dist} {version} is already taken by "
                              f"{other.dist} {other.version} ({other.location}); uninstall one, "
                              f"or block both with -p no:{ep.name}")
        try:
            obj = ep.load()
        except Exception as exc:  # any import-time failure of foreign code is the plugin's
            raise PluginError(f"plugin '{ep.name}' from {dist} {version} failed to import "
                              f"({ep.value}): {type(exc).__name__}: {exc}; "
                              f"block it with -p no:{ep.name}") from exc
        location = getattr(obj, "__file__", None) or getattr(sys.modules.get(ep.module), "__file__", ep.value)
        info = PluginInfo(ep.name, dist, version, str(location), False)
        _register(pm, obj, info)
        infos[ep.name] = info


def load_plugins(blocked: Iterable[str] = (), autoload: bool | None = None,
                 extra: Iterable[tuple[Any, str]] = (),
                 trace: Callable[[str], None] | None = None) -> Plugins:
    """Create the plugin manager, load every plugin and build the registries.

    Parameters
    ----------
    blocked : iterable of str
        Plugin names not to load (``-p no:NAME``); built-in module names work too.
    autoload : bool, optional
        Load the ``pipeline`` entry points; default: unless
        ``PIPELINE_DISABLE_PLUGIN_AUTOLOAD`` is set to a non-empty value other than 0.
    extra : iterable of (object, str)
        Plugin objects to register by hand with their names (tests, notebooks).
    trace : callable, optional
        Called with one line per hook call (``--trace-hooks``).
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    extra = list(extra)
    _check_blocked(blocked := list(blocked), [name for _, name in extra])
    for name in blocked:
        pm.set_blocked(name)
    if autoload is None:
        autoload = os.environ.get(AUTOLOAD_ENV, "") in ("", "0")
    infos: dict[str, PluginInfo] = {}
    _load_builtins(pm, infos)
    if autoload:
        _load_entry_points(pm, infos)
    for obj, name in extra:
        # a module has a __name__; a class or an instance has a __module__
        module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
        dist, version = _dist_of(module)
        info = PluginInfo(name, dist, version, str(getattr(obj, "__file__", module)), False)
        _register(pm, obj, info)
        infos[name] = info
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_unknown_hooks(pm, exc.plugin)) from None
    plugins = Plugins(pm, infos, trace=trace)
    plugins.registries = {kind: build_registry(pm, infos, kind, trace) for kind in KINDS}
    plugins.sections = build_sections(pm)
    return plugins


def _check_blocked(blocked: list[str], extra: list[str]) -> None:
    """Every ``-p no:NAME`` must name a plugin that exists (a typo would block nothing, silently)."""
    if not blocked:
        return
    from plugins import DEFAULT_PLUGINS

    known = [*DEFAULT_PLUGINS, *(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)), *extra]
    for name in blocked:
        if name not in known:
            close = difflib.get_close_matches(name, known, 1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PluginError(f"-p no:{name}: no plugin is named '{name}'{hint}; plugins are: {', '.join(known)}")


def _unknown_hooks(pm: pluggy.PluginManager, plugin: Any) -> str:
    """The message for a plugin implementing hooks that do not exist (usually a typo)."""
    known = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), f"{ENTRY_POINT_GROUP}_spec")]
    unknown = [caller.name for caller in pm.get_hookcallers(plugin) or [] if caller.spec is None]
    guesses = [f"'{u}'" + (f" (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(u, known, 1))
                           else "") for u in unknown]
    return (f"plugin '{pm.get_name(plugin)}' implements unknown hook {', '.join(guesses)}; "
            f"hooks are: {', '.join(sorted(known))}")


def _short(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
