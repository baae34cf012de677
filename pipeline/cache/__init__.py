"""The cache: where stage outputs live and what their keys are made of.

``store`` (entries on disk, locks), ``entry`` (one entry's files and checksums),
``atomic`` (writes that are never half-done), ``keys`` (the key chain),
``fingerprint`` (what of the code goes into a key) and ``status`` (why a stage
would re-run). This package never imports ``stages``, ``plugins`` or the CLI.
"""
