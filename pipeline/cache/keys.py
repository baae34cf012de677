"""The key chain: what each stage's cache key is made of, and why a key changed.

A stage's key hashes small things only — its name and code fingerprint, the
config keys it reads, the identity of the plugins it uses, the data source's
identity (fetch), library versions, and its upstream stages' keys — never an
array. Equal keys therefore mean equal outputs, and a re-run with nothing
changed does no hashing of data at all.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.cache.store import CACHE_FORMAT
from pipeline.config import Config
from pipeline.cache.fingerprint import module_fingerprint
from pipeline.hooks.manager import Plugins
from pipeline.hooks.registries import Implementation
from pipeline.registry import STAGES, Stage, upstream

#: The project's own packages: a stage's code fingerprint follows its imports into these.
PROJECT_PACKAGES = ("stages", "pipeline")


class ConfigView:
    """The part of a :class:`Config` a stage declared, and nothing else.

    ``view.train.lr`` works when the stage declared ``"train"`` or
    ``"train.lr"``; reading anything else raises ``AttributeError``, so a stage
    cannot depend on a value that is not in its key.
    """

    def __init__(self, config: Config, declared: tuple[str, ...], stage: str):
        self._config, self._declared, self._stage = config, declared, stage

    def __getattr__(self, section: str) -> Any:
        if section.startswith("_"):
            raise AttributeError(section)
        if section in self._declared:
            return getattr(self._config, section)
        keys = [d.split(".", 1)[1] for d in self._declared if d.startswith(section + ".")]
        if not keys:
            raise AttributeError(f"stage '{self._stage}' did not declare config section '{section}' "
                                 f"(declared: {', '.join(self._declared) or 'nothing'})")
        return _SectionView(getattr(self._config, section), keys, section, self._stage)


class _SectionView:
    def __init__(self, section: Any, keys: list[str], name: str, stage: str):
        self._section, self._keys, self._name, self._stage = section, keys, name, stage

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        if key not in self._keys:
            raise AttributeError(f"stage '{self._stage}' did not declare config key '{self._name}.{key}'")
        return getattr(self._section, key)


def stage_config(stage: Stage, config: Config) -> Any:
    """What the stage's ``run`` receives as ``cfg``."""
    return config if "*" in stage.config else ConfigView(config, stage.config, stage.name)


def config_values(stage: Stage, config: Config) -> dict[str, Any]:
    """``{"section.key": value}`` of every config key the stage reads."""
    flat = config.flat()
    if "*" in stage.config:
        return flat
    return {k: v for k, v in flat.items() if k in stage.config or k.split(".")[0] in stage.config}


@dataclass(frozen=True)
class Plan:
    """Keys and key inputs of every stage for one config."""

    keys: dict[str, str]
    inputs: dict[str, dict[str, Any]]
    implementations: dict[str, dict[str, Implementation]]


def _library_versions() -> dict[str, str]:
    # numerical results can change between releases of these
    return {name: importlib.metadata.version(name) for name in ("numpy", "scikit-learn")}


def _optional_versions(modules: tuple[str, ...]) -> dict[str, str | None]:
    """Version of each optional module a stage uses, None when it cannot be imported.

    Whether it can be imported is asked of the import system (without importing it), so
    what the key says is what the stage will find.
    """
    versions: dict[str, str | None] = {}
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        try:
            versions[name] = importlib.metadata.version(name) if found else None
        except importlib.metadata.PackageNotFoundError:  # importable, but installed without metadata
            versions[name] = "unknown"
    return versions


