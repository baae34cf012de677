"""The registries plugins fill: one per kind (name -> implementation), and plugin config sections.

Each kind has a registration hook (:data:`KINDS`); every plugin's result is merged into the
kind's registry, refusing a duplicate name, a non-string name or an object of the wrong shape,
each in one line naming the plugin. :mod:`pipeline.hooks.manager` loads the plugins and calls
:func:`build_registry` and :func:`build_sections`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from pipeline.errors import PluginError

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


def build_registry(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], kind: str,
                   trace: Callable[[str], None] | None) -> dict[str, Implementation]:
    """The registry of ``kind``: every plugin's registration hook called, the results checked and merged."""
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
                raise PluginError(f"plugin '{info.name}' registered {kind} {name!r}: a name must be a "
                                  f"non-empty string")
            if not check(obj):
                raise PluginError(f"plugin '{info.name}': {kind} '{name}' must be {wanted}, "
                                  f"got {type(obj).__name__}")
            if name in registry:
                raise PluginError(f"{kind} '{name}' is registered by both '{registry[name].plugin.name}' and "
                                  f"'{info.name}'; rename one, or block one with -p no:NAME")
            registry[name] = Implementation(kind, name, obj, info)
    return registry


#: Types a plugin option's default may have (TOML's).
_OPTION_TYPES = (bool, int, float, str, list, dict)


def build_sections(pm: pluggy.PluginManager) -> dict[str, dict[str, Any]]:
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
