"""The pipeline's stages, one module each.

Every stage module defines ``run(cfg, **inputs) -> dict``: a pure function of
the config keys it declares in :data:`pipeline.registry.STAGES` and of its
upstream outputs. Helper modules here (``idx``, ``sources``, ``network``) are
part of a stage's code fingerprint when the stage imports them.
"""
