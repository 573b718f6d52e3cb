"""Where a canonical object is defined, read from the project's own files. Pure: no pytest.

A second definition (SPEC 5) is a ``class A``/``def A`` elsewhere in the canonical's
top-level package: the canonical module and the module that really defines the object
(``collections.abc`` re-exports ``Callable`` from ``_collections_abc``) are not. That module
is found by following the canonical module's ``from X import A [as A]`` (and ``from X import
*`` of a module that defines ``A``) through the files under the rootdir.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Iterable

from ..domain.contracts import Contract
from .files import read_source
from .analysis import import_bindings

__all__ = ["defining_modules", "module_file"]

_MAX_HOPS = 20


def module_file(root: Path, module: str, src_layout: bool) -> Path | None:
    """The file of ``module`` under ``root`` (``src/`` too in a src layout), if any."""
    base = module.replace(".", "/")
    for prefix in (("src/", "") if src_layout else ("",)):
        for rel in (f"{prefix}{base}.py", f"{prefix}{base}/__init__.py"):
            path = root / rel
            if path.is_file():
                return path
    return None


def _module_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, also inside module-level ``if`` and ``try``."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _module_level(stmt.body)
            yield from _module_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _module_level(stmt.body)
            for h in stmt.handlers:
                yield from _module_level(h.body)
            yield from _module_level(stmt.orelse)
            yield from _module_level(stmt.finalbody)


def _defines(tree: ast.Module, name: str) -> bool:
    for stmt in _module_level(tree.body):
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if stmt.name == name:
                return True
        elif isinstance(stmt, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                return True
    return False


def follow(module: str, name: str, read: Callable[[str], tuple[bytes, bool] | None]
           ) -> list[str]:
    """The modules ``name`` passes through from ``module`` to where it is defined.

    ``read(module)``: ``(source, is_package)`` or ``None`` when it is not a project file.
    """
    seen: list[str] = []
    for _hop in range(_MAX_HOPS):
        if module in seen:
            break
        seen.append(module)
        got = read(module)
        if got is None:
            break
        source, is_package = got
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            break
        if _defines(tree, name):
            break
        package = module if is_package else module.rpartition(".")[0]
        nxt = None
        stars = []
        for stmt in _module_level(tree.body):
            if isinstance(stmt, ast.ImportFrom):
                bound = import_bindings(stmt, package or None)
                for (local, value), alias in zip(bound, [a for a in stmt.names
                                                         if a.name != "*"]):
                    if local == name and value is not None:
                        nxt = (value[0].rpartition(".")[0], alias.name)
                if any(a.name == "*" for a in stmt.names):
                    star = import_bindings(ast.ImportFrom(stmt.module, [ast.alias("x")],
                                                          stmt.level), package or None)
                    if star and star[0][1] is not None:
                        stars.append(star[0][1][0].rpartition(".")[0])
        if nxt is None:
            for candidate in stars:
                chain = _through_stars(candidate, name, read, set(seen))
                if chain:
                    seen += chain  # every module of the chain serves the object
                    return seen
        if nxt is None:
            break
        module, name = nxt
    return seen


def _through_stars(module: str, name: str,
                   read: Callable[[str], tuple[bytes, bool] | None], visited: set[str],
                   depth: int = 0) -> list[str]:
    """``[module, ..., definer]`` when ``module`` defines ``name`` or star-imports, at any
    depth, a module that does (``scipy.ndimage`` reaches ``gaussian_filter`` through two
    ``import *``); ``[]`` otherwise."""
    if depth >= _MAX_HOPS or module in visited:
        return []
    visited.add(module)
    got = read(module)
    if got is None:
        return []
    source, is_package = got
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    if _defines(tree, name):
        return [module]
    package = module if is_package else module.rpartition(".")[0]
    for stmt in _module_level(tree.body):
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            star = import_bindings(ast.ImportFrom(stmt.module, [ast.alias("x")], stmt.level),
                                   package or None)
            if star and star[0][1] is not None:
                rest = _through_stars(star[0][1][0].rpartition(".")[0], name, read, visited,
                                      depth + 1)
                if rest:
                    return [module, *rest]
    return []


def defining_modules(contracts: Iterable[Contract], root: Path, src_layout: bool,
                     defined_in: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Per contract with an attribute canonical: the modules where a definition of the
    canonical name is not a second one. ``defined_in``: the object's ``__module__`` per
    contract, when the probes ran."""

    def read(module: str) -> tuple[bytes, bool] | None:
        path = module_file(root, module, src_layout)
        if path is None:
            return None
        try:
            return read_source(str(path)), path.name == "__init__.py"
        except OSError:
            return None

    out: dict[str, list[str]] = {}
    for c in contracts:
        if c.canonical.attr is None:
            continue
        modules = follow(c.canonical.module, c.canonical.attr, read)
        extra = (defined_in or {}).get(c.name)
        if extra and extra not in modules:
            modules.append(extra)
        out[c.name] = sorted(modules)
    return out
