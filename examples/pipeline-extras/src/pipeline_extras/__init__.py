"""pipeline-extras: example plugins for ``pipeline``.

The package's entry points (see ``pyproject.toml``) name two plugin modules:

* :mod:`pipeline_extras.plugin` registers activation ``swish``, initializer
  ``lecun_normal`` and optimizer ``rmsprop``;
* :mod:`pipeline_extras.timing` logs each stage's duration and output shapes.

Each implementation lives in its own module and shares no helper with the
others, so editing one changes only its own code fingerprint, and only the
stages that use it re-run.
"""
