"""The configuration: frozen dataclasses, presets, TOML loading and validation.

Precedence, lowest to highest: built-in defaults, ``--preset``, the config
file, then each ``--set KEY=VALUE`` in command-line order. Everything is
validated before any stage runs (one value at a time by :mod:`pipeline.config_checks`);
a mistake raises :class:`ConfigError` naming the key and the valid choices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config_checks import check_range, coerce, plain, suggest
from pipeline.errors import ConfigError
from pipeline.presets import PRESETS
from pipeline.toml_io import parse_assignment, read_toml, toml_value


def _f(default: Any, doc: str, check: str | None = None, choices: tuple = ()) -> Any:
    """A dataclass field carrying its one-line doc, range check and choices."""
    kwargs: dict[str, Any] = {"metadata": {"doc": doc, "check": check, "choices": choices}}
    if isinstance(default, (dict, list)):
        kwargs["default_factory"] = lambda: type(default)(default)
    else:
        kwargs["default"] = default
    return field(**kwargs)


@dataclass(frozen=True)
class DataConfig:
    source: str = _f("auto", "auto | openml:NAME | idx:DIR | npz:FILE | digits")


@dataclass(frozen=True)
class NormalizeConfig:
    standardize: bool = _f(False, "after scaling to [0, 1], subtract the training mean and divide by its std")


@dataclass(frozen=True)
class SplitConfig:
    scheme: str = _f("official", "official: keep the source's test set; random: one seeded 80/20 split",
                     choices=("official", "random"))
    val_size: float = _f(0.1, "fraction of the training rows held out for validation (official scheme)",
                         check="fraction")
    test_size: float = _f(0.2, "held-out fraction for the random scheme and for sources without a test set",
                          check="fraction")
    seed: int = _f(42, "seed of every split (scikit-learn random_state)", check="nonnegative")


@dataclass(frozen=True)
class ModelConfig:
    hidden: tuple = _f((64,), "widths of the hidden layers, e.g. [128, 64]", check="widths")
    activation: str = _f("relu", "activation plugin of the hidden layers (see `pipeline plugins`)")
    init: str = _f("he_normal", "initializer plugin of the weights (biases start at zero)")


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = _f("momentum", "optimizer plugin (see `pipeline plugins`)")
    lr: float | str = _f("auto", 'initial learning rate, or "auto": the optimizer\'s recommended one '
                         '(adam 0.001; momentum, sgd: 0.2)', check="lr")
    epochs: int = _f(20, "number of passes over the training rows", check="positive")
    batch_size: int | str = _f(128, 'rows per gradient step, or "full" for full-batch gradient descent',
                               check="batch")
    weight_decay: float = _f(5e-4, "L2 penalty on the weights (not the biases)", check="nonnegative")
    schedule: str = _f("cosine", "learning-rate schedule plugin: constant, step, cosine, ... (see `pipeline plugins`)")
    schedule_options: dict = _f({}, "extra keyword options for the schedule, e.g. {warmup = 2}")
    step_size: int = _f(10, "step schedule: epochs between two decays", check="positive")
    gamma: float = _f(0.1, "step schedule: factor applied at each decay", check="fraction")
    patience: int = _f(0, "early stopping: epochs without a better val loss before stopping (0 = off)",
                       check="nonnegative")
    seed: int = _f(42, "seed of the weight initialisation and of the batch shuffling", check="nonnegative")
    optimizer_options: dict = _f({}, "extra keyword options for the optimizer, e.g. {nesterov = true}")


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int = _f(1024, "rows per forward pass while evaluating (memory, not results)",
                         check="positive")


@dataclass(frozen=True)
class ReportConfig:
    enabled: bool = _f(True, "write report.html and its pictures into the run directory")


@dataclass(frozen=True)
class Config:
    """The whole validated configuration, one frozen dataclass per section."""

    data: DataConfig = field(default_factory=DataConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    #: Sections declared by plugins (``pipeline_register_options``): plugin name -> {key: value}.
    plugin_options: dict = field(default_factory=dict, metadata={"plugin_sections": True})

    def get(self, dotted: str) -> Any:
        """Value of ``"section.key"``."""
        section, key = dotted.split(".", 1)
        if section in self.plugin_options:
            return self.plugin_options[section][key]
        return getattr(getattr(self, section), key)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (lists instead of tuples), as written to run.json; plugin sections last."""
        built_in = {s: {k: plain(v) for k, v in dataclasses.asdict(getattr(self, s)).items()}
                    for s in _section_types()}
        return built_in | {s: {k: plain(v) for k, v in keys.items()} for s, keys in self.plugin_options.items()}

    def flat(self) -> dict[str, Any]:
        """``{"section.key": value}`` for every key."""
        return {f"{s}.{k}": v for s, keys in self.to_dict().items() for k, v in keys.items()}


def _section_types() -> dict[str, type]:
    return {f.name: f.type if isinstance(f.type, type) else globals()[f.type] for f in dataclasses.fields(Config)
            if not f.metadata.get("plugin_sections")}


