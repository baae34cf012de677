"""Checking one config value against its field: its type (converted where TOML's differs) and its range.

A field of :mod:`pipeline.config` carries in its metadata a ``check`` name (a special type such
as ``"lr"``, and/or a range such as ``"positive"``) and its ``choices``. Every mistake is a
:class:`ConfigError` naming the key, what was given and what would be valid.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable
from typing import Any

from pipeline.errors import ConfigError


def suggest(name: str, valid: list[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``valid``, or an empty string."""
    close = difflib.get_close_matches(name, valid, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def plain(value: Any) -> Any:
    """``value`` as TOML and JSON write it: a tuple as a list."""
    return list(value) if isinstance(value, tuple) else value


def _type_name(value: Any) -> str:
    return "a string" if isinstance(value, str) else f"{type(value).__name__} {value!r}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lr(dotted: str, value: Any) -> Any:
    if value == "auto" or _number(value):
        return value if value == "auto" else float(value)
    raise ConfigError(f'{dotted} must be float (like 0.2) or "auto", got {_type_name(value)}')


def _batch(dotted: str, value: Any) -> Any:
    if value == "full" or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ConfigError(f"{dotted} must be a positive integer or \"full\", got {value!r}")


def _widths(dotted: str, value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise ConfigError(f"{dotted} must be a non-empty list of positive integers such as [64] "
                      f"or [128, 64], got {value!r}")


#: Checks whose values are not of their default's type: check name -> converter(dotted, value).
_SPECIAL_TYPES: dict[str, Callable[[str, Any], Any]] = {"lr": _lr, "batch": _batch, "widths": _widths}


def coerce(dotted: str, fld: dataclasses.Field, value: Any) -> Any:
    """Check the type of one value and convert it to the field's Python type."""
    check = fld.metadata["check"]
    if check in _SPECIAL_TYPES:
        return _SPECIAL_TYPES[check](dotted, value)
    default = fld.default if fld.default is not dataclasses.MISSING else fld.default_factory()
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = _number(value)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(f"{dotted} must be {type(default).__name__} (like {plain(default)!r}), "
                          f"got {_type_name(value)}")
    return value


#: Check name -> (test of a value of the right type, what a valid value is, in words).
_RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "positive": (lambda v: v > 0, "greater than 0"),
    "nonnegative": (lambda v: v >= 0, "0 or more"),
    "fraction": (lambda v: 0 < v < 1, "strictly between 0 and 1"),
    "batch": (lambda v: v == "full" or v > 0, 'a positive integer or "full"'),
    "lr": (lambda v: v == "auto" or v > 0, 'greater than 0 (or "auto")'),
    "widths": (lambda v: all(w > 0 for w in v), "a list of positive integers"),
}


def check_range(dotted: str, fld: dataclasses.Field, value: Any) -> None:
    """Refuse a value (already of the right type) that is not finite, not a choice, or out of range."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{dotted} must be a finite number, got {value}")
    choices = fld.metadata["choices"]
    if choices and value not in choices:
        raise ConfigError(f"{dotted} must be one of {', '.join(choices)}; got {value!r}"
                          f"{suggest(str(value), list(choices))}")
    check = fld.metadata["check"]
    if check in _RANGES:
        test, words = _RANGES[check]
        if not test(value):
            raise ConfigError(f"{dotted} must be {words}, got {plain(value)!r}")
