"""Which statements provably hold nothing of interest for the analysis (``Skipper``), and
the source with only the top-level statements that matter left to parse (``Parts``)."""

from __future__ import annotations

import ast
import bisect
import re
from typing import Callable

from ..lexer import NOT_BRACKETS, ascii_compatible, masked_code, starts_at
from .names import DEFS
from .segments import IDENT_ESCAPES

__all__ = ["Parts", "Skipper"]


class Skipper:
    """Which statements provably hold nothing of interest: their lines spell none of a
    set of names as a whole word. Where the bytes may spell a name otherwise than the
    parser reads it (an escape that spells a letter in a literal, a non-ASCII character
    that NFKC may turn into one) the place counts as spelling every name. Made for
    sources in an ASCII-compatible encoding whose lines end in ``\n`` (``\r\n``
    too); other files get no skipping (same answer, slower)."""

    __slots__ = ("source", "wild", "_offsets", "_sets", "_lines")

    def __init__(self, source: bytes, wild: list[int]) -> None:
        self.source = source
        self.wild = wild  # where any name may be spelled
        self._offsets: dict[str, list[int]] = {}  # name -> where it is a whole word
        self._sets: dict[frozenset[str], list[int]] = {}
        self._lines: dict[frozenset[str], list[int]] = {}

    @classmethod
    def make(cls, source: bytes) -> "Skipper | None":
        if b"\r" in source and b"\r" in source.replace(b"\r\n", b""):
            return None  # lone CR line ends: lines are not counted by ``\n``
        wild: list[int] = []
        if b"\\" in source:
            wild += [m.start() for m in IDENT_ESCAPES.finditer(source)]
            # a backslash-newline inside a literal may cut a name in two
            wild += [m.start() for m in _CUT.finditer(source)
                     if m.start() and source[m.start() - 1] in _PATH]
        if not ascii_compatible(source):  # (UTF-7 is all ASCII bytes)
            return None
        if not source.isascii():
            wild += [m.start() for m in _NON_ASCII.finditer(source)]
        return cls(source, wild)

    def offsets(self, names: "set[str] | frozenset[str]") -> list[int]:
        """Where any of ``names`` stands as a whole word, in order."""
        key = frozenset(names)
        got = self._sets.get(key)
        if got is None:
            got = self._sets[key] = self._find(key)
        return got

    def _find(self, names: frozenset[str]) -> list[int]:
        source = self.source
        size = len(source)
        out: list[int] = list(self.wild) if names else []
        for name in names:
            found = self._offsets.get(name)
            if found is None:
                found = []
                word = name.encode()
                n = len(word)
                pos = source.find(word)
                while pos >= 0:
                    end = pos + n
                    if ((pos == 0 or source[pos - 1] not in _IDENT)
                            and (end >= size or source[end] not in _IDENT)):
                        found.append(pos)
                    pos = source.find(word, end)
                self._offsets[name] = found
            out += found
        out.sort()
        return out

    def lines(self, names: "set[str] | frozenset[str]") -> list[int]:
        """The lines where any of ``names`` stands as a whole word, in order."""
        key = frozenset(names)
        lines = self._lines.get(key)
        if lines is None:
            lines = []
            line = 1
            last = 0
            count = self.source.count
            for pos in self.offsets(key):
                line += count(b"\n", last, pos)
                last = pos
                lines.append(line)
            self._lines[key] = lines
        return lines

    def without(self, names: "set[str] | frozenset[str]",
                binders: "set[str] | frozenset[str] | None" = None
                ) -> Callable[[ast.stmt], bool]:
        """``skip(stmt)``: ``True`` when the statement's lines spell none of ``names``
        and, with ``binders``, do not spell one of them together with ``import``,
        ``global`` or ``nonlocal`` (such a statement may bind a name the walk needs)."""
        spelled = self.lines(names)
        binding = self.lines(binders) if binders else []
        keyword = self.lines(_BINDING_KEYWORDS) if binding else []
        after = bisect.bisect_left
        defs = DEFS
        pass_ = ast.Pass

        def has(lines: list[int], first: int, last: int) -> bool:
            i = after(lines, first)
            return i < len(lines) and lines[i] <= last

        def skip(stmt: ast.stmt) -> bool:
            if type(stmt) is pass_:
                return True  # holds nothing (and stands for every statement not parsed)
            try:
                first = stmt.lineno
            except AttributeError:
                return False  # made up by us (a lambda's body), or a ``case``
            if type(stmt) in defs and stmt.decorator_list:  # type: ignore[attr-defined]
                first = min(first, *(d.lineno for d in stmt.decorator_list))  # type: ignore[attr-defined]
            last = stmt.end_lineno or first
            if has(spelled, first, last):
                return False
            return not (binding and has(binding, first, last) and has(keyword, first, last))

        return skip


