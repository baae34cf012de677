"""pipeline: a cached, pluggable batch runner that trains a NumPy MLP on MNIST.

Plugin authors only need ``from pipeline import hookimpl``. From Python
(scripts, notebooks): ``pipeline.run(...)``, ``pipeline.load_model(...)`` and ``pipeline.run_sweep(...)``
(see docs/api.md); they are imported on first use, so that ``import pipeline``
stays as cheap as the plugins and the command line need it to be.
"""

import importlib

import pluggy

__version__ = "0.1.0"

#: Marker for plugin hook implementations (``@hookimpl``).
hookimpl = pluggy.HookimplMarker("pipeline")

#: Public name -> (module, attribute), imported on first access.
_LAZY = {
    "run": ("pipeline.python_api", "run"),
    "RunResult": ("pipeline.python_api", "RunResult"),
    "load_model": ("pipeline.model", "load_model"),
    "Model": ("pipeline.model", "Model"),
    # sweeps: pipeline.run_sweep (pipeline.sweep is the subpackage, so no function can take that name)
    "run_sweep": ("pipeline.sweep", "run_sweep"),
    "SweepResult": ("pipeline.sweep", "SweepResult"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'pipeline' has no attribute '{name}'")


__all__ = ["hookimpl", "__version__", *_LAZY]
