"""What a sweep varies: ``--grid`` values, the config file's ``[sweep]`` table, ``--seeds`` and ``--samples``.

Every value is parsed exactly as a ``--set`` value (:func:`pipeline.toml_io.parse_value`), so
``[64]`` is a list and a bare word a string. Commas inside brackets, braces or quotes belong to
the value: ``--grid model.hidden=[128,64],[64]`` has two values. A value written
``LOW..HIGH`` (or ``LOW..HIGH:log``) is a range, drawn from by random search (``--samples N``).
Every member's config is built and validated here, before anything runs.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import Config, all_keys, build_config
from pipeline.errors import ConfigError
from pipeline.toml_io import parse_value, toml_value

#: More members than this need ``--yes``: a typo in a grid should not start hours of work.
MAX_MEMBERS = 64

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^({_NUMBER})\.\.({_NUMBER})(:log)?$")


@dataclass(frozen=True)
class Range:
    """A continuous range of values for random search; log-uniform when ``log``."""

    low: float
    high: float
    log: bool = False

    def draw(self, rng: Any) -> float:
        """One value, uniform (or log-uniform) in ``[low, high]``."""
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


@dataclass
class Member:
    """One point of a sweep: the overrides it adds on top of the base config, and that config."""

    overrides: dict[str, Any]
    config: Config
    index: int = 0


@dataclass
class Grid:
    """The swept keys, in the order given, each with its values (a list, or a :class:`Range`)."""

    axes: dict[str, list | Range] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, values: list | Range, where: str) -> None:
        """Add one swept key; a key swept twice, or with no value, is a :class:`ConfigError`."""
        if key in self.axes:
            raise ConfigError(f"{key} is swept twice ({self.origin[key]} and {where}); give it once")
        if isinstance(values, list):
            if not values:
                raise ConfigError(f"{where}: {key} has no values; give at least one, e.g. {key}=0.1,0.2")
            seen: list = []
            for value in values:
                if value in seen:
                    raise ConfigError(f"{where}: {key} lists the value {toml_value(value)} twice")
                seen.append(value)
        self.axes[key] = values
        self.origin[key] = where


def split_values(text: str) -> list[str]:
    """Split ``V1,V2,...`` at the commas outside brackets, braces and quotes."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return parts


def _as_axis(value: Any) -> Any:
    """A parsed value, or a :class:`Range` when it is written ``LOW..HIGH[:log]``."""
    match = _RANGE.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    low, high = float(match.group(1)), float(match.group(2))
    if not low < high or (match.group(3) and low <= 0):
        raise ConfigError(f"range {value} must have LOW < HIGH (and LOW > 0 with :log)")
    return Range(low, high, bool(match.group(3)))


def axis(key: str, values: list, where: str) -> list | Range:
    """The values of one swept key: a list, or a single :class:`Range`."""
    parsed = [_as_axis(v) for v in values]
    ranges = [v for v in parsed if isinstance(v, Range)]
    if ranges and len(parsed) > 1:
        raise ConfigError(f"{where}: {key} mixes a range with other values; give one range or a list")
    return ranges[0] if ranges else parsed


def parse_grids(texts: Sequence[str], grid: Grid | None = None) -> Grid:
    """Add each ``--grid KEY=V1,V2,...`` to ``grid`` (a new one by default)."""
    grid = grid or Grid()
    for text in texts:
        if "=" not in text:
            raise ConfigError(f"--grid expects KEY=V1,V2,..., got '{text}' (e.g. --grid train.lr=0.05,0.1)")
        key, _, values = text.partition("=")
        key = key.strip()
        raw = split_values(values) if values.strip() else []
        if any(v == "" for v in raw):
            raise ConfigError(f"--grid {text}: an empty value; separate values by single commas")
        grid.add(key, axis(key, [parse_value(v) for v in raw], "--grid"), "--grid")
    return grid


