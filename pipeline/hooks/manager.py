"""Loading plugins and building the activation / initializer / optimizer registries.

Built-ins (the top-level ``plugins`` package) and third-party packages (the
``pipeline`` entry-point group) are registered the same way; the registries
are merged from the registration hooks, refusing duplicate names.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
import os
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from pipeline.hooks import specs as hookspecs
from pipeline.errors import PluginError

#: Entry-point group third-party plugin packages register under.
ENTRY_POINT_GROUP = "pipeline"
#: Set to 1 to load no third-party plugins (built-ins still load).
AUTOLOAD_ENV = "PIPELINE_DISABLE_PLUGIN_AUTOLOAD"
#: Plugin kind -> registration hook.
KINDS: dict[str, str] = {
    "activation": "pipeline_register_activations",
    "initializer": "pipeline_register_initializers",
    "optimizer": "pipeline_register_optimizers",
    "onnx_activation": "pipeline_register_onnx_activations",
    "schedule": "pipeline_register_schedules",
    "source": "pipeline_register_data_sources",
}
#: Kinds a plugin may leave out: asking for a missing name gives an :data:`ABSENT` implementation.
OPTIONAL_KINDS = frozenset({"onnx_activation"})
#: Kinds whose config value is not a plain name: how to find the name in it (``idx:DIR`` -> ``idx``).
NAME_OF: dict[str, Callable[[str], str]] = {"source": lambda value: value.partition(":")[0].strip().lower()}


def _is_activation(obj: Any) -> bool:
    return callable(getattr(obj, "forward", None)) and callable(getattr(obj, "derivative", None))


def _is_source(obj: Any) -> bool:
    return (isinstance(getattr(obj, "form", None), str) and callable(getattr(obj, "load", None))
            and callable(getattr(obj, "identity", None)))


#: What a registered implementation of each kind must look like.
_SHAPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "activation": (_is_activation, "an object with forward(z) and derivative(z, a) methods"),
    "initializer": (callable, "a callable initializer(fan_in, fan_out, rng)"),
    "optimizer": (callable, "a callable factory(params, **options) returning an object with step(grads, lr)"),
    "onnx_activation": (callable, "a callable form(x, y) returning ONNX node tuples"),
    "schedule": (callable, "a callable schedule(epoch, epochs, lr, **options) -> float"),
    "source": (_is_source, "a pipeline.data.sources.Source(form, takes_argument, load, identity)"),
}


@dataclass(frozen=True)
class PluginInfo:
    """Where one registered plugin comes from."""

    name: str        # plugin name (entry-point name, or the built-in module name)
    dist: str        # distribution that ships it ("pipeline" for built-ins)
    version: str     # that distribution's version
    location: str    # file of the module that implements its hooks
    builtin: bool


@dataclass(frozen=True)
class Implementation:
    """One named activation, initializer or optimizer and its provenance."""

    kind: str
    name: str
    obj: Any
    plugin: PluginInfo

    def identity(self) -> dict[str, str]:
        """What of this implementation enters a cache key (and ``status`` diffs)."""
        from pipeline.cache.fingerprint import object_fingerprint

        if self.obj is None:  # an optional kind nobody provides: its absence is the identity
            return {"name": self.name, "provided": False}
        return {"name": self.name, "plugin": self.plugin.name, "dist": self.plugin.dist,
                "version": self.plugin.version, "code": object_fingerprint(self.obj)}


#: Stands for "no plugin" in the implementation of an optional kind nobody provides.
ABSENT = PluginInfo("-", "-", "-", "-", False)


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


def _build_registry(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], kind: str,
                    trace: Callable[[str], None] | None) -> dict[str, Implementation]:
    hook = getattr(pm.hook, KINDS[kind])
    check, wanted = _SHAPE_CHECKS[kind]
    registry: dict[str, Implementation] = {}
    # call each implementation on its own so that a bad result names its plugin;
    # in registration order, so a duplicate is reported against the first owner
    for impl in hook.get_hookimpls():
        info = infos[impl.plugin_name]
        if trace is not None:
            trace(f"{KINDS[kind]}() -> {info.name}")
        try:
            result = impl.function()
        except Exception as exc:  # foreign code: report it by plugin name
            raise PluginError(f"plugin '{info.name}' raised in {KINDS[kind]}(): "
                              f"{type(exc).__name__}: {exc}") from exc
        if result is None:
            continue
        if not isinstance(result, Mapping):
            raise PluginError(f"plugin '{info.name}': {KINDS[kind]}() must return a dict of name -> {kind}, "
                              f"got {type(result).__name__}")
        for name, obj in result.items():
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin '{info.name}' registered a {kind} with a non-string name {name!r}")
            if not check(obj):
                raise PluginError(f"plugin '{info.name}': {kind} '{name}' must be {wanted}, "
                                  f"got {type(obj).__name__}")
            if name in registry:
                raise PluginError(f"{kind} '{name}' is registered by both '{registry[name].plugin.name}' and "
                                  f"'{info.name}'; rename one, or block one with -p no:NAME")
            registry[name] = Implementation(kind, name, obj, info)
    return registry


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
    plugins.registries = {kind: _build_registry(pm, infos, kind, trace) for kind in KINDS}
    plugins.sections = _build_sections(pm)
    return plugins


#: Types a plugin option's default may have (TOML's).
_OPTION_TYPES = (bool, int, float, str, list, dict)


def _build_sections(pm: pluggy.PluginManager) -> dict[str, dict[str, Any]]:
    """``{plugin name: {key: default}}`` from ``pipeline_register_options``."""
    from pipeline.config import Config

    built_in = {f.name for f in dataclasses.fields(Config)}
    sections: dict[str, dict[str, Any]] = {}
    for impl in pm.hook.pipeline_register_options.get_hookimpls():
        name = impl.plugin_name
        try:
            declared = impl.function()
        except Exception as exc:  # foreign code: report it by plugin name
            raise PluginError(f"plugin '{name}' raised in pipeline_register_options(): "
                              f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(declared, Mapping) or not all(isinstance(k, str) and k for k in declared):
            raise PluginError(f"plugin '{name}': pipeline_register_options() must return a dict of "
                              f"option name -> default")
        if name in built_in:
            raise PluginError(f"plugin '{name}': its option section would shadow the built-in section '{name}'")
        for key, default in declared.items():
            if not isinstance(default, _OPTION_TYPES):
                raise PluginError(f"plugin '{name}': option '{key}' has a default of type "
                                  f"{type(default).__name__}; use bool, int, float, str, list or dict")
        sections[name] = dict(declared)
    return sections


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