def _fields_of(section: str) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(_section_types()[section])}


def all_keys() -> list[str]:
    """Every valid ``section.key``."""
    return [f"{s}.{k}" for s in _section_types() for k in _fields_of(s)]


def key_doc(dotted: str) -> str:
    """The one-line description of a key."""
    section, key = dotted.split(".", 1)
    return _fields_of(section)[key].metadata["doc"]


def _split_key(dotted: str, extra: dict[str, dict[str, dataclasses.Field]] | None = None) -> tuple[str, str]:
    extra = extra or {}
    sections = [*_section_types(), *extra]
    if "." not in dotted:
        raise ConfigError(f"config key '{dotted}' must look like section.key; sections: {', '.join(sections)}")
    section, key = dotted.split(".", 1)
    if section not in sections:
        raise ConfigError(f"unknown config section '{section}'{suggest(section, sections)}; "
                          f"valid sections: {', '.join(sections)}")
    keys = list(extra[section] if section in extra else _fields_of(section))
    if key not in keys:
        valid = all_keys() + [f"{s}.{k}" for s, fields in extra.items() for k in fields]
        raise ConfigError(f"unknown config key '{dotted}'{suggest(dotted, valid)}; "
                          f"valid keys in [{section}]: {', '.join(keys)}")
    return section, key


def _plugin_fields(plugin_sections: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, dataclasses.Field]]:
    """Fields (default, type, doc) of the sections plugins declared."""
    return {section: {key: _f(default, f"option of plugin '{section}'") for key, default in keys.items()}
            for section, keys in (plugin_sections or {}).items()}


def build_config(
    preset: str | None = None,
    file_values: dict[str, Any] | None = None,
    overrides: list[tuple[str, Any]] | None = None,
    plugin_sections: dict[str, dict[str, Any]] | None = None,
) -> Config:
    """Merge defaults, a preset, a config file and ``--set`` overrides, then validate.

    Parameters
    ----------
    preset : str or None
        Name in :data:`PRESETS`.
    file_values : dict
        ``{"section.key": value}`` from :func:`read_toml`.
    overrides : list of (str, object)
        ``--set`` assignments in command-line order.
    plugin_sections : dict, optional
        Sections declared by plugins: ``{plugin name: {key: default}}``; their keys are
        validated against the defaults' types like the built-in ones.
    """
    extra = _plugin_fields(plugin_sections)
    layers: list[tuple[str, Any]] = []
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset '{preset}'{suggest(preset, list(PRESETS))}; "
                              f"available presets: {', '.join(PRESETS)}")
        layers += list(PRESETS[preset].settings.items())
    layers += list((file_values or {}).items())
    layers += list(overrides or [])
    values: dict[str, dict[str, Any]] = {s: {} for s in [*_section_types(), *extra]}
    for dotted, value in layers:
        section, key = _split_key(dotted, extra)
        fld = extra[section][key] if section in extra else _fields_of(section)[key]
        value = coerce(dotted, fld, value)
        check_range(dotted, fld, value)
        values[section][key] = value
    options = {s: {**dict(plugin_sections[s]), **values[s]} for s in extra}
    return Config(**{s: cls(**values[s]) for s, cls in _section_types().items()}, plugin_options=options)


def load_config(config_file: str | Path | None = None, preset: str | None = None,
                sets: list[str] | None = None, cwd: Path | None = None,
                plugin_sections: dict[str, dict[str, Any]] | None = None) -> Config:
    """Build the effective config as the CLI does.

    ``config_file`` defaults to ``pipeline.toml`` in ``cwd`` when that file exists.
    """
    if config_file is None:
        candidate = Path(cwd or Path.cwd()) / "pipeline.toml"
        config_file = candidate if candidate.is_file() else None
    file_values = read_toml(Path(config_file)) if config_file is not None else {}
    # a [sweep] table says what `sweep` varies; a single run uses the file's other values
    file_values = {k: v for k, v in file_values.items() if not k.startswith("sweep.")}
    extra = _plugin_fields(plugin_sections)
    try:  # a mistake in the file names the file
        for dotted, value in file_values.items():
            section, key = _split_key(dotted, extra)
            fld = extra[section][key] if section in extra else _fields_of(section)[key]
            check_range(dotted, fld, coerce(dotted, fld, value))
    except ConfigError as exc:
        raise ConfigError(f"config file '{config_file}': {exc}") from None
    return build_config(preset, file_values, [parse_assignment(s) for s in sets or []], plugin_sections)


def to_toml(config: Config, comments: bool = True) -> str:
    """The config as a TOML document that :func:`read_toml` reads back unchanged."""
    lines: list[str] = []
    for section, keys in config.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in keys.items():
            about = f"option of plugin '{section}'" if section in config.plugin_options \
                else key_doc(f"{section}.{key}")
            doc = f"  # {about}" if comments else ""
            lines.append(f"{key} = {toml_value(value)}{doc}")
        lines.append("")
    return "\n".join(lines)
