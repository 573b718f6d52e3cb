"""Comments, string literals and statement starts found in raw bytes, at C speed.

Pure: no pytest. Two users: the pre-filter asks whether a word sits in a comment or a
plain string; the analysis asks where the statements of a file start (at the top level,
and in a top-level class's body), so that it parses only those that can matter
(``analysis.analyze``). Neither trusts this lexer
blindly: where it can be wrong (Python 3.12's f-strings may hold their own quote) it says
so, and the callers fall back to the parser.
"""

from __future__ import annotations

import re
import sys

__all__ = ["TOKENS", "PREFIX_BYTES", "NOT_BRACKETS", "literal_kind", "fstring_closed", "tokens",
           "masked_code", "statement_starts", "starts_at", "ascii_compatible"]

# Comments and string literals, leftmost first. Every alternative starts with a literal
# byte (``#``, a quote) so the engine skips ahead to those bytes; a string's prefix letters
# are read back from the bytes before its quote (``literal_kind``). The loops are unrolled
# (``[^"\\]*(?:\\.[^"\\]*)*``): an alternation per byte is several times slower. A string
# left open at a line end (single quotes) or at the end of the file ends there.
TOKENS = re.compile(
    rb"(?=[#'\"])(?:"  # the first byte told at once: the engine skips to the next candidate
    rb"(#[^\r\n]*)"
    rb"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"
    rb'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    rb"|'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*(?:'|(?=[\r\n])|\Z)"
    rb'|"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*(?:"|(?=[\r\n])|\Z))',
    re.S)
PREFIX_BYTES = frozenset(b"rRbBuUfF")
_IDENTIFIER_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
                              + bytes(range(128, 256)))

# Python 3.12 (PEP 701) lets an f-string's replacement fields hold its own quote; before,
# an f-string was lexed like any string and parsed afterwards.
_NESTED_QUOTES = sys.version_info >= (3, 12)
_FSTRING_MARKS = re.compile(rb"[{}'\"]")


def literal_kind(data: bytes, quote_at: int) -> int:
    """Where the literal whose quote is at ``quote_at`` starts (its prefix letters). Letters
    that end a longer word are not a prefix: ``if"..."``, ``or"..."`` are a keyword and a
    plain string."""
    k = quote_at
    while k > 0 and quote_at - k < 2 and data[k - 1] in PREFIX_BYTES:
        k -= 1
    if k < quote_at and k > 0 and data[k - 1] in _IDENTIFIER_BYTES:
        return quote_at
    return k


def fstring_closed(text: bytes) -> bool:
    """Is the lexed f-string ``text`` (prefix, quotes and all) surely whole? On Python
    3.12+ the lexer cuts it at the first quote like its own, even one inside a
    replacement field; then a field is still open where the text ends. Strings nested in
    fields (in the other quotes) are skipped; a field left open, or braces that do not
    pair, make it unsure."""
    if not _NESTED_QUOTES:
        return True
    body = text.lstrip(b"rRbBuUfF")
    q = body[:1]
    depth = 0
    pos = len(text) - len(body) + 1
    while True:
        m = _FSTRING_MARKS.search(text, pos)
        if m is None:
            return depth == 0
        ch = m.group()
        i = m.start()
        pos = i + 1
        if ch == b"{":
            if depth == 0 and text[i + 1:i + 2] == b"{":
                pos = i + 2  # ``{{``: a literal brace
            else:
                depth += 1
        elif ch == b"}":
            if depth > 0:
                depth -= 1
            elif text[i + 1:i + 2] == b"}":
                pos = i + 2
            else:
                return False  # a lone ``}``: not an f-string the lexer can vouch for
        elif depth > 0:
            if ch == q:
                return False  # its own quote inside a field: the lexer cut it there
            close = text.find(ch, i + 1)  # a string in the other quotes, inside a field
            if close < 0:
                return False
            pos = close + 1


_SPACES = b" " * 4096


_LINE_START = re.compile(rb"^[^ \t\f\r\n]", re.M)
NOT_BRACKETS = bytes(b for b in range(256) if b not in b"()[]{}")  # translate() drops these
_CLAUSES = re.compile(rb"(?:else|elif|except|finally)(?![A-Za-z0-9_])")


_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_TWO_LINES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?[^\r\n]*")
_ASCII_SUPERSETS = re.compile(r"^(utf[-_]?8(?:[-_]sig)?|ascii|us[-_]ascii|latin[-_]?1|"
                              r"iso[-_]?8859[-_]?\d+|cp125\d|windows[-_]125\d|l\d|"
                              r"iso[-_]latin[-_]\d)$", re.IGNORECASE)


