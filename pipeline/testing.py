"""Helpers for plugin authors' own test suites: every ``check-plugins`` check in one assertion.

::

    from pipeline.testing import assert_conforms

    def test_softsign():
        assert_conforms("activation", Activation(softsign, softsign_derivative))

    def test_adagrad_with_options():
        assert_conforms("optimizer", Adagrad, eps=1e-6)
"""

from __future__ import annotations

import functools
from typing import Any


def assert_conforms(kind: str, obj: Any, **options: Any) -> None:
    """Run every check of ``kind`` on ``obj`` (created or called with ``options``), as a run would.

    Parameters
    ----------
    kind : str
        ``"activation"``, ``"initializer"``, ``"optimizer"`` or ``"schedule"``.
    obj : object
        What the plugin registers under that kind.
    **options
        Keyword options (an optimizer's ``train.optimizer_options``, a schedule's
        ``train.schedule_options``).

    Raises
    ------
    AssertionError
        Listing every failed check with its expected/measured line.
    ValueError
        For a kind without checks.
    """
    from pipeline.hooks.check import CHECKS, run_check

    if kind not in CHECKS:
        raise ValueError(f"no checks for kind {kind!r}; kinds: {', '.join(CHECKS)}")
    target = functools.partial(obj, **options) if options else obj
    failed = [f"{label}: {detail}" for label, check in CHECKS[kind]
              for ok, detail in [run_check(check, target)] if not ok]
    assert not failed, f"{kind} fails {len(failed)} check(s): " + "; ".join(failed)
