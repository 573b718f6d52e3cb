"""Which files the scan reads, their module names and areas. Pure: no pytest.

Exclusions: the defaults of SPEC 2 and a configured glob match a path component when they
hold no ``/`` (``node_modules``, ``*.egg-info``, ``migrations``); a glob with a ``/`` matches
the POSIX path relative to the rootdir (``chat/generated/**``; ``**`` spans directories).
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from ..config import DEFAULT_EXCLUDES
from ..errors import ConfigError

__all__ = ["roots", "listing", "packages_kept", "module_name", "area_of", "Excluder",
           "read_source", "MAX_FILE_BYTES"]

class TextKinds(Protocol):
    """What the listing asks of the text-file selection (``scan.text.TextFiles``, which
    imports this module: a protocol here keeps the import one-way)."""

    def kind(self, rel: str, name: str) -> "str | None": ...


# No source file is read past this size (SPEC 12: memory stays bounded). Parsing costs
# about 90 bytes of memory per byte of source, so 4 MiB keeps one worker under ~400 MB;
# hand-written modules are far smaller, and a generated module this large is better
# excluded (``exclude``) than scanned. A larger file is a scan error naming the limit.
MAX_FILE_BYTES = 4 * 1024 * 1024


def _not_regular(mode: int) -> str | None:
    import stat

    if stat.S_ISREG(mode):
        return None
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket"
            if stat.S_ISSOCK(mode) else "a folder" if stat.S_ISDIR(mode) else "special")
    return f"not a regular file ({kind}): only regular files are scanned"


_OPEN_FLAGS = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0))


def read_source(abspath: str, limit: int = MAX_FILE_BYTES, *, regular: bool = False
                ) -> bytes:
    """The bytes of one source file; ``OSError`` with a message for the user otherwise.

    Only regular files are read (a FIFO would block forever, ``/dev/zero`` never ends;
    a symlink to one is the same thing), and never more than ``limit`` bytes. The file is
    checked before it is opened (opening some devices acts on them; ``regular``: the
    caller's own ``stat`` just said it is a regular file) and again on the open
    descriptor (it may have been swapped in between); the open does not block.
    """
    problem = None if regular else _not_regular(os.stat(abspath).st_mode)
    if problem is None:
        fd = os.open(abspath, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            problem = _not_regular(st.st_mode)
            if problem is None and st.st_size <= limit:
                chunks, total = [], 0
                want = min(st.st_size + 1, limit + 1)
                while total <= limit:  # a file growing since the fstat: up to the limit
                    chunk = os.read(fd, want)
                    chunks.append(chunk)
                    total += len(chunk)
                    if not chunk or len(chunk) < want and total >= st.st_size:
                        return b"".join(chunks)  # the end (a short read before it goes on)
                    want = limit + 1 - total
            if problem is None:
                problem = (f"larger than the scan's size limit of {limit // 1024} KiB "
                           f"({max(st.st_size, limit + 1)} bytes): not read; exclude it "
                           "(key 'exclude') if it is generated")
        finally:
            os.close(fd)
    raise OSError(problem)


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
    """Exclusion tests, cheapest first: plain names, ``*suffix``/``prefix*``, then regexes."""

    def __init__(self, extra: Sequence[str], defaults: bool = True) -> None:
        # Folders excluded by a default name alone are kept when they hold an
        # ``__init__.py``: a package, not a build or environment folder (SPEC 5).
        self.extra_only = Excluder(extra, defaults=False) if defaults else None
        names = [g.strip("/") for g in (*(DEFAULT_EXCLUDES if defaults else ()), *extra)
                 if "/" not in g.strip("/")]
        wild = set("*?[")
        self.plain = frozenset(g for g in names if not wild & set(g))
        self.suffixes = tuple(g[1:] for g in names
                              if g.startswith("*") and not wild & set(g[1:]))
        self.prefixes = tuple(g[:-1] for g in names
                              if g.endswith("*") and not wild & set(g[:-1]))
        rest = [g for g in names if wild & set(g) and g[1:] not in self.suffixes
                and g[:-1] not in self.prefixes]
        self.names = re.compile("|".join(fnmatch.translate(g) for g in rest)) if rest else None
        paths = [_glob_regex(g).pattern for g in extra if "/" in g.strip("/")]
        self.paths = re.compile("|".join(f"(?:{p})" for p in paths)) if paths else None
        # Can any pattern exclude a file named *.py? The defaults cannot: then files are
        # not tested at all (directories always are).
        self.files = bool(self.prefixes or self.names is not None or self.paths is not None
                          or any(n.endswith(".py") for n in self.plain)
                          or any(".py".endswith(x) or x.endswith(".py")
                                 for x in self.suffixes))

    def excluded(self, rel: str, name: str) -> bool:
        if name in self.plain:
            return True
        if self.suffixes and name.endswith(self.suffixes):
            return True
        if self.prefixes and name.startswith(self.prefixes):
            return True
        if self.names is not None and self.names.match(name):
            return True
        return self.paths is not None and self.paths.match(rel) is not None


def roots(root: Path, paths: Sequence[str]) -> list[tuple[str, str]]:
    """The configured ``paths`` as ``(absolute path, rootdir-relative POSIX path)``, minus
    those inside another."""
    out = []
    real_root = root.resolve()
    for entry in paths:
        start = (root / entry).resolve()
        try:
            rel = start.relative_to(real_root).as_posix()
        except ValueError:
            raise ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r} is "
                              "outside the rootdir") from None
        if not start.exists():
            raise ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r} does "
                              "not exist (paths are relative to the rootdir)")
        out.append((str(start), "" if rel == "." else rel))
    # A path inside another configured path is already covered: scanning it twice would
    # count its files twice.
    kept: list[tuple[str, str]] = []
    for abspath, rel in sorted(set(out), key=lambda u: (u[1].count("/"), u[1])):
        if not any(r == "" or rel == r or rel.startswith(r + "/") for _a, r in kept):
            kept.append((abspath, rel))
    return kept


MAYBE = "?"  # a listed subdirectory excluded by a default name unless it is a package


def packages_kept(dirpath: str, subdirs: list[str]) -> list[str]:
    """The listing's subdirectories to walk: a ``?name`` one only while it holds an
    ``__init__.py`` (looked at every time: adding one does not change our mtime)."""
    if not any(n.startswith(MAYBE) for n in subdirs):
        return subdirs
    return [n[1:] if n.startswith(MAYBE) else n for n in subdirs
            if not n.startswith(MAYBE) or os.path.isfile(f"{dirpath}/{n[1:]}/__init__.py")]


def listing(dirpath: str, dir_rel: str, excluder: Excluder, skip_files: frozenset[str],
            text: "TextKinds | None" = None) -> tuple[list[str], list[str]]:
    """``(subdirectory names, *.py file names)`` of one directory, sorted, minus exclusions;
    with ``text``, also the names of the text files it selects (``scan.text``).

    ``skip_files``: rootdir-relative paths left out (the shims). Raises ``OSError`` when
    the directory cannot be listed. A subdirectory excluded only by a default name is
    listed as ``?name`` (see ``packages_kept``).
    """
    excluded = excluder.excluded
    files_excludable = excluder.files
    subdirs: list[str] = []
    names: list[str] = []
    with os.scandir(dirpath) as it:
        for d in it:
            name = d.name
            try:
                is_dir = d.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                rel = f"{dir_rel}/{name}" if dir_rel else name
                if not excluded(rel, name):
                    subdirs.append(name)
                elif (excluder.extra_only is not None
                      and not excluder.extra_only.excluded(rel, name)):
                    subdirs.append(MAYBE + name)
            elif name.endswith(".py"):
                rel = f"{dir_rel}/{name}" if dir_rel else name
                if (not files_excludable or not excluded(rel, name)) and rel not in skip_files:
                    names.append(name)
            elif text:
                rel = f"{dir_rel}/{name}" if dir_rel else name
                if text.kind(rel, name) is not None and not excluded(rel, name):
                    names.append(name)
    subdirs.sort()
    names.sort()
    return subdirs, names


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
