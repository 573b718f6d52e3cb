"""Which files the scan reads, their module names and areas. Pure: no pytest.

Exclusions: the defaults of SPEC 2 and a configured glob match a path component when they
hold no ``/`` (``node_modules``, ``*.egg-info``, ``migrations``); a glob with a ``/`` matches
the POSIX path relative to the rootdir (``chat/generated/**``; ``**`` spans directories).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..config import DEFAULT_EXCLUDES, ConfigError

__all__ = ["SourceFile", "discover", "module_name", "area_of", "Excluder"]


@dataclass(frozen=True)
class SourceFile:
    rel: str  # POSIX, relative to the rootdir
    abspath: str
    size: int
    mtime_ns: int


def _glob_regex(pattern: str) -> "re.Pattern[str]":
    out = []
    i = 0
    p = pattern.strip("/")
    while i < len(p):
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("/**", i) and i + 3 == len(p):
            out.append("(?:/.*)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif p[i] == "*":
            out.append("[^/]*")
            i += 1
        elif p[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(p[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


class Excluder:
    def __init__(self, extra: Sequence[str]) -> None:
        self.names = [g for g in (*DEFAULT_EXCLUDES, *extra) if "/" not in g.strip("/")]
        self.paths = [_glob_regex(g) for g in extra if "/" in g.strip("/")]

    def excluded(self, rel: str, name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, g) for g in self.names):
            return True
        return any(r.match(rel) for r in self.paths)


def discover(root: Path, paths: Sequence[str], exclude: Sequence[str]) -> list[SourceFile]:
    """Every ``*.py`` under ``paths`` (relative to ``root``), minus exclusions, sorted."""
    excluder = Excluder(exclude)
    found: dict[str, SourceFile] = {}
    for entry in paths:
        start = (root / entry).resolve() if not os.path.isabs(entry) else Path(entry)
        try:
            start.relative_to(root.resolve())
        except ValueError:
            raise ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r} is "
                              "outside the rootdir") from None
        if not start.exists():
            raise ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r} does "
                              "not exist (paths are relative to the rootdir)")
        if start.is_file():
            rel = start.relative_to(root.resolve()).as_posix()
            st = start.stat()
            if rel.endswith(".py") and not excluder.excluded(rel, start.name):
                found[rel] = SourceFile(rel, str(start), st.st_size, st.st_mtime_ns)
            continue
        base_rel = start.relative_to(root.resolve()).as_posix()
        stack = [(str(start), "" if base_rel == "." else base_rel)]
        while stack:
            dirpath, dir_rel = stack.pop()
            try:
                it = os.scandir(dirpath)
            except OSError:
                continue
            with it:
                for d in it:
                    rel = f"{dir_rel}/{d.name}" if dir_rel else d.name
                    try:
                        is_dir = d.is_dir(follow_symlinks=False)
                    except OSError:
                        continue
                    if is_dir:
                        if not excluder.excluded(rel, d.name):
                            stack.append((d.path, rel))
                    elif d.name.endswith(".py") and not excluder.excluded(rel, d.name):
                        try:
                            st = d.stat()
                        except OSError:
                            continue
                        found[rel] = SourceFile(rel, d.path, st.st_size, st.st_mtime_ns)
    return [found[k] for k in sorted(found)]


def module_name(rel: str, src_layout: bool) -> tuple[str | None, bool]:
    """The importable name of a file (``None`` when its path cannot be one), is-package."""
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    if src_layout and parts and parts[0] == "src":
        parts = parts[1:]
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None, is_package
    return ".".join(parts), is_package


def area_of(rel: str, areas: Iterable[tuple[str, str]]) -> str:
    """Longest matching prefix, by whole path components; ``"other"`` when none matches."""
    best, best_len = "other", -1
    for prefix, label in areas:
        if prefix in ("", ".") or rel == prefix or rel.startswith(prefix + "/"):
            n = len(prefix) if prefix not in ("", ".") else 0
            if n > best_len:
                best, best_len = label, n
    return best
