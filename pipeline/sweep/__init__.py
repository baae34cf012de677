"""Sweeps: many configs planned together, each shared stage computed once, run here or on a Dask cluster.

:func:`run_sweep` is the entry point (the ``sweep`` command and the Python API call it); the
pieces are :mod:`~pipeline.sweep.grid` (what varies), :mod:`~pipeline.sweep.plan` (every
member's keys, each distinct (stage, key) once), :mod:`~pipeline.sweep.scheduler` (upstream
first, a member as soon as its inputs exist), the backends :mod:`~pipeline.sweep.local` and
:mod:`~pipeline.sweep.cluster`, the worker side :mod:`~pipeline.sweep.tasks`, and
:mod:`~pipeline.sweep.summary` (``sweep.json``, ``sweep.csv``, the closing table).
"""

from pipeline.sweep.sweeper import SweepResult, run_sweep

__all__ = ["SweepResult", "run_sweep"]
