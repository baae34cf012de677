"""pipeline: a cached, pluggable batch runner that trains a NumPy MLP on MNIST.

Plugin authors only need ``from pipeline import hookimpl``.
"""

import pluggy

__version__ = "0.1.0"

#: Marker for plugin hook implementations (``@hookimpl``).
hookimpl = pluggy.HookimplMarker("pipeline")

__all__ = ["hookimpl", "__version__"]
