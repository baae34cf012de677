"""The built-in plugins: activations, initializers, optimizers, schedules and data sources.

Each module registers its implementations through the same ``pipeline``
hooks a third-party package would use (see :mod:`pipeline.hooks.specs`); the
plugin manager imports every module named in :data:`DEFAULT_PLUGINS` and
registers it before loading the ``pipeline`` entry-point group.
"""

#: Modules registered as the built-in plugins, in this order.
DEFAULT_PLUGINS = ("plugins.activations", "plugins.initializers", "plugins.optimizers", "plugins.schedules",
                   "plugins.sources")
