"""The project-wide fact a module-level rewrite needs: does any other file read the name
``n`` *through* module ``X`` (``from X import n``, ``X.n``, ``import X as y; y.n``,
``mock.patch("X.n...")``)? When nobody does, rebinding ``n`` in ``X`` is invisible.

Every file under the configured paths is a possible reader. A byte test proves most of
them cannot be one (a reader spells ``n`` and the module's last name, or a relative
import); the rest are parsed. Conservative: an attribute ``.n`` anywhere in a file that
imports ``X`` counts as a read.
"""

from __future__ import annotations

import ast
import os
import re
import stat
from pathlib import Path
from typing import Iterable

from ..domain.contracts import SsotConfig
from ..scan.files import Excluder, module_name, roots
from ..scan.analysis import resolve_relative

__all__ = ["Readers", "find_readers", "merge_readers", "readers_part"]

Readers = dict[tuple[str, str], list[str]]  # (module, name) -> files that read it


def _files(settings: SsotConfig, root: Path) -> Iterable[tuple[str, str]]:
    excluder = Excluder(settings.exclude)
    for abspath, rel in roots(root, settings.paths):
        if os.path.isfile(abspath):
            yield abspath, rel
            continue
        for dirpath, dirnames, filenames in os.walk(abspath):
            drel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            drel = "" if drel == "." else drel
            dirnames[:] = sorted(d for d in dirnames
                                 if not excluder.excluded(f"{drel}/{d}" if drel else d, d))
            for name in sorted(filenames):
                rel = f"{drel}/{name}" if drel else name
                if name.endswith(".py") and not excluder.excluded(rel, name):
                    yield os.path.join(dirpath, name), rel


# Up to this many names, plain substring tests are cheaper than one pattern of them all.
_FEW = 16
_SIZE_LIMIT = 4 * 1024 * 1024  # the scan's own limit: a larger file is no reader either


def _read_regular(path: str) -> bytes | None:
    """The bytes of a regular file; ``None`` for a FIFO, a device (or a link to one), a
    file past the size limit, or one that cannot be read: never a hang."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _SIZE_LIMIT:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(_SIZE_LIMIT + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def find_readers(settings: SsotConfig, root: Path, wanted: set[tuple[str, str]]
                 ) -> Readers:
    """For each ``(module, name)`` in ``wanted``, the files (rootdir-relative) other than
    the module's own that read ``name`` through ``module``."""
    return merge_readers(wanted, [readers_part(settings, root, wanted, 0, 1)])


def merge_readers(wanted: set[tuple[str, str]], parts: Iterable[dict]) -> Readers:
    """The parts of ``readers_part`` as one answer, each list in the walk's order (the
    order one process searching every file finds them in)."""
    out: Readers = {w: [] for w in wanted}
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for part in parts:
        for key, hits in part.items():
            found.setdefault(key, []).extend(hits)
    for key, hits in found.items():
        out[key] = [rel for _i, rel in sorted(hits)]
    return out


def readers_part(settings: SsotConfig, root: Path, wanted: set[tuple[str, str]],
                 share: int, shares: int) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """``find_readers`` over the files ``share::shares`` of the walk (so that processes
    can split the search): ``(module, name) -> [(index in the walk, file)]``."""
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    if not wanted:
        return out
    # A reader spells the module's last name (``from X import n``, ``X.n``, ``from P
    # import leaf``, ``"X.n"``, ``from .leaf import n``) and the name: both as words.
    leaves = {m.rpartition(".")[2] for m, _n in wanted}
    names = {n for _m, n in wanted}
    leaf = _words(leaves)
    word = _words(names)
    # Cheaper necessary conditions first (a word is also a substring; a leaf found as a
    # word is found without the boundaries too): most files fail them, and the tests
    # above then run only on the few that pass.
    name_bytes = [n.encode() for n in sorted(names)] if len(names) <= _FEW else None
    any_leaf = re.compile(_trie(sorted(leaves)).encode())
    names_of: dict[bytes, set[str]] = {}
    for m, n in wanted:
        names_of.setdefault(m.rpartition(".")[2].encode(), set()).add(n)
    by_module: dict[str, set[str]] = {}
    for m, n in wanted:
        by_module.setdefault(m, set()).add(n)
    src_layout = (root / "src").is_dir()
    for i, (abspath, rel) in enumerate(_files(settings, root)):
        if i % shares != share:
            continue
        data = _read_regular(abspath)
        if data is None:
            continue
        if name_bytes is not None and not any(n in data for n in name_bytes):
            continue
        if not any_leaf.search(data):
            continue
        found = set(leaf.findall(data))
        if not found or not word.search(data):
            continue
        # a pair must meet: the module's last name and one of its names
        if not any(re.search(rb"(?<![A-Za-z0-9_])" + re.escape(n.encode())
                             + rb"(?![A-Za-z0-9_])", data)
                   for x in found for n in names_of.get(x, ())):
            continue
        module, is_package = module_name(rel, src_layout)
        package = module if is_package else (module.rpartition(".")[0] if module else None)
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue  # the scan reports it; it reads nothing we can see
        for m, n in _reads(tree, package, by_module):
            if m != module:
                out.setdefault((m, n), []).append((i, rel))
    return out


def _trie(words: Iterable[str]) -> str:
    """A regex alternation factored by common prefixes: the engine tries one branch per
    character instead of every word at every position."""
    tree: dict = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and not optional else f"(?:{'|'.join(alts)})"
        return body + ("?" if optional else "")

    return emit(tree)


def _words(words: Iterable[str]) -> "re.Pattern[bytes]":
    return re.compile(rb"(?<![A-Za-z0-9_])" + _trie(sorted(words)).encode()
                      + rb"(?![A-Za-z0-9_])")


def _reads(tree: ast.AST, package: str | None, by_module: dict[str, set[str]]
           ) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    imported: set[str] = set()  # modules of interest this file binds as a namespace
    attrs: set[str] = set()  # attribute names and string constants (getattr(y, "n"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = resolve_relative(node.level, node.module, package)
            if target is None:
                continue
            for alias in node.names:
                if target in by_module:
                    if alias.name == "*":
                        found.update((target, n) for n in by_module[target])
                    elif alias.name in by_module[target]:
                        found.add((target, alias.name))
                full = f"{target}.{alias.name}"
                if full in by_module:
                    imported.add(full)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                for m in by_module:
                    if alias.name == m or alias.name.startswith(m + ".") or (
                            alias.asname is None and m.startswith(alias.name + ".")):
                        imported.add(m)
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            attrs.add(node.value)
            for m, ns in by_module.items():
                if node.value.startswith(m + "."):
                    head = node.value[len(m) + 1:].partition(".")[0]
                    if head in ns:
                        found.add((m, head))
    for m in imported:
        found.update((m, n) for n in by_module[m] if n in attrs)
    return found
