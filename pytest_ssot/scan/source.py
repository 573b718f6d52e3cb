"""One file -> its references (SPEC 5). Pure: bytes in, data out.

Parsing is ``ast.parse`` on the raw bytes, so the file is decoded exactly as Python decodes
it (a BOM, a PEP 263 coding line, UTF-8 otherwise); a file Python cannot decode or parse is
an error entry, never skipped.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Iterator

from .rules import Hit, Matcher

__all__ = ["analyze", "pragmas"]

_PRAGMA = re.compile(r"#\s*ssot:\s*ignore(?:\[([^\]]*)\])?")
_SCOPES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def pragmas(source: bytes) -> dict[int, frozenset[str] | None]:
    """``{line: None (all contracts) | {names}}`` for real ``# ssot: ignore`` comments."""
    if b"ssot:" not in source:
        return {}
    found: dict[int, frozenset[str] | None] = {}
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            if tok.type != tokenize.COMMENT:
                continue
            m = _PRAGMA.search(tok.string)
            if not m:
                continue
            line = tok.start[0]
            if m.group(1) is None:
                found[line] = None
            elif found.get(line, frozenset()) is not None:
                names = frozenset(n.strip() for n in m.group(1).split(",") if n.strip())
                found[line] = (found.get(line) or frozenset()) | names
    except (tokenize.TokenError, SyntaxError):
        pass  # the parse error is reported by analyze()
    return found


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                ids.add(id(first.value))
    return ids


def _resolve_relative(level: int, module: str | None, package: str | None) -> str | None:
    """The absolute module of ``from <level dots><module> import ...`` (None: unresolvable)."""
    if level == 0:
        return module
    if not package:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python refuses it too
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _module_level_defs(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Definitions in module scope, including inside module-level if/try/with/for."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if children:
                stack.extend(reversed(children))
        if isinstance(node, (ast.ExceptHandler, ast.match_case)):
            stack.extend(reversed(node.body))


def analyze(source: bytes, matcher: Matcher, module: str | None,
            is_package: bool) -> tuple[list[Hit], str | None]:
    """Every reference in one file; or ``([], "SyntaxError: ...")`` when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return [], f"{type(exc).__name__}: {exc.msg}{where}"
    except (ValueError, UnicodeDecodeError, MemoryError, RecursionError) as exc:
        return [], f"{type(exc).__name__}: {exc}"
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    docstrings = _docstring_ids(tree)
    hits: list[Hit] = []

    # Statements and the expressions they hold, iteratively (deep code must not recurse).
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, stmt_line = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                line = child.lineno
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        for e in matcher.for_module(alias.name):
                            hits.append(Hit(e, "import", line, line))
                elif isinstance(child, ast.ImportFrom):
                    target = _resolve_relative(child.level, child.module, package)
                    if target:
                        names = [a.name for a in child.names]
                        for e in matcher.for_from(target, names):
                            hits.append(Hit(e, "import", line, line))
                stack.append((child, line))
            elif isinstance(child, ast.JoinedStr):
                # An f-string's fragments are not string literals; one without any
                # placeholder is a plain string.
                parts = child.values
                if all(isinstance(v, ast.Constant) for v in parts):
                    text = "".join(v.value for v in parts)  # type: ignore[attr-defined]
                    for e in matcher.for_string(text):
                        hits.append(Hit(e, "string", child.lineno, stmt_line))
                stack.extend((v, stmt_line) for v in parts if isinstance(v, ast.FormattedValue))
            else:
                if (isinstance(child, ast.Constant) and isinstance(child.value, str)
                        and id(child) not in docstrings):
                    for e in matcher.for_string(child.value):
                        hits.append(Hit(e, "string", child.lineno, stmt_line))
                stack.append((child, stmt_line))

    if matcher.definitions and isinstance(tree, ast.Module):
        for node in _module_level_defs(tree.body):
            for e in matcher.for_definition(node.name, module):  # type: ignore[attr-defined]
                hits.append(Hit(e, "definition", node.lineno, node.lineno))

    if hits:
        marks = pragmas(source)
        if marks:
            hits = [h for h in hits if not _suppressed(h, marks)]
    hits.sort(key=lambda h: (h.line, h.entry.contract, str(h.entry.path)))
    return hits, None


def _suppressed(hit: Hit, marks: dict[int, frozenset[str] | None]) -> bool:
    if hit.stmt_line not in marks:
        return False
    names = marks[hit.stmt_line]
    return names is None or hit.entry.contract in names
