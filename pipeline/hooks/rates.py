"""The learning rate of every step: ``train.lr`` (or the optimizer's recommended one) and a schedule.

A schedule plugin is a function ``schedule(epoch, epochs, lr, **options) -> float``
(:func:`pipeline.hooks.specs.pipeline_register_schedules`); it is called once
per epoch with a whole 0-based ``epoch``, or, when it has ``per_step = True``,
before every step with the fractional epoch ``e + i / steps_per_epoch``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from pipeline.errors import ConfigError

#: ``train.lr`` when the optimizer recommends none (momentum's tuned value on MNIST).
FALLBACK_LR = 0.2
#: Keys of the ``train`` section passed to a schedule that takes a parameter of that name
#: (the ``step`` schedule's ``step_size`` and ``gamma``), unless ``train.schedule_options`` sets them.
SECTION_OPTIONS = ("step_size", "gamma")


def base_lr(t: Any, optimizer: Any) -> tuple[float, str]:
    """``(lr, why)``: ``train.lr`` when set, else the optimizer factory's ``default_lr``, else 0.2."""
    if t.lr != "auto":
        return float(t.lr), "train.lr"
    recommended = getattr(optimizer, "default_lr", None)
    if isinstance(recommended, (int, float)) and not isinstance(recommended, bool) and recommended > 0:
        return float(recommended), f"train.lr not set: the optimizer '{t.optimizer}' recommends it"
    return FALLBACK_LR, f"train.lr not set and the optimizer '{t.optimizer}' recommends none: the default"


def schedule_options(t: Any, schedule: Callable) -> dict[str, Any]:
    """The keyword options a schedule is called with."""
    try:
        params = inspect.signature(schedule).parameters
    except (TypeError, ValueError):
        params = {}
    options = {k: getattr(t, k) for k in SECTION_OPTIONS if k in params}
    return options | dict(t.schedule_options)


def rate_function(t: Any, schedule: Callable, lr: float) -> Callable[[float], float]:
    """``rate(epoch)`` for a (fractional) 0-based epoch, checked: finite and >= 0.

    Raises
    ------
    ConfigError
        ``train.schedule_options`` has an option the schedule does not take.
    """
    options = schedule_options(t, schedule)

    def rate(epoch: float) -> float:
        try:
            value = float(schedule(epoch, t.epochs, lr, **options))
        except TypeError as exc:
            if options:
                raise ConfigError(f"train.schedule_options = {dict(t.schedule_options)}: not accepted by "
                                  f"schedule '{t.schedule}': {exc}") from None
            raise
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"schedule '{t.schedule}' returned learning rate {value} at epoch {epoch:g}; "
                              f"it must be finite and >= 0")
        return value

    return rate


def per_step(schedule: Callable) -> bool:
    """Whether the schedule wants to be called before every step."""
    return bool(getattr(schedule, "per_step", False))


def lr_choice(config: Any, implementations: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """``{"value", "why"}`` of the base learning rate a run's ``train`` uses (for the display and
    ``run.json``), or None when train uses no optimizer."""
    optimizer = implementations.get("train", {}).get("optimizer")
    if optimizer is None:
        return None
    value, why = base_lr(config.train, optimizer.obj)
    return {"value": value, "why": why}
