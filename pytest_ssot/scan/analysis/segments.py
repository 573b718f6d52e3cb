"""Where references' text, lines and ``# ssot: ignore`` pragmas come from (SPEC 5).

``Segments`` decodes a file's lines only when it holds a reference; ``Text`` says where a
node's text and line come from (the file, or the code inside a string annotation).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

__all__ = ["IDENT_ESCAPES", "Segments", "Text", "pragmas"]

_PRAGMA = re.compile(r"#\s*ssot:\s*ignore(?:\[([^\]]*)\])?")
# Escapes that can spell an identifier character or a dot inside a string literal.
IDENT_ESCAPES = re.compile(
    rb"\\(?:x(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|u00(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])"
    rb"|U0000(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|N\{|[0-7]{2,3})")


def _comments(source: bytes, lexed: "tuple | None") -> "list[tuple[int, str]]":
    """``(line, text)`` of every comment. From the lexer's spans when they are trusted
    and lines end in ``\n`` (``lexed`` is then given), else from ``tokenize``."""
    if lexed is not None:
        out = []
        line = 1
        last = 0
        for start, end, kind in lexed[1]:
            if kind == b"#" and b"ssot:" in source[start:end]:
                line += source.count(b"\n", last, start)
                last = start
                out.append((line, source[start:end].decode("utf-8", "replace")))
        return out
    try:
        return [(tok.start[0], tok.string)
                for tok in tokenize.tokenize(io.BytesIO(source).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return []  # the parse error is reported by analyze()


def pragmas(source: bytes, lexed: "tuple | None" = None
            ) -> dict[int, frozenset[str] | None]:
    """``{line: None (all contracts) | {names}}`` for real ``# ssot: ignore`` comments."""
    if b"ssot:" not in source:
        return {}
    found: dict[int, frozenset[str] | None] = {}
    for line, comment in _comments(source, lexed):
        m = _PRAGMA.search(comment)
        if not m:
            continue
        if m.group(1) is None:
            found[line] = None
        elif found.get(line, frozenset()) is not None:
            names = frozenset(n.strip() for n in m.group(1).split(",") if n.strip())
            found[line] = (found.get(line) or frozenset()) | names
    return found


class Segments:
    """The source text of nodes, decoded once and only when a file holds a reference."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._lines: list[bytes] | None = None

    def _get_lines(self) -> list[bytes]:
        if self._lines is None and self._source.isascii():
            self._ascii_lines()
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

    def _ascii_lines(self) -> None:
        """ASCII decodes to itself whatever the coding line says: only the line ends are
        made ``\n``, as Python reads them."""
        self._lines = self._source.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")

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


class Text:
    """Where a node's text and line come from: the file, or the code inside a string
    annotation (whose references are reported at the string's first line)."""

    def __init__(self, segments: Segments, line: int | None = None) -> None:
        self.segments = segments
        self.fixed = line

    def line(self, node: ast.AST) -> int:
        return self.fixed if self.fixed is not None else node.lineno  # type: ignore[attr-defined]

    def text(self, node: ast.AST) -> str:
        return self.segments.text(node)
