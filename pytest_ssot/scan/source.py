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
from bisect import bisect_left

from .rules import Hit, Matcher

__all__ = ["analyze", "candidate_lines", "pragmas"]

_PRAGMA = re.compile(r"#\s*ssot:\s*ignore(?:\[([^\]]*)\])?")
# Escapes that can spell an identifier character or a dot inside a string literal.
IDENT_ESCAPES = re.compile(
    rb"\\(?:x(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|u00(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])"
    rb"|U0000(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|N\{|[0-7]{2,3})")


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


class Segments:
    """The source text of nodes, decoded once and only when a file holds a reference."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._lines: list[bytes] | None = None

    def _get_lines(self) -> list[bytes]:
        if self._lines is None:
            import importlib.util

            try:
                text = importlib.util.decode_source(self._source)
            except (SyntaxError, UnicodeDecodeError, LookupError, ValueError):
                text = self._source.decode("utf-8", "replace")
            # ast's columns are UTF-8 byte offsets in the decoded line; decode_source has
            # made every line end a \n already.
            self._lines = [ln.encode("utf-8", "surrogatepass") for ln in text.split("\n")]
        return self._lines

    def text(self, node: ast.AST) -> str:
        """The node's source with runs of whitespace collapsed to one space."""
        first, last = node.lineno, node.end_lineno  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if last is None or end is None:
            return ""
        lines = self._get_lines()
        if first == last:
            raw = lines[first - 1][start:end]
        else:
            raw = b"\n".join([lines[first - 1][start:], *lines[first:last - 1],
                               lines[last - 1][:end]])
        # A backslash-newline joins lines: it is whitespace too.
        return " ".join(raw.replace(b"\\\n", b" ").decode("utf-8", "replace").split())


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


def candidate_lines(source: bytes, words: "re.Pattern[bytes]") -> list[int] | None:
    """Lines holding one of the entries' words; ``None`` means "look everywhere".

    Every reference of SPEC 5 spells its word on a line inside its own statement (an
    import's names, a string's text, a definition's name), so statements whose line
    range holds none of these lines cannot hold a reference. Sources where that proof
    does not hold (escapes that spell letters, non-ASCII identifiers, lone CR line ends)
    get ``None``.
    """
    if not source.isascii() or (b"\\" in source and IDENT_ESCAPES.search(source)):
        return None
    if b"\r" in source and b"\r" in source.replace(b"\r\n", b""):
        return None
    lines = []
    last_pos, last_line = 0, 1
    for m in words.finditer(source):
        last_line += source.count(b"\n", last_pos, m.start())
        last_pos = m.start()
        if not lines or lines[-1] != last_line:
            lines.append(last_line)
    return lines


def analyze(source: bytes, matcher: Matcher, module: str | None, is_package: bool,
            lines: list[int] | None = None) -> tuple[list[Hit], str | None]:
    """Every reference in one file; or ``([], "SyntaxError: ...")`` when it does not parse.

    ``lines``: only statements spanning one of these lines are visited (see
    ``candidate_lines``); ``None`` visits everything.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return [], f"{type(exc).__name__}: {exc.msg}{where}"
    except (ValueError, UnicodeDecodeError, MemoryError, RecursionError) as exc:
        return [], f"{type(exc).__name__}: {exc}"
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    hits: list[Hit] = []
    segments = Segments(source)

    if lines is None:
        def relevant(node: ast.AST) -> bool:
            return True
    else:
        if not lines:
            return [], None

        def relevant(node: ast.AST) -> bool:
            first = getattr(node, "lineno", None)
            if first is None:
                return True
            i = bisect_left(lines, first)
            return i < len(lines) and lines[i] <= (node.end_lineno or first)  # type: ignore[attr-defined]

    def strings(node: ast.AST, stmt_line: int) -> None:
        """String literals inside one expression tree (no statements in there)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Constant):
                if isinstance(n.value, str):
                    for e in matcher.for_string(n.value):
                        hits.append(Hit(e, "string", n.lineno, stmt_line, segments.text(n)))
                continue
            if isinstance(n, ast.JoinedStr):
                # An f-string's fragments are not string literals; one without any
                # placeholder is a plain string.
                if all(isinstance(v, ast.Constant) for v in n.values):
                    text = "".join(v.value for v in n.values)  # type: ignore[attr-defined]
                    for e in matcher.for_string(text):
                        hits.append(Hit(e, "string", n.lineno, stmt_line,
                                        segments.text(n)))
                stack.extend(v for v in n.values if isinstance(v, ast.FormattedValue))
                continue
            for child in ast.iter_child_nodes(n):
                if relevant(child):
                    stack.append(child)

    # (statements, is a scope body whose first string is a docstring, is module scope)
    blocks: list[tuple[list, bool, bool]] = [(tree.body, True, True)]
    while blocks:
        body, has_doc, module_scope = blocks.pop()
        for index, stmt in enumerate(body):
            if not relevant(stmt):
                continue
            line = stmt.lineno
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    for e in matcher.for_module(alias.name):
                        hits.append(Hit(e, "import", line, line, segments.text(stmt)))
                continue
            if isinstance(stmt, ast.ImportFrom):
                target = _resolve_relative(stmt.level, stmt.module, package)
                if target:
                    for e in matcher.for_from(target, [a.name for a in stmt.names]):
                        hits.append(Hit(e, "import", line, line, segments.text(stmt)))
                continue
            if (index == 0 and has_doc and isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                continue  # a docstring
            is_def = isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            if is_def and module_scope:
                for e in matcher.for_definition(stmt.name, module):  # type: ignore[union-attr]
                    header = "class" if isinstance(stmt, ast.ClassDef) else "def"
                    hits.append(Hit(e, "definition", line, line,
                                    f"{header} {stmt.name}"))  # type: ignore[union-attr]
            for name, value in ast.iter_fields(stmt):
                if name in ("body", "orelse", "finalbody"):
                    if value:
                        blocks.append((value, is_def and name == "body",
                                       module_scope and not is_def))
                elif name == "handlers":
                    for h in value:
                        if relevant(h):
                            if h.type is not None:
                                strings(h.type, h.lineno)
                            blocks.append((h.body, False, module_scope))
                elif name == "cases":
                    for case in value:
                        for part in (case.pattern, case.guard):
                            if part is not None and relevant(part):
                                strings(part, line)
                        blocks.append((case.body, False, module_scope))
                elif isinstance(value, list):
                    for v in value:
                        if isinstance(v, ast.AST) and relevant(v):
                            strings(v, line)
                elif isinstance(value, ast.AST) and relevant(value):
                    strings(value, line)

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
