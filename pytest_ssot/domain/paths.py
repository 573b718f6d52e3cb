"""Parsing of SSOT paths: ``module`` or ``module:attr``.

Pure core: no pytest import.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from ..errors import USAGE, SsotError

__all__ = ["SsotPath", "PathSyntaxError", "parse_path", "is_module_name"]


class PathSyntaxError(ValueError, SsotError):
    """A string that is not ``module`` or ``module:attr``."""

    exit_code = USAGE


def _is_identifier(part: str) -> bool:
    return part.isidentifier() and not keyword.iskeyword(part)


def is_module_name(text: str) -> bool:
    """True when ``text`` is a dotted module name (``a.b.c``)."""
    return bool(text) and all(_is_identifier(p) for p in text.split("."))


@dataclass(frozen=True, order=True)
class SsotPath:
    """A module (``attr is None``) or one attribute of a module."""

    module: str
    attr: str | None = None

    def __str__(self) -> str:
        return self.module if self.attr is None else f"{self.module}:{self.attr}"

    @property
    def dotted(self) -> str:
        """The path as a dotted name, the way ``mock.patch`` strings spell it."""
        return self.module if self.attr is None else f"{self.module}.{self.attr}"

    @property
    def parent_package(self) -> str:
        """The package holding ``module`` ('' for a top-level module)."""
        return self.module.rpartition(".")[0]


def parse_path(text: object) -> SsotPath:
    """Parse ``module`` or ``module:attr``; raise :class:`PathSyntaxError` otherwise."""
    if not isinstance(text, str):
        raise PathSyntaxError(f"expected a string, got {type(text).__name__}")
    module, sep, attr = text.partition(":")
    if not is_module_name(module):
        raise PathSyntaxError(
            f"{text!r} is not a valid path: expected 'module' or 'module:attr' "
            "(a dotted module name, optionally ':' and one identifier)"
        )
    if sep:
        if not _is_identifier(attr):
            raise PathSyntaxError(
                f"{text!r} is not a valid path: the part after ':' must be one identifier"
            )
        return SsotPath(module, attr)
    return SsotPath(module)
