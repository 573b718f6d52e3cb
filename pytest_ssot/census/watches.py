"""What the census watches and whose census it is: the census file schema, ``Watch`` (one
declared legacy or factory path), the project's ``pyproject.toml`` and its identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

SCHEMA_NAME = "pytest-ssot-census"
SCHEMA_VERSION = 1
SCHEMA = f"{SCHEMA_NAME}/{SCHEMA_VERSION}"
OVERFLOW = "<other callers>"


class Watch:
    """One declared path the census watches: ``pkg.mod`` (a module) or ``pkg.mod:A``."""

    __slots__ = ("path", "contract", "role", "module", "attr")

    def __init__(self, path: str, contract: str, role: str) -> None:
        self.path, self.contract, self.role = path, contract, role
        self.module, _, attr = path.partition(":")
        self.attr = attr or None

    def __repr__(self) -> str:
        return f"Watch({self.path!r}, {self.contract!r}, {self.role!r})"


# ---------------------------------------------------------------- contracts and identity

def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.pytest-ssot]`` table, upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        try:
            if b"pytest-ssot" in candidate.read_bytes():
                return candidate
        except OSError:
            continue
    return None


def _toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: tomli when it is there
        import tomli as tomllib  # type: ignore[no-redef]
    with open(path, "rb") as f:
        return tomllib.load(f)


def project_identity(pyproject: Path | None) -> str:
    """What names a project in census files: ``[project] name``, else its folder's name."""
    if pyproject is None:
        return ""
    try:
        name = _toml(pyproject).get("project", {}).get("name")
    except Exception:
        name = None
    return name if isinstance(name, str) and name else pyproject.parent.name


def watches_from_contracts(contracts: Iterable[Any]) -> list[Watch]:
    """Watches from contract tables as ``[tool.pytest-ssot]`` has them (mappings), from
    ``Contract`` objects, or from plain path strings (legacy paths of one contract)."""
    out: list[Watch] = []
    for c in contracts:
        if isinstance(c, str):
            out.append(Watch(c, "", "legacy"))
            continue
        if isinstance(c, Mapping):
            name, legacy, factories = (c.get("name", ""), c.get("legacy", ()),
                                       c.get("factories", ()))
        else:
            name, legacy, factories = c.name, c.legacy, c.factories
        for role, entries in (("legacy", legacy), ("factory", factories)):
            for e in entries:
                if isinstance(e, Mapping):
                    e = e.get("path")
                if e is not None and str(e):
                    out.append(Watch(str(e), str(name), role))
    return out

