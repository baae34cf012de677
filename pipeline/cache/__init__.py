"""The cache: where stage outputs live and what their keys are made of.

``store`` (entries on disk), ``gc`` (``cache gc`` and ``cache clear``), ``locks`` (who computes
what), ``entry`` (one entry's files and checksums), ``atomic`` (writes that are never
half-done), ``keys`` (the key chain), ``fingerprint`` (what of the code goes into a key; with
``reach``, ``distributions`` and ``imports``) and ``status`` (why a stage would re-run). This package never imports
``stages``, ``plugins`` or the CLI.
"""