def ascii_compatible(source: bytes) -> bool:
    """Is every ASCII byte of ``source`` the character it looks like? Its encoding (PEP
    263's coding line, else UTF-8) is an ASCII superset. The coding line is looked for in
    the first two lines, however long."""
    m = _TWO_LINES.match(source)
    head = m.group() if m else source
    if b"coding" not in head:
        return True
    m = _CODING.search(b"\n".join(head.splitlines()))
    return m is None or bool(_ASCII_SUPERSETS.match(m.group(1).decode("ascii", "replace")))


Span = tuple  # (start: the prefix or ``#``, end, kind: b"#" or the prefix in lower case)


def tokens(source: bytes) -> tuple[list[int], list[Span], bool]:
    """Comments and literals, in order: ``(starts, spans, trusted)``. ``trusted`` is
    ``False`` when an f-string may have been cut (``fstring_closed``): then the spans may
    be wrong anywhere after it."""
    starts: list[int] = []
    spans: list[Span] = []
    trusted = True
    for m in TOKENS.finditer(source):
        start, end = m.span()
        if source[start] == 35:  # ``#``
            kind = b"#"
        elif start and source[start - 1] in PREFIX_BYTES:
            k = literal_kind(source, start)
            kind = source[k:start].lower()
            if (trusted and b"f" in kind and b"{" in source[start:end]
                    and not fstring_closed(source[k:end])):
                trusted = False
            start = k
        else:
            kind = b""
        starts.append(start)
        spans.append((start, end, kind))
    return starts, spans, trusted


def masked_code(source: bytes, lexed: tuple[list[int], list[Span], bool] | None = None
                ) -> bytes | None:
    """``source`` with comments and literals blanked out, newlines too: what is left is
    code, and a line start inside a literal is no line start. A literal keeps one mark
    (``_``): a line that starts with a literal (a docstring) starts with something. Same
    length as ``source``. ``None`` when the lexer is not trusted on this file (an f-string
    it may have cut, Python 3.12+). ``lexed``: what ``tokens`` gave, if known."""
    _starts, spans, trusted = lexed if lexed is not None else tokens(source)
    if not trusted:
        return None
    parts = []
    last = 0
    for start, end, kind in spans:
        parts.append(source[last:start])
        n = end - start
        blank = _SPACES[:n] if n <= len(_SPACES) else b" " * n
        parts.append(blank if kind == b"#" else b"_" + blank[1:])
        last = end
    parts.append(source[last:])
    return b"".join(parts)


def statement_starts(source: bytes, lexed: tuple[list[int], list[Span], bool] | None = None
                     ) -> list[int] | None:
    """Byte offsets where the file's top-level statements start (a decorated definition
    at its first decorator; ``else``/``except``/... clauses stay with their statement),
    in order. ``None`` when the lexer cannot be sure: brackets that do not pair, or an
    f-string it may have cut (Python 3.12+). Only column-0 lines outside literals,
    comments, brackets and backslash continuations start a statement. ``lexed``: what
    ``tokens`` gave for this source, when it is known already."""
    masked = masked_code(source, lexed)
    if masked is None:
        return None
    return starts_at(masked, 0, len(masked), b"")


def starts_at(masked: bytes, start: int, end: int, indent: bytes) -> list[int] | None:
    """Where the statements indented by exactly ``indent`` start in ``masked[start:end]``
    (``masked_code``; brackets counted from ``start``, where none may be open). ``None``
    when brackets do not pair there."""
    pattern = _LINE_START if not indent else re.compile(
        rb"^" + re.escape(indent) + rb"[^ \t\f\r\n]", re.M)
    width = len(indent)
    starts: list[int] = []
    depth = 0
    last = start
    after_decorator = False
    for m in pattern.finditer(masked, start, end):
        p = m.start()
        seg = masked[last:p].translate(None, NOT_BRACKETS)
        last = p
        depth += len(seg) - 2 * (seg.count(b")") + seg.count(b"]") + seg.count(b"}"))
        if depth < 0:
            return None
        if depth > 0:
            continue
        if p >= 2 and masked[p - 2] == 92 or p >= 3 and masked[p - 3:p] == b"\\\r\n":
            continue  # after a backslash continuation: the same logical line
        q = p + width
        if after_decorator:  # the decorated definition, or one more decorator
            after_decorator = masked[q] == 64
            continue
        if _CLAUSES.match(masked, q):
            continue  # ``else:``, ``except ...:``: part of the statement above
        after_decorator = masked[q] == 64
        starts.append(p)
    seg = masked[last:end].translate(None, NOT_BRACKETS)
    depth += len(seg) - 2 * (seg.count(b")") + seg.count(b"]") + seg.count(b"}"))
    return starts if depth == 0 else None  # brackets left open: the parser will say
