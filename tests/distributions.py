"""Installed-looking plugin distributions for tests, without pip or a network.

:func:`write_distribution` writes what ``pip install --target SITE`` leaves
behind that matters to plugin discovery: the package's modules and a
``NAME-VERSION.dist-info`` directory with ``METADATA`` and
``entry_points.txt``. With ``SITE`` on ``sys.path``,
``importlib.metadata.entry_points(group="pipeline")`` finds the entry points
exactly as it finds those of a real installation.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


def _dist_info(site: Path, name: str, version: str) -> Path:
    return site / f"{name.replace('-', '_')}-{version}.dist-info"


def write_distribution(site: Path, name: str, version: str, entry_points: Mapping[str, str],
                       modules: Mapping[str, str] = (), group: str = "pipeline") -> Path:
    """Install a fake distribution into ``site``; returns its dist-info directory.

    Parameters
    ----------
    site : Path
        A directory on ``sys.path`` (the caller adds it).
    name, version : str
        Distribution name and version, as in ``pyproject.toml``.
    entry_points : mapping of str to str
        ``{entry-point name: "module" or "module:attr"}`` in ``group``.
    modules : mapping of str to str
        ``{relative file path: source}`` written under ``site`` (dedented).
    """
    for path, source in dict(modules).items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source))
    info = _dist_info(site, name, version)
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"[{group}]", *(f"{ep} = {value}" for ep, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("tests\n")
    importlib.invalidate_caches()  # also drops importlib.metadata's directory listings
    return info


def set_version(info: Path, version: str) -> Path:
    """Pretend to upgrade: rename the dist-info and rewrite its version; returns the new path."""
    name = next(line.split(":", 1)[1].strip() for line in (info / "METADATA").read_text().splitlines()
                if line.startswith("Name:"))
    new = _dist_info(info.parent, name, version)
    info.rename(new)
    (new / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    importlib.invalidate_caches()
    return new


def forget_modules(*prefixes: str) -> None:
    """Drop imported modules so the next import reads the (possibly edited) files again."""
    for name in [m for m in sys.modules if m.split(".")[0] in prefixes]:
        del sys.modules[name]
    importlib.invalidate_caches()


def forget_modules_in(site: Path) -> None:
    """Drop every imported module whose file lies under ``site``."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(site.resolve()):
            del sys.modules[name]
    importlib.invalidate_caches()


def installed_plugin(tmp_path: Path, monkeypatch: Any, dist: str, entry_points: Mapping[str, str],
                     files: Mapping[str, str]) -> Iterator[Path]:
    """Body of a fixture: ``dist`` installed in ``tmp_path/site``, autoload on; yields the site.

    Its modules (the files' stems) are forgotten before and after, so an edit between tests
    is seen and nothing leaks into the next test.
    """
    site = tmp_path / "site"
    write_distribution(site, dist, "1.0", entry_points, files)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("PIPELINE_DISABLE_PLUGIN_AUTOLOAD")
    modules = [Path(name).stem for name in files]
    forget_modules(*modules)
    yield site
    forget_modules(*modules)
