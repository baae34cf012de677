"""A stage recomputed under a key that already had an entry: do the outputs agree?

Equal keys promise equal outputs. When a stage is computed again under a key
with an entry (``run --force``, a damaged entry), the new outputs' checksums
are compared with the ones the old entry recorded. A difference means the
stage is not deterministic or its key misses an input (an environment
variable a plugin reads, a file it opens): the run says so at once, naming
what the key does contain, keeps the new entry, and records it in ``run.json``.
"""

from __future__ import annotations

from typing import Any

from pipeline.cache.entry import Entry


def differing_outputs(old: Entry, new: Entry) -> list[str]:
    """Names of the outputs whose recorded checksums differ between two entries.

    Sizes are not compared: a damaged ``entry.json`` may record a wrong size for
    the right file, and different bytes of one size show in the checksum anyway.
    """
    before, after = old.meta.get("outputs", {}), new.meta["outputs"]
    return sorted(name for name, info in after.items()
                  if not isinstance(before.get(name), dict) or before[name].get("crc32") != info["crc32"])


def key_contents(inputs: dict[str, Any]) -> str:
    """What a key is made of, in one line: the stage's code, its plugins, config keys, upstream stages."""
    plugins = [f"{kind} '{p.get('name')}' ({p.get('plugin')}, {p.get('dist')} {p.get('version')})"
               for kind, p in sorted(inputs.get("plugins", {}).items())]
    parts = [f"the code of stage '{inputs.get('stage')}' and of the project modules it imports",
             f"plugins: {', '.join(plugins) or 'none'}",
             f"config: {', '.join(sorted(inputs.get('config', {}))) or 'none'}",
             f"upstream: {', '.join(sorted(inputs.get('upstream', {}))) or 'none'}"]
    if "data" in inputs:
        parts.append("the data source's identity")
    return "; ".join(parts)


def mismatch(stage: str, key: str, old: Entry, new: Entry) -> dict[str, Any] | None:
    """The ``run.json`` record (and warning) for a recomputed entry that differs, or None when equal.

    Returns
    -------
    dict or None
        ``{"stage", "key", "outputs", "key_contains", "message"}``.
    """
    outputs = differing_outputs(old, new)
    if not outputs:
        return None
    contains = key_contents(new.meta["inputs"])
    message = (f"stage '{stage}' recomputed under key {key} gave different {', '.join(outputs)} than the entry "
               f"it replaces: the stage is not deterministic or its key misses an input (an environment "
               f"variable or file a plugin reads?); the key holds {contains}; the new entry is kept")
    return {"stage": stage, "key": key, "outputs": outputs, "key_contains": contains, "message": message}
