"""The one TOML reader: ``pyproject.toml`` and TOML text, with stdlib ``tomllib``.

Pure core: no pytest import. ``tomllib`` (``tomli`` on Python 3.10) is imported on the
first read, not with this module. (``census`` reads TOML on its own: it is standalone.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["load_toml", "loads", "ini_options", "type_name"]


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    return tomllib


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML document in ``path``; a :class:`ConfigError` naming the file when it
    cannot be read or is not TOML."""
    tomllib = _tomllib()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib lets the decoder's error out
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 (byte 0x{exc.object[exc.start]:02x} "
                          f"at offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def loads(text: str) -> dict[str, Any]:
    """The TOML document ``text``; ``ValueError`` (``tomllib.TOMLDecodeError``) when it
    is not TOML."""
    return _tomllib().loads(text)


def ini_options(root: Path) -> dict:
    """``[tool.pytest.ini_options]`` of ``root/pyproject.toml`` (pytest's own settings);
    ``{}`` when the file cannot be read or is not TOML."""
    try:
        return load_toml(root / "pyproject.toml").get("tool", {}).get("pytest", {}).get(
            "ini_options", {})
    except (ConfigError, OSError, ValueError):
        return {}


def type_name(value: object) -> str:
    """The TOML name of a value's type, for messages (``array``, ``table``...)."""
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            list: "array", dict: "table"}.get(type(value), type(value).__name__)
