"""``python -m pipeline check-plugins [NAME...]``: numerical conformance checks of plugins.

Runs the checks of :mod:`pipeline.hooks.conformance` on every registered
activation, initializer and optimizer (or the ones named) and prints a table
of pass/fail (one block per implementation) with what was expected and what was measured. Every check is a
plain function ``check(obj) -> (ok, detail)``, so tests and plugin authors
can call them one by one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.hooks.conformance import (activation_derivative, activation_large_inputs, activation_pure,
                                  activation_shape_dtype, initializer_deterministic, initializer_scale,
                                  initializer_shape, optimizer_converges, optimizer_in_place,
                                  optimizer_leaves_grads, optimizer_uses_lr,
                                  schedule_scales_with_lr, schedule_values)
from pipeline.errors import PluginError
from pipeline.hooks.manager import Plugins
from pipeline.hooks.registries import Implementation

#: A check: the registered object in, ``(passed, expected-vs-measured detail)`` out.
Check = Callable[[Any], "tuple[bool, str]"]

#: Plugin kind -> its checks, as (name shown in the table, function).
CHECKS: dict[str, list[tuple[str, Check]]] = {
    "activation": [("shape & dtype", activation_shape_dtype), ("inputs untouched", activation_pure),
                   ("derivative", activation_derivative), ("large inputs", activation_large_inputs)],
    "initializer": [("shape & dtype", initializer_shape), ("deterministic", initializer_deterministic),
                    ("scale", initializer_scale)],
    "optimizer": [("in place", optimizer_in_place), ("uses lr", optimizer_uses_lr),
                  ("grads untouched", optimizer_leaves_grads), ("converges", optimizer_converges)],
    "schedule": [("values", schedule_values), ("scales with lr", schedule_scales_with_lr)],
}


@dataclass(frozen=True)
class Outcome:
    """The result of one check on one implementation."""

    impl: Implementation
    check: str
    ok: bool
    detail: str


def run_check(check: Check, obj: Any) -> tuple[bool, str]:
    """Run one check; an exception from the plugin's code is a failure that names it."""
    try:
        return check(obj)
    except Exception as exc:  # foreign code: report what it raised as the measurement
        return False, f"raised {type(exc).__name__}: {exc}"


def check_implementation(impl: Implementation, options: Mapping[str, Any] | None = None) -> list[Outcome]:
    """Every check of ``impl``'s kind, in order (none for a data source: it needs its argument).

    Parameters
    ----------
    impl : Implementation
        What to check.
    options : mapping, optional
        Keyword options the implementation is created with (an optimizer's
        ``train.optimizer_options``): the checks see ``factory(params, **options)``.
    """
    obj = functools.partial(impl.obj, **options) if options else impl.obj
    return [Outcome(impl, label, *run_check(fn, obj)) for label, fn in CHECKS.get(impl.kind, [])]


def select(plugins: Plugins, names: Iterable[str]) -> list[Implementation]:
    """The implementations to check.

    Parameters
    ----------
    plugins : Plugins
        Loaded plugins.
    names : iterable of str
        Implementation names (``swish``) or plugin names (``pipeline-extras``);
        empty means every registered implementation.

    Raises
    ------
    PluginError
        For a name that is neither, listing the valid ones.
    """
    everything = [impl for kind in CHECKS for impl in plugins.registries[kind].values()]
    names = list(names)
    if not names:
        return everything
    known = sorted({impl.name for impl in everything} | set(plugins.infos))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PluginError(f"check-plugins: nothing registered as {', '.join(map(repr, unknown))}; "
                          f"known implementations and plugins: {', '.join(known)}")
    return [impl for impl in everything if impl.name in names or impl.plugin.name in names]


def options_for(impl: Implementation, config: Any) -> dict[str, Any]:
    """The options the run creates or calls ``impl`` with (an optimizer's, a schedule's)."""
    from pipeline.hooks.rates import schedule_options

    if impl.kind == "optimizer":
        return dict(config.train.optimizer_options)
    return schedule_options(config.train, impl.obj) if impl.kind == "schedule" else {}


def _options(impl: Implementation, names: list[str], config: Any) -> dict[str, Any] | None:
    """The options ``impl`` is checked with: the config's, for what is named or configured."""
    if config is None:
        return None
    configured = {"optimizer": config.train.optimizer, "schedule": config.train.schedule}.get(impl.kind)
    wanted = impl.name in names or impl.plugin.name in names if names else impl.name == configured
    return options_for(impl, config) if wanted else None


def run_checks(plugins: Plugins, names: Iterable[str], console: Any, config: Any = None) -> int:
    """Check implementations and print a table of the results (``check-plugins``).

    Parameters
    ----------
    plugins : Plugins
        Loaded plugins.
    names : iterable of str
        What to check, as for :func:`select`; empty checks everything.
    console : rich.console.Console
        Where the table goes.
    config : Config, optional
        The optimizer and schedule named on the command line (or, when none is,
        ``train.optimizer`` and ``train.schedule``) are checked with its
        ``train.optimizer_options`` and ``train.schedule_options``, as a run would use them.

    Returns
    -------
    int
        The exit status: 0 when every check passed, 1 otherwise.
    """
    from pipeline.ui.blocks import field, heading

    names = list(names)
    outcomes = [o for impl in select(plugins, names) for o in check_implementation(impl, _options(impl, names, config))]
    shown = None
    for o in outcomes:  # one block per implementation: readable at 80 columns
        if shown is not o.impl:
            heading(console, [o.impl.kind, o.impl.name, f"(plugin {o.impl.plugin.name})"])
            shown = o.impl
        field(console, ("pass " if o.ok else "FAIL ") + o.check, o.detail, label_width=22,
              style="green" if o.ok else "bold red")
    failed = [o for o in outcomes if not o.ok]
    console.print(f"{len(outcomes) - len(failed)} of {len(outcomes)} checks passed"
                  + (f"; failing: {', '.join(sorted({o.impl.name for o in failed}))}" if failed else ""))
    return 1 if failed else 0
