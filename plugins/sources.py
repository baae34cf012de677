"""Built-in data sources: ``auto``, ``openml:NAME``, ``idx:DIR``, ``npz:FILE``, ``digits``.

The loaders and identities live in :mod:`pipeline.data.sources`; this module
registers that table through the same hook a third-party source uses.
"""

from __future__ import annotations

from pipeline import hookimpl
from pipeline.data.sources import SOURCES


@hookimpl
def pipeline_register_data_sources() -> dict:
    """Register the built-in data sources."""
    return dict(SOURCES)
