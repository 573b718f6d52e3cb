"""The configuration model: contracts and the whole ``[tool.pytest-ssot]`` table, as
frozen data. Pure: reading and validating them is ``config``'s work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .deadlines import Deadline
from .paths import SsotPath

__all__ = ["Contract", "GoldenPathConfig", "SsotConfig", "DEFAULT_DOC_FILES",
           "DEFAULT_CONFIG_FILES"]

# Text files scanned for legacy dotted paths (SPEC 13): kinds ``doc`` and ``config``. A
# glob without ``/`` matches a file name at any depth within ``paths``; one with ``/``
# matches the rootdir-relative POSIX path (``**`` spans folders).
DEFAULT_DOC_FILES: tuple[str, ...] = ("docs/**/*.md", "docs/**/*.rst", "docs/**/*.txt")
DEFAULT_CONFIG_FILES: tuple[str, ...] = (
    "*.toml", "*.cfg", "*.ini", "*.yaml", "*.yml", "*.json", "Dockerfile", "Makefile",
)


@dataclass(frozen=True)
class Contract:
    """One SSOT contract: a canonical path and the paths that must go away."""

    name: str
    canonical: SsotPath
    legacy: tuple[SsotPath, ...] = ()
    factories: tuple[SsotPath, ...] = ()
    allow: tuple[SsotPath, ...] = ()
    alias_scope: tuple[str, ...] = ()
    deprecation_warnings: tuple[SsotPath, ...] = ()
    max_import_ms: float = 0.0
    source: str = "pyproject.toml"
    # factory path -> the callable its calls become (``pytest-ssot fix``, SPEC 11)
    replacements: tuple[tuple[SsotPath, SsotPath], ...] = ()
    # legacy path -> its removal deadline (SPEC 13); ``passed`` set by ``load_config``
    deadlines: tuple[tuple[SsotPath, Deadline], ...] = ()

    def deadline(self, path: SsotPath | str) -> Deadline | None:
        for p, d in self.deadlines:
            if p == path or str(p) == path:
                return d
        return None

    # the canonical's top-level package is not the project's (a third-party library)
    external: bool = False

    @property
    def effective_alias_scope(self) -> tuple[str, ...]:
        """Packages searched for aliases (SPEC 4): configured; else the canonical's
        top-level package when it is the project's own, the canonical's own module when
        it lies in a third-party distribution (importing all of a large library costs
        minutes and proves nothing about the project)."""
        if self.alias_scope:
            return self.alias_scope
        if self.external:
            return (self.canonical.module,)
        return (self.canonical.parent_package or self.canonical.module,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canonical": str(self.canonical),
            "legacy": [str(p) for p in self.legacy],
            "factories": [str(p) for p in self.factories],
            "allow": [str(p) for p in self.allow],
            "alias_scope": list(self.alias_scope),
            "deprecation_warnings": [str(p) for p in self.deprecation_warnings],
            "max_import_ms": self.max_import_ms,
            "replacements": {str(k): str(v) for k, v in self.replacements},
        }


@dataclass(frozen=True)
class GoldenPathConfig:
    required: tuple[str, ...] = ()
    min_tests: int = 0


@dataclass(frozen=True)
class SsotConfig:
    """The whole ``[tool.pytest-ssot]`` table, validated."""

    file: Path | None = None
    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    strict: bool = False
    baseline: str = ".ssot-baseline.json"
    probe_timeout: float = 30.0
    areas: tuple[tuple[str, str], ...] = ()
    contracts: tuple[Contract, ...] = ()
    golden_path: GoldenPathConfig = field(default_factory=GoldenPathConfig)
    doc_files: tuple[str, ...] = DEFAULT_DOC_FILES
    config_files: tuple[str, ...] = DEFAULT_CONFIG_FILES

    def contract(self, name: str) -> Contract | None:
        for c in self.contracts:
            if c.name == name:
                return c
        return None
