"""The plugin machinery: hook specs, the plugin manager, and the checks plugins must pass.

``specs`` (every hook, documented), ``manager`` (loading and blocking plugins),
``registries`` (one name -> implementation table per kind, and plugins' config
sections), ``guards`` (probes before a stage, output checks after),
``conformance`` (the contract checks plugin authors can call from pytest) and
``check`` (the ``check-plugins`` command's table). Plugin authors only need
``from pipeline import hookimpl``.
"""