class Parts:
    """A file's top-level statements (and the statements of top-level class bodies), so
    that only those spelling names of interest are parsed. The others would be skipped by
    the walk anyway (``Skipper``): they become ``pass`` on their first line and blank
    lines after, at their own indentation, so that the lines and columns of what is
    parsed are those of the file (and a string that was not first stays not first: no
    new docstring). Made only for sources the skipper trusts."""

    __slots__ = ("source", "masked", "starts", "skipper", "dropped", "_bodies")

    def __init__(self, source: bytes, masked: bytes, starts: list[int],
                 skipper: Skipper) -> None:
        self.source = source
        self.masked = masked
        self.starts = starts
        self.skipper = skipper
        self.dropped: list[tuple[int, int]] = []  # (start, end) made ``pass``, in order
        self._bodies: dict[int, tuple[bytes, list[int]] | None] = {}

    @classmethod
    def make(cls, source: bytes, skipper: Skipper, lexed: tuple) -> "Parts | None":
        masked = masked_code(source, lexed)
        if masked is None:
            return None
        starts = starts_at(masked, 0, len(masked), b"")
        return cls(source, masked, starts, skipper) if starts else None

    def _body(self, i: int, end: int) -> tuple[bytes, list[int]] | None:
        """Top-level statement ``i`` when it is a class with an indented body: the body's
        indentation and where its statements start."""
        if i not in self._bodies:
            self._bodies[i] = _class_body(self.masked, self.starts[i], end)
        return self._bodies[i]

    def keeping(self, names: "set[str] | frozenset[str]",
                binders: "set[str] | frozenset[str]") -> bytes:
        """The source with every top-level statement, and every statement of a top-level
        class's body, made ``pass`` that spells none of ``names`` and does not spell one
        of ``binders`` with ``import``, ``global`` or ``nonlocal`` (``Skipper.without``).
        """
        spelled = self.skipper.offsets(names)
        binding = self.skipper.offsets(binders)
        keyword = self.skipper.offsets(_BINDING_KEYWORDS)

        def wanted(a: int, b: int) -> bool:
            return _within(spelled, a, b) or (_within(binding, a, b)
                                               and _within(keyword, a, b))

        source = self.source
        starts = self.starts
        dropped: list[tuple[int, int]] = []
        out = [source[:starts[0]]]  # comments and blank lines before the first statement
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(source)
            if not wanted(start, end):
                out.append(b"pass" + b"\n" * source.count(b"\n", start, end))
                dropped.append((start, end))
                continue
            body = self._body(i, end)
            if body is None:
                out.append(source[start:end])
                continue
            indent, inner = body
            out.append(source[start:inner[0]])  # the header (decorators, class line)
            for j, a in enumerate(inner):
                b = inner[j + 1] if j + 1 < len(inner) else end
                if wanted(a, b):
                    out.append(source[a:b])
                else:
                    out.append(indent + b"pass" + b"\n" * source.count(b"\n", a, b))
                    dropped.append((a, b))
        self.dropped = dropped
        return b"".join(out)

    def left_out(self, names: "set[str] | frozenset[str]") -> bool:
        """Does a statement left out of the last ``keeping`` spell one of ``names``?"""
        dropped = self.dropped
        if not dropped:
            return False
        firsts = [a for a, _b in dropped]
        for pos in self.skipper.offsets(names):
            k = bisect.bisect_right(firsts, pos) - 1
            if k >= 0 and pos < dropped[k][1]:
                return True
        return False


def _within(offsets: list[int], a: int, b: int) -> bool:
    """Is one of the sorted ``offsets`` in ``[a, b)``?"""
    k = bisect.bisect_left(offsets, a)
    return k < len(offsets) and offsets[k] < b


_CLASS_LINE = re.compile(rb"^class[ \t\\]", re.M)
_INDENTED = re.compile(rb"^([ \t]+)[^ \t\f\r\n]", re.M)


def _class_body(masked: bytes, start: int, end: int) -> tuple[bytes, list[int]] | None:
    """When ``masked[start:end]`` (one top-level statement) is a class whose body is on
    lines of its own: ``(indentation, where each body statement starts)``."""
    head = _CLASS_LINE.search(masked, start, end)
    if head is None:
        return None
    depth = 0
    last = head.start()
    for m in _INDENTED.finditer(masked, head.start(), end):
        p = m.start()
        seg = masked[last:p].translate(None, NOT_BRACKETS)
        last = p
        depth += len(seg) - 2 * (seg.count(b")") + seg.count(b"]") + seg.count(b"}"))
        if depth != 0:
            continue  # the header's brackets (``class A(\n    Base,\n):``)
        if p >= 2 and masked[p - 2] == 92 or p >= 3 and masked[p - 3:p] == b"\\\r\n":
            continue
        indent = m.group(1)
        inner = starts_at(masked, p, end, indent)
        return (indent, inner) if inner else None
    return None


_IDENT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_CUT = re.compile(rb"\\(?:\r\n|\n)(?=[A-Za-z0-9_.])")
_PATH = _IDENT | {ord(".")}
# Statements that bind names across statements: an import binds a module, ``global`` and
# ``nonlocal`` make a function's binding another scope's.
_BINDING_KEYWORDS = frozenset({"import", "global", "nonlocal"})