def make_key(inputs: dict[str, Any]) -> str:
    """20 hex digits of SHA-256 over the canonical JSON of ``inputs``."""
    text = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def plan(config: Config, plugins: Plugins, data_identity: dict[str, Any],
         stages: tuple[Stage, ...] = STAGES) -> Plan:
    """Compute every stage's key inputs and key, in order.

    Parameters
    ----------
    config : Config
        The effective configuration.
    plugins : Plugins
        Loaded plugins; unknown plugin names raise :class:`PluginError` here,
        before any stage runs.
    data_identity : dict
        Cheap identity of the data source (paths, sizes, mtimes), from
        ``pipeline.data.sources.source_identity``; part of the fetch key.
    """
    libs = _library_versions()
    keys: dict[str, str] = {}
    all_inputs: dict[str, dict[str, Any]] = {}
    impls: dict[str, dict[str, Implementation]] = {}
    for stage in stages:
        impls[stage.name] = {kind: plugins.get(kind, config.get(key), key) for kind, key in stage.plugins.items()}
        inputs = {
            "format": CACHE_FORMAT,
            "stage": stage.name,
            "code": module_fingerprint(stage.module, PROJECT_PACKAGES),
            "config": config_values(stage, config),
            "plugins": {kind: _identity(impl, config) for kind, impl in impls[stage.name].items()},
            "upstream": {name: keys[name] for name in upstream(stage, stages)},
            "libs": {**libs, **_optional_versions(stage.libraries)} if stage.libraries else libs,
        }
        if not stage.reads:  # a source stage: its data is an input too
            inputs["data"] = data_identity
        all_inputs[stage.name] = inputs
        keys[stage.name] = make_key(inputs)
    return Plan(keys, all_inputs, impls)


def _identity(impl: Implementation, config: Config) -> dict[str, Any]:
    """An implementation's identity, with its plugin's own config section when it declared one."""
    options = config.plugin_options.get(impl.plugin.name)
    return impl.identity() | ({"options": options} if options is not None else {})


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def _change(path: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    return f"{_short(a.get(path, '<unset>'))} -> {_short(b.get(path, '<unset>'))}"


def _plugin_reason(rest: str, path: str, a: dict[str, Any], b: dict[str, Any]) -> str | None:
    kind, _, field = rest.partition(".")
    name_path = f"plugins.{kind}.name"
    if field != "name" and a.get(name_path) != b.get(name_path):
        return None  # another implementation altogether: its name says it all
    return f"plugin {kind}: " + ("code changed" if field == "code" else f"{field} {_change(path, a, b)}")


#: First part of a key-input path -> the phrase for a difference there (None: say nothing).
_REASONS: dict[str, Callable[[str, str, dict, dict], str | None]] = {
    "config": lambda rest, path, a, b: f"{rest} {_change(path, a, b)}",
    "plugins": _plugin_reason,
    "upstream": lambda rest, path, a, b: f"upstream {rest} changed",
    "code": lambda rest, path, a, b: "stage code changed",
    "data": lambda rest, path, a, b: f"data source changed ({rest})",
}


def explain(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why two key inputs differ, one short phrase per difference.

    Config keys read as ``train.lr 0.1 -> 0.05``, plugins as
    ``plugin activation: version 1.0 -> 1.1``, upstream stages as
    ``upstream split changed``; anything else as ``path old -> new``.
    """
    a, b = _flatten(old), _flatten(new)
    reasons = []
    for path in sorted(set(a) | set(b), key=lambda p: (not p.startswith("config."), p)):
        if a.get(path, "<unset>") == b.get(path, "<unset>"):
            continue
        head, _, rest = path.partition(".")
        default = lambda rest, path, a, b: f"{path} {_change(path, a, b)}"  # noqa: E731
        reason = _REASONS.get(head, default)(rest, path, a, b)
        if reason is not None:
            reasons.append(reason)
    return _one_data_reason(reasons)


def _one_data_reason(reasons: list[str]) -> list[str]:
    """Every difference in the data source as one phrase naming each changed file once
    (``data source changed: t10k-images-idx3-ubyte.gz, train-images-idx3-ubyte.gz``)."""
    prefix = "data source changed ("
    data = [r[len(prefix):-1] for r in reasons if r.startswith(prefix)]
    if not data:
        return reasons
    names = dict.fromkeys(d.removeprefix("files.") for d in data)
    first = next(i for i, r in enumerate(reasons) if r.startswith(prefix))
    rest = [r for r in reasons if not r.startswith(prefix)]
    return rest[:first] + [f"data source changed: {', '.join(names)}"] + rest[first:]
