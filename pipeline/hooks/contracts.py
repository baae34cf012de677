"""Plugin contracts enforced in a real run: the ``check-plugins`` checks, before first use.

A third-party activation whose derivative is off, or an optimizer that
rebinds ``self.params[i]`` instead of writing into it, trains without an
error and yields a quietly wrong model. So before a run computes a stage with
a third-party implementation, every conformance check of its kind
(:data:`pipeline.hooks.check.CHECKS`, the numerical ones included) runs on it,
with the run's ``train.optimizer_options`` for an optimizer. A pass is
remembered under ``<cache>/contracts/`` by the implementation's fingerprint
(its code and everything it reads, its distribution's version), the options
and the checks' own code, so later runs pay a file lookup. A failure stops the
run before any stage with the check's expected/measured line (exit 2).

``--skip-plugin-checks`` (or ``PIPELINE_SKIP_PLUGIN_CHECKS=1``) skips them.
Built-in implementations are checked by the project's own tests and skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import PluginError
from pipeline.hooks.registries import Implementation

#: Set to 1 to skip the checks (same as ``run --skip-plugin-checks``).
SKIP_ENV = "PIPELINE_SKIP_PLUGIN_CHECKS"


def skipped_by_environment() -> bool:
    """Whether ``PIPELINE_SKIP_PLUGIN_CHECKS`` asks to skip the checks."""
    return os.environ.get(SKIP_ENV, "") not in ("", "0")


def contract_key(impl: Implementation, options: Mapping[str, Any]) -> str:
    """What a remembered pass is valid for: the implementation, its options, and the checks' code."""
    from pipeline.cache.fingerprint import module_fingerprint

    text = json.dumps({"kind": impl.kind, "identity": impl.identity(), "options": dict(options),
                       "checks": module_fingerprint("pipeline.hooks.check", ("pipeline",))},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def enforce(implementations: Mapping[str, Implementation], config: Any, root: Path,
            note: Callable[[str], None] = lambda message: None) -> None:
    """Check every third-party implementation of ``implementations`` once per fingerprint.

    Parameters
    ----------
    implementations : mapping of str to Implementation
        What a stage about to be computed uses, by kind.
    config : Config
        The run's configuration (``train.optimizer_options``).
    root : Path
        The cache directory; passes are remembered in ``root / "contracts"``.
    note : callable
        Told, in one line, when checks actually run.

    Raises
    ------
    PluginError
        A check failed: names the implementation, the check, expected and measured.
    """
    from pipeline.cache.atomic import atomic_write
    from pipeline.hooks.check import CHECKS, check_implementation, options_for

    for impl in implementations.values():
        if impl.plugin.builtin or impl.kind not in CHECKS or impl.obj is None:  # nothing to check
            continue
        options = options_for(impl, config)
        marker = Path(root) / "contracts" / f"{impl.kind}-{contract_key(impl, options)}.json"
        if marker.exists():
            continue
        note(f"checking the contract of {impl.kind} '{impl.name}' (plugin '{impl.plugin.name}') before first use")
        outcomes = check_implementation(impl, options)
        for outcome in outcomes:
            if not outcome.ok:
                raise PluginError(
                    f"{impl.kind} '{impl.name}' (plugin '{impl.plugin.name}' {impl.plugin.version}) breaks its "
                    f"contract, check '{outcome.check}': {outcome.detail}; details: `python -m pipeline "
                    f"check-plugins {impl.name}`; run anyway with --skip-plugin-checks")
        marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(marker, json.dumps({"kind": impl.kind, "name": impl.name, "plugin": impl.plugin.name,
                                         "version": impl.plugin.version, "options": options,
                                         "checks": [o.check for o in outcomes]}, default=str).encode())
