"""TOML in and out for the configuration: ``--set`` values, config files, ``pipeline config``.

Python's :mod:`tomllib` only reads TOML; the writer here covers the value
types the configuration uses (strings, booleans, numbers, lists, inline tables).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML value; a bare word is taken as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``"train.lr=0.05"`` into ``("train.lr", 0.05)``."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got '{text}' (e.g. --set train.lr=0.05)")
    key, value = text.split("=", 1)
    return key.strip(), parse_value(value.strip())


def read_toml(path: Path) -> dict[str, Any]:
    """Read a config file into ``{"section.key": value}``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file '{path}' cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file '{path}' is not valid TOML: {exc}") from None
    flat: dict[str, Any] = {}
    for section, keys in data.items():
        if not isinstance(keys, dict):
            raise ConfigError(f"config file '{path}': '{section}' must be a [section] table of keys")
        for key, value in keys.items():
            flat[f"{section}.{key}"] = value
    return flat


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)
