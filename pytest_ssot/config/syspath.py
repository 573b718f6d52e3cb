"""The project's import path outside pytest: what ``sys.path`` a test session of the
project would have, for the probes that ``fix`` and ``discover`` run without pytest.

Pure core: no pytest import. (Under pytest the probes take the session's own
``sys.path``, which pytest has set up already.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError
from .toml import ini_options, load_toml

__all__ = ["project_sys_path"]


def project_sys_path(root: Path, *, lenient: bool = False) -> list[str]:
    """The ``pythonpath`` entries of ``[tool.pytest.ini_options]`` (relative to ``root``,
    resolved), then ``root/src`` when that folder exists (else ``root``), then this
    interpreter's ``sys.path``.

    ``lenient`` (``discover``, which may run before the project is configured): entries
    that are not strings are passed over, and a ``pyproject.toml`` or an entry that
    cannot be read or resolved gives no entries at all. Otherwise (``fix``, after the
    configuration was loaded and its ``pythonpath`` checked) each entry is taken as it
    is; a file that cannot be read gives none."""
    extra: list[str] = []
    if lenient:
        try:
            ini = load_toml(root / "pyproject.toml").get("tool", {}).get("pytest", {}).get(
                "ini_options", {})
            extra = [str((root / p).resolve()) for p in ini.get("pythonpath", [])
                     if isinstance(p, str)]
        except (ConfigError, OSError, ValueError, AttributeError):
            pass
    else:
        extra = [str((root / p).resolve()) for p in ini_options(root).get("pythonpath", [])]
    base = str(root / "src") if (root / "src").is_dir() else str(root)
    return [*extra, base, *sys.path]