def take_sweep_table(file_values: dict[str, Any], grid: Grid, where: str) -> dict[str, Any]:
    """Move the ``[sweep]`` table's keys of a config file into ``grid``; returns the other values."""
    rest = {}
    for dotted, value in file_values.items():
        if not dotted.startswith("sweep."):
            rest[dotted] = value
            continue
        key = dotted.removeprefix("sweep.")
        if not isinstance(value, list):
            value = [value] if isinstance(_as_axis(value), Range) else value
        if not isinstance(value, list):
            raise ConfigError(f"{where} [sweep]: \"{key}\" must be a list of values, e.g. "
                              f"\"{key}\" = [{toml_value(value)}, ...]")
        grid.add(key, axis(key, value, f"[sweep] in {where}"), f"[sweep] in {where}")
    return rest


def add_seeds(grid: Grid, seeds: int | None, base_seed: int) -> None:
    """``--seeds N``: ``train.seed`` takes N values from the base config's seed on."""
    if seeds is None:
        return
    if seeds < 1:
        raise ConfigError(f"--seeds must be 1 or more, got {seeds}")
    grid.add("train.seed", [base_seed + i for i in range(seeds)], "--seeds")


def points(grid: Grid, samples: int | None, sample_seed: int = 0) -> list[dict[str, Any]]:
    """The overrides of every member: the grid's product, or ``samples`` random draws.

    With ``samples``, ``train.seed`` (when swept) stays a product, so every drawn point is
    repeated over the seeds.
    """
    ranges = [k for k, v in grid.axes.items() if isinstance(v, Range)]
    if samples is None:
        if ranges:
            raise ConfigError(f"{ranges[0]} is a range: random search needs --samples N")
        keys = list(grid.axes)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(grid.axes[k] for k in keys))]
    if samples < 1:
        raise ConfigError(f"--samples must be 1 or more, got {samples}")
    import numpy as np

    rng = np.random.default_rng(sample_seed)
    drawn_keys = [k for k in grid.axes if k != "train.seed"]
    seeds = grid.axes.get("train.seed", [None])
    out = []
    for _ in range(samples):
        point = {}
        for key in drawn_keys:
            axis = grid.axes[key]
            point[key] = axis.draw(rng) if isinstance(axis, Range) else axis[int(rng.integers(len(axis)))]
        out += [point | ({"train.seed": s} if s is not None else {}) for s in seeds]
    return out


def _fit_type(key: str, value: Any, base: Config) -> Any:
    """A drawn float for an integer key becomes the nearest integer (e.g. ``train.epochs=5..20``)."""
    if key not in all_keys():
        return value  # reported by build_config, with the valid keys
    current = base.get(key)
    if isinstance(value, float) and isinstance(current, int) and not isinstance(current, bool):
        return int(round(value))
    return value


def members(grid: Grid, preset: str | None, file_values: dict[str, Any], sets: list[tuple[str, Any]],
            samples: int | None = None, sample_seed: int = 0, yes: bool = False) -> list[Member]:
    """Every member of the sweep, its config built and validated.

    Raises
    ------
    ConfigError
        An unknown key, a value of the wrong type or range, or more than :data:`MAX_MEMBERS`
        members without ``yes``; naming the swept key and value.
    """
    base = build_config(preset, file_values, sets)
    overrides = points(grid, samples, sample_seed)
    if len(overrides) > MAX_MEMBERS and not yes:
        raise ConfigError(f"the sweep has {len(overrides)} members (more than {MAX_MEMBERS}); check the grid, "
                          f"or pass --yes to run them all")
    out = []
    for i, point in enumerate(overrides):
        point = {k: _fit_type(k, v, base) for k, v in point.items()}
        try:
            config = build_config(preset, file_values, list(sets) + list(point.items()))
        except ConfigError as exc:
            key = next((k for k in point if str(exc).startswith(k) or f"'{k}'" in str(exc)), None)
            where = f"{grid.origin.get(key, 'sweep')} {key}={toml_value(point[key])}: " if key else "sweep: "
            raise ConfigError(where + str(exc)) from None
        out.append(Member({k: config.get(k) if not isinstance(config.get(k), tuple) else list(config.get(k))
                           for k in point}, config, i))
    return out
