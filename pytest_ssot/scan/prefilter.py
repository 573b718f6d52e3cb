"""The byte-level pre-filter: which files can reference a declared path at all.

Pure: no pytest. ``Filter.needs_parse`` answering ``False`` is a proof; every other file goes
to the parser (``analysis.analyze``), which also reports files that do not decode or parse.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

from .files import module_name, read_source
from .fingerprint import rows
from . import lexer
from .lexer import PREFIX_BYTES
from .rules import Matcher
from .analysis import IDENT_ESCAPES, IMPORT_LIKE, analyze

__all__ = ["Filter"]


_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_PATH_BYTES = _IDENT_BYTES | {ord(".")}
_STRING_END = (b'"', b"'", b".", b"\\")


def _anchors(words: list[bytes], size: int = 5) -> list[bytes]:
    """Few substrings such that every word contains one: a file holding none of them holds
    no word (one fast ``find`` each instead of one per word). Greedy cover."""
    left = set(words)
    out: list[bytes] = []
    while left:
        pieces: dict[bytes, set[bytes]] = {}
        for w in left:
            for i in range(max(1, len(w) - size + 1)):
                pieces.setdefault(w[i:i + size], set()).add(w)
        best = max(sorted(pieces), key=lambda p: len(pieces[p]))
        out.append(best)
        left -= pieces[best]
    return out


_QUOTES = frozenset(b"\"'")
_SPACE = frozenset(b" \t\r\n\\\f")
_LIST_BYTES = _PATH_BYTES | _SPACE | frozenset(b",()")


# What may stand between two pieces of one literal (``"a" "b"``), comments aside.
_GAP = b" \t\f\r\n\\"
_LINE_END = re.compile(rb"\r\n?|\n")
_IMPORT = re.compile(rb"import")
_LIST_START = {bytes([b]) for b in b" \t\r\n\\\f("}
# An import's name list: names, dots, commas, brackets, spaces, continuations, comments.
_NAME_LIST = re.compile(rb"(?:[\w.,() \t\r\n\\\f]|#[^\r\n]*)*")
# Spaces and backslash continuations only: the same logical line outside brackets.
_CONTINUED_GAP = re.compile(rb"(?:[ \t\f]*\\(?:\r\n|\r|\n))*[ \t\f]*")
_PATH_TABLE = bytes(sorted(_PATH_BYTES))
_CONTINUATION = re.compile(rb"\\(?:\r\n|\r|\n)")

class _Word:
    """What the entries ending in one word need around it (``c``: the entry's parent's last
    name, ``None`` for a single-identifier module; ``definition``: ``class w`` counts)."""

    __slots__ = ("word", "parents", "single", "definition", "packages")

    def __init__(self, word: bytes) -> None:
        self.word = word
        self.parents: set[bytes] = set()
        self.single = False
        self.definition = False
        self.packages: set[str] = set()  # top-level packages of the canonicals named so




def _ident_before(data: bytes, end: int) -> tuple[bytes, int]:
    """The identifier ending at ``end`` (after skipping spaces, newlines, continuations),
    and where it starts; ``b""`` when the byte there is no identifier byte."""
    i = end
    while i > 0 and data[i - 1] in _SPACE:
        i -= 1
    j = i
    while j > 0 and data[j - 1] in _IDENT_BYTES:
        j -= 1
    return data[j:i], j


def _unescape(m: "re.Match[bytes]") -> bytes:
    """An escape (``IDENT_ESCAPES``) as the character it spells, when that is an
    identifier character or a dot; else as written."""
    esc = m.group()
    if esc[1:2] in (b"x", b"u", b"U"):
        code = int(esc[2:], 16)
    elif esc[1:2].isdigit():
        code = int(esc[1:], 8)
    else:
        return esc
    return bytes([code]) if code < 128 and code in _PATH_BYTES else esc


_AS_PATTERNS: dict[bytes, "re.Pattern[bytes]"] = {}
# calls whose first argument names a module (``analysis.IMPORT_LIKE``)
_IMPORT_CALLS = frozenset(n.encode() for n in IMPORT_LIKE)
# a backslash-newline with a path byte right after it (and, checked apart, right before)
_CUT = re.compile(rb"\\(?:\r\n|\r|\n)(?=[A-Za-z0-9_.])")


def _whole(text: bytes, word: bytes) -> list[int]:
    """Where ``word`` stands in ``text`` with no identifier byte on either side."""
    out = []
    n = len(word)
    pos = text.find(word)
    while pos >= 0:
        end = pos + n
        if ((pos == 0 or text[pos - 1] not in _IDENT_BYTES)
                and (end >= len(text) or text[end] not in _IDENT_BYTES)):
            out.append(pos)
        pos = text.find(word, pos + 1)
    return out


class _FileWords:
    """One file's bytes, with what the rules ask of them computed once."""

    __slots__ = ("data", "_module", "words", "_aliases", "_spans", "_trusted", "_depths",
                 "_memo")

    def __init__(self, data: bytes, module: "str | None | Callable[[], str | None]" = None,
                 words: "list[_Word] | None" = None) -> None:
        self.data = data
        self._module = module  # (or how to know it) a definition needs the canonical's package
        self.words = words or []
        self._aliases: dict[bytes, set[bytes]] = {}
        self._spans: tuple[list[int], list[tuple[int, int, bytes]], bool] | None = None
        self._trusted = True
        self._depths: list[int] | None = None
        # Per file, computed once when first asked: the same question asked for every
        # word must not cost a pass over the file each time (a 4 MB file of the words).
        self._memo: dict = {}

    @property
    def module(self) -> str | None:
        """The file's module name, when known: worked out only if a ``class``/``def`` of a
        word asks (most files never do)."""
        if callable(self._module):
            self._module = self._module()
        return self._module

    def line_start(self, pos: int) -> int:
        """Where the physical line holding ``pos`` starts (after ``\n`` or ``\r``)."""
        data = self.data
        lo = max(0, pos - 4096)
        line = max(data.rfind(b"\n", lo, pos), data.rfind(b"\r", lo, pos)) + 1
        if line or not lo:
            return line
        # A line longer than the window: the line ends of the file, listed once.
        import bisect

        ends = self._memo.get("line ends")
        if ends is None:
            ends = self._memo["line ends"] = [m.end() for m in _LINE_END.finditer(data)]
        k = bisect.bisect_right(ends, pos) - 1
        return ends[k] if k >= 0 else 0

    def comment_before(self, start: int) -> bool:
        """A ``#`` earlier on the same line with no quote before the word on that line: the
        ``#`` opens a comment, or sits in a string that is still open at the word (a string
        holding ``#`` before the word cannot be a dotted path)."""
        line = self.line_start(start)
        if start - line <= 256:
            head = self.data[line:start]
            return b"#" in head and b'"' not in head and b"'" not in head
        # A long line: where its first ``#`` and its first quote are, found once per line.
        firsts = self._memo.get(("firsts", line))
        if firsts is None:
            data = self.data
            n = len(data)
            ends = [k for k in (data.find(b"\n", line), data.find(b"\r", line)) if k >= 0]
            end = min(ends) if ends else n
            found = [data.find(b, line, end) for b in (b"#", b'"', b"'")]
            hash_, dq, sq = (k if k >= 0 else n for k in found)
            firsts = self._memo[("firsts", line)] = (hash_, min(dq, sq))
        return firsts[0] < start <= firsts[1]

    def enclosing_token(self, pos: int) -> tuple[int, int, bytes] | None:
        """``(start, end, kind)`` of the comment (kind ``b"#"``) or string literal (kind:
        its prefix, lower case) that holds ``pos``, or ``None`` in code."""
        starts, spans = self._tokens()
        if not self._trusted:
            return (0, len(self.data), b"f")  # all of it may be code
        import bisect

        k = bisect.bisect_right(starts, pos) - 1
        if k >= 0 and spans[k][0] <= pos < spans[k][1]:
            return spans[k]
        return None

    def _tokens(self) -> tuple[list[int], list[tuple[int, int, bytes]]]:
        """Comments and literals as ``(starts, [(start, end, kind)])``, lexed once; kind
        ``b"#"`` for a comment, else the literal's prefix in lower case."""
        if self._spans is None:
            self._spans = lexer.tokens(self.data)
            # Python 3.12 lets an f-string's braces hold its own quote: this lexer may
            # have cut it there. Trust nothing it says about this file then.
            self._trusted = self._spans[2]
        return self._spans[0], self._spans[1]

    def lexed(self) -> "tuple[list[int], list[tuple[int, int, bytes]], bool] | None":
        """What the lexer said of this file, if it was asked (the parser's side reuses
        it)."""
        return self._spans

    def code_or_annotation(self, w: "_Word", pos: int, prev: bytes) -> bool:
        """A word that looks like code at ``pos`` (after ``prev.``): still a reference only
        if it is code, or code inside a string annotation."""
        token = self.enclosing_token(pos)
        if token is None or b"f" in token[2]:
            return True
        if token[2] == b"#" or b"b" in token[2]:
            return False
        if self._has_backslash(token):
            return True  # an escape or a continuation may leave only a dotted path
        if self.joined_before(token[0]):
            return self.pieces_live(pos)  # annotation code is read from the first piece
        return self._annotation_like(token[0])

    def _has_backslash(self, token: tuple[int, int, bytes]) -> bool:
        key = ("backslash", token[0])
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self.data.find(b"\\", token[0], token[1]) >= 0
        return got

    # ------------------------------------------------------------------ joined literals
    # ``"chat.ws." "manager.send"`` is one literal (SPEC 5: an implicit concatenation is one
    # string), and so is ``"chat.ws.man\<newline>ager"``. A reference can be split
    # anywhere across the pieces, even inside a word, so a piece is never judged alone.

    def joined_before(self, q: int) -> bool:
        """Can the literal whose prefix starts at ``q`` continue an earlier one? Only
        spaces, line ends, continuations and comments back to a quote. A cheap test
        before the lexer is asked; ``True`` when unsure."""
        k = self._before_gap(q)
        return k < 0 or (k > 0 and self.data[k - 1] in _QUOTES)

    def joined_after(self, e: int) -> bool:
        """Can another literal follow the literal that closes right before ``e``, with
        only spaces, line ends, continuations and comments between?"""
        data = self.data
        n = len(data)
        k = e
        while True:
            while k < n and data[k] in _SPACE:
                k += 1
            if k < n and data[k] == 35:  # a comment: to its line end
                ends = [x for x in (data.find(b"\n", k), data.find(b"\r", k)) if x >= 0]
                if not ends:
                    return False
                k = min(ends)
                continue
            break
        p = k
        while p < n and p - k < 2 and data[p] in PREFIX_BYTES:
            p += 1
        return p < n and data[p] in _QUOTES

    def _pieces(self, pos: int) -> list[tuple[int, int, bytes]] | None:
        """The literal pieces that may form one literal with the piece holding ``pos``:
        consecutive literals with only spaces, line ends, continuations and comments
        between. This may join more than Python does (a line end outside brackets ends a
        statement); the caller judges every stretch. ``[]``: ``pos`` is in no literal;
        ``None``: the lexer is not trusted on this file."""
        starts, spans = self._tokens()
        if not self._trusted:
            return None
        import bisect

        k = bisect.bisect_right(starts, pos) - 1
        if k < 0 or pos >= spans[k][1] or spans[k][2] == b"#":
            return []
        data = self.data
        lo = hi = k
        j = k - 1
        while j >= 0 and self._joins(j):
            if spans[j][2] != b"#":
                lo = j
            j -= 1
        j = k + 1
        while j < len(spans) and self._joins(j - 1):
            if spans[j][2] != b"#":
                hi = j
            j += 1
        return [sp for sp in spans[lo:hi + 1] if sp[2] != b"#"]

    def _joins(self, j: int) -> bool:
        """Can the token ``j`` (a literal or a comment) and the next be part of one
        literal? Only spaces between, or line ends where Python goes on with the same
        logical line: inside brackets, or after a backslash (never after a comment)."""
        spans = self._spans[1]  # type: ignore[index]
        gap = self.data[spans[j][1]:spans[j + 1][0]]
        if gap.strip(_GAP):
            return False
        if b"\n" not in gap and b"\r" not in gap:
            return True
        if self._depth_before(j + 1) > 0:
            return True
        return spans[j][2] != b"#" and _CONTINUED_GAP.fullmatch(gap) is not None

    def _depth_before(self, k: int) -> int:
        """How many brackets are open where token ``k`` starts (many, once brackets do not
        pair before it)."""
        if self._depths is None:
            data = self.data
            depths: list[int] = []
            depth = last = 0
            for start, end, _kind in self._spans[1]:  # type: ignore[index]
                seg = data[last:start].translate(None, lexer.NOT_BRACKETS)
                depth += len(seg) - 2 * (seg.count(b")") + seg.count(b"]") + seg.count(b"}"))
                if depth < 0:  # brackets that do not pair: any later line end may be inside
                    depth = 1 << 30
                depths.append(depth)
                last = end
            self._depths = depths
        return self._depths[k]

    def _body(self, piece: tuple[int, int, bytes]) -> bytes:
        """A piece's value as bytes: quotes and prefix off, continuations out unless raw."""
        start, end, kind = piece
        body = self.data[start + len(kind):end]
        quote = body[:3] if body[:3] in (b'"""', b"'''") else body[:1]
        body = body[len(quote):]
        if body.endswith(quote) and len(body) >= len(quote):
            body = body[:-len(quote)]
        if b"r" not in kind and b"\\" in body:
            body = _CONTINUATION.sub(b"", body)
        return body

    def pieces_live(self, pos: int) -> bool:
        """Can the literal made of the pieces around ``pos`` hold a reference? Judged on
        every stretch of pieces that can be one literal: bytes and f-string pieces never
        make a reference; a stretch of dotted-path pieces is a string; any stretch is
        code when one of its pieces stands where an annotation does."""
        pieces = self._pieces(pos)
        if pieces is None:
            return True
        runs: list[list[tuple[int, int, bytes]]] = [[]]
        for piece in pieces:
            if b"b" in piece[2] or b"f" in piece[2]:
                runs.append([])
            else:
                runs[-1].append(piece)
        for run in runs:
            if not run:
                continue
            bodies = [self._body(p) for p in run]
            stretch: list[bytes] = []
            for body in [*bodies, None]:
                if body is not None and not body.translate(None, _PATH_TABLE):
                    stretch.append(body)
                    continue
                if stretch and self._path_live(b"".join(stretch)):
                    return True
                stretch = []
            if (self._code_live(b"".join(bodies))
                    and any(self._annotation_like(p[0]) for p in run)):
                return True
        return False

    def _path_live(self, text: bytes) -> bool:
        """A literal that is a dotted path: the string rules of ``_in_string``."""
        for w in self.words:
            for k in _whole(text, w.word):
                run = text[:k]
                if not run:
                    if w.single or (k + len(w.word) == len(text)
                                    and any(self._spelled(c) for c in w.parents)):
                        return True
                    continue
                prev = run[:-1].rpartition(b".")[2]
                if any(prev in self.aliases(c) for c in w.parents):
                    return True
        return False

    def _code_live(self, text: bytes) -> bool:
        """Code inside a literal: a word after a dot (a chain) may be a reference."""
        for w in self.words:
            for k in _whole(text, w.word):
                i = k
                while i > 0 and text[i - 1] in _SPACE:
                    i -= 1
                if i > 0 and text[i - 1] == 46:
                    return True
        return False

    def aliases(self, parent: bytes) -> set[bytes]:
        """Names an import binds to a module whose last name is ``parent``: ``parent``
        itself and every ``parent as x``."""
        got = self._aliases.get(parent)
        if got is None:
            got = {parent}
            data = self.data
            pattern = _AS_PATTERNS.get(parent)
            if pattern is None:
                # the literal first: the engine finds it as fast as ``bytes.find``
                pattern = _AS_PATTERNS[parent] = re.compile(
                    re.escape(parent) + rb"[ \t\\\r\n]+as[ \t\\\r\n]+([A-Za-z_][A-Za-z0-9_]*)")
            for m in pattern.finditer(data):
                start = m.start()
                if start == 0 or data[start - 1] not in _IDENT_BYTES:
                    got.add(m.group(1))
            self._aliases[parent] = got
        return got

    def from_module(self, pos: int) -> bytes | None:
        """When ``pos`` is in the name list of an import statement: its ``from`` module
        (``b""`` for a plain ``import``); ``None`` when it is not."""
        data = self.data
        lo = max(0, pos - 4096)
        st = data.rfind(b"import", lo, pos)
        if st < 0 and lo:  # far back, if anywhere: where each ``import`` is, listed once
            import bisect

            found = self._memo.get("imports")
            if found is None:
                found = self._memo["imports"] = [m.start() for m in _IMPORT.finditer(data)]
            k = bisect.bisect_left(found, pos - 5) - 1  # ends before ``pos``, as rfind's do
            st = found[k] if k >= 0 else -1
        if st < 0 or (st > 0 and data[st - 1] in _IDENT_BYTES) or pos == st + 6:
            return None
        # Per ``import``, once: how far its name list reaches (names, commas, brackets,
        # spaces, continuations, comments), and its module.
        known = self._memo.get(("import", st))
        if known is None:
            known = self._memo[("import", st)] = self._import_at(st)
        reach, module = known
        return module if pos <= reach else None

    def _import_at(self, st: int) -> tuple[int, bytes | None]:
        """``(end of the name list, from-module)`` of the ``import`` at ``st``; the module
        ``b""`` for a plain ``import``, ``None`` when it is no import statement."""
        data = self.data
        if data[st + 6:st + 7] not in _LIST_START:
            return st, None
        reach = _NAME_LIST.match(data, st + 6).end()
        line = self.line_start(st)
        line = max(line, data.rfind(b";", line, st) + 1)
        head = data[line:st].replace(b"\\", b" ").strip()
        if not head:
            return reach, b""
        if head.startswith(b"from") and len(head) > 4 and head[4] in _SPACE:
            return reach, b"".join(head[4:].split())
        return reach, None

    def live(self, w: _Word, start: int, end: int) -> bool:
        """Can the word at ``data[start:end]`` be part of a reference to an entry ending in
        it? ``False`` is a proof (see ``Filter.needs_parse``)."""
        data = self.data
        if self.comment_before(start):
            return False
        i = start
        while i > 0 and data[i - 1] in _PATH_BYTES:
            i -= 1
        run = data[i:start]  # the dotted name before the word: b"chat.ws." or b""
        before = data[i - 1] if i > 0 else None
        if before in _QUOTES:
            return self._in_string(w, i, start, end, run, before)  # type: ignore[arg-type]
        if before is not None and before in _SPACE:
            k = i
            while k > 0 and data[k - 1] in _SPACE:
                k -= 1
            if k > 0 and data[k - 1] in _QUOTES and b"\\" in data[k:i] and \
                    self.pieces_live(start):
                return True  # ``"chat.w" "\<newline>s.w"``: a literal continued to here
        if run:
            if run[0] == 46:  # nothing named before the dot
                # ``from .w import``, ``from ..c.w import``: a relative module; ``(a.c).w``:
                # a chain in parentheses; ``x[0].w``, ``f().w``: no chain of names
                return before is None or before not in b"]}"
            prev = run[:-1].rpartition(b".")[2]
            return (any(prev in self.aliases(c) for c in w.parents)
                    and self.code_or_annotation(w, start, prev))
        # nothing dotted right before: maybe ``x . w`` across spaces, or a keyword
        k = start
        while k > 0 and data[k - 1] in _SPACE:
            k -= 1
        if k > 0 and data[k - 1] == 46:  # ``x .w`` / ``x.\n w``
            prev, j = _ident_before(data, k - 1)
            if not prev or data[j - 1:j] == b".":
                return True  # ``a. b .w``: rare, let the parser decide
            return (any(prev in self.aliases(c) for c in w.parents)
                    and self.code_or_annotation(w, start, prev))
        prev, _j = _ident_before(data, start)
        if prev in (b"class", b"def"):
            return w.definition and (self.module is None or any(
                self.module == top or self.module.startswith(top + ".")
                for top in w.packages))
        if prev == b"from":
            return w.single  # ``from w import``: the module itself
        module = self.from_module(start)
        if module is None:
            return False
        if module == b"":
            return w.single  # ``import os, w``
        if module.startswith(b"."):
            return True  # relative: ``from . import w``
        last = module.rpartition(b".")[2]
        return last in w.parents or (w.single and module.partition(b".")[0] == w.word)

    def _in_string(self, w: _Word, i: int, start: int, end: int, run: bytes,
                   quote: int) -> bool:
        data = self.data
        p = i - 1  # the quote
        if p >= 2 and data[p - 2] == quote and data[p - 1] == quote:
            p -= 2  # a triple-quoted literal opens here
        q = p
        while q > 0 and data[q - 1] in b"rRuUbBfF" and p - q < 2:
            q -= 1
        if (q < p and (q == 0 or data[q - 1] not in _IDENT_BYTES)
                and any(c in b"bBfF" for c in data[q:p])):
            return False  # an f-string or bytes: never a reference
        j = end
        while j < len(data) and data[j] in _PATH_BYTES:
            j += 1
        nxt = data[j] if j < len(data) else None
        if nxt == 92:  # a backslash: an escape or a continuation, let the parser decide
            return True
        if nxt == quote and self._docstring(q):
            return False  # pieces joined to a docstring are the docstring
        closes = j + (3 if p < i - 1 else 1)  # after the closing quote(s), if they close
        if self.joined_before(q) or (nxt == quote and data[j:closes] == data[p:i]
                                     and self.joined_after(closes)):
            return self.pieces_live(start)
        if nxt != quote:
            # Not a whole dotted path: no string reference. Still code when the literal is
            # a string annotation (``"ws.A | None"``), a ``cast`` or a ``bound=``.
            if not run:
                return False  # a bare name there is never a reference
            prev = run[:-1].rpartition(b".")[2]
            return (any(prev in self.aliases(c) for c in w.parents)
                    and self._annotation_like(q))
        if not run:
            if w.single:  # "w" or "w.x": the single-identifier module, where one is named
                return self._import_like(q)
            # ``getattr(x, "w")``: a chain through a name bound to the parent module
            return j == end and any(self._spelled(c) for c in w.parents)
        prev = run[:-1].rpartition(b".")[2]
        return any(prev in self.aliases(c) for c in w.parents)

    def _import_like(self, q: int) -> bool:
        """Does the string literal starting at ``q`` stand where SPEC 5 reads a module
        name (a single identifier counts only there): the first argument of a call named
        as in ``analysis.IMPORT_LIKE``, a ``name=``/``target=`` keyword, a subscript of
        ``modules`` or the first argument of ``modules.get/pop/setdefault``? Grouping
        parentheses, spaces, line ends and comments before it are looked through; ``True``
        when unsure (a ``#`` that may be in a string)."""
        data = self.data
        k = self._before_gap(q)
        while k > 0 and data[k - 1] == 40:  # ``(``: a call's, or only grouping
            j = self._before_gap(k - 1)
            if j < 0:
                return True
            if j > 0 and (data[j - 1] in _IDENT_BYTES or data[j - 1] in b")]"):
                break  # a call
            k = j  # ``f(("six"))``, ``name=("six")``
        if k <= 0:
            return k < 0
        ch = data[k - 1]
        name, j = _ident_before(data, k - 1)
        if ch == 40:
            if name in _IMPORT_CALLS:
                return True
            return name in (b"get", b"pop", b"setdefault") and \
                _ident_before(data, j - 1)[0] == b"modules" and data[j - 1:j] == b"."
        if ch == 91:  # ``[``
            return name == b"modules"
        if ch == 61:  # ``=``: a keyword argument
            return name in (b"name", b"target")
        return False

    def _before_gap(self, k: int) -> int:
        """Where the code before ``k`` ends, spaces, line ends, continuations and comments
        skipped; ``-1`` when a ``#`` may be in a string (unsure)."""
        data = self.data
        while True:
            crossed = False
            while k > 0 and data[k - 1] in _SPACE:
                crossed = crossed or data[k - 1] in b"\r\n"
                k -= 1
            if not crossed or k == 0:
                return k
            line = max(data.rfind(b"\n", 0, k), data.rfind(b"\r", 0, k)) + 1
            at = data.find(b"#", line, k)
            if at < 0:
                return k
            if b'"' in data[line:at] or b"'" in data[line:at]:
                return -1
            k = at

    def _annotation_like(self, q: int) -> bool:
        """Can the string literal starting at ``q`` be read as code (SPEC 5 Annotations)?
        ``x: "..."``, ``-> "..."``, ``Optional["..."]``, ``Union[a, "..."]``, ``a | "..."``,
        ``cast("...")``, ``bound="..."``; a call's argument or an assigned value is not."""
        data = self.data
        k = q
        while k > 0 and data[k - 1] in _SPACE:
            k -= 1
        ch = data[k - 1] if k > 0 else None
        if ch is None:
            return False
        if ch in b":[|>":
            return True
        if ch == 44:  # a comma: ``Union[a, "..."]`` yes, ``log("%s", "...")`` no
            return self._opener(k - 1) != 40
        if ch in b"(=":
            name, _j = _ident_before(data, k - 1)
            return name == (b"cast" if ch == 40 else b"bound")
        return False

    def _opener(self, pos: int) -> int | None:
        """The bracket byte left open before ``pos`` on its line (strings skipped), or
        ``None`` when the line opens none (it may continue one: the caller decides)."""
        data = self.data
        line = self.line_start(pos)
        depth = 0
        k = pos
        while k > line:
            k -= 1
            token = self.enclosing_token(k)
            if token is not None and token[0] >= line:
                k = token[0]
                continue
            ch = data[k]
            if ch in b")]}":
                depth += 1
            elif ch in b"([{":
                if depth == 0:
                    return ch
                depth -= 1
        return None

    def _docstring(self, q: int) -> bool:
        """Is the string starting at ``q`` a docstring? ``True`` is a proof: a triple-quoted
        literal first on its line, right after a one-line ``def``/``class`` header or at the
        top of the file (blank and comment lines aside)."""
        data = self.data
        if data[q:q + 3] not in (b'"""', b"'''"):
            return False
        line_start = data.rfind(b"\n", 0, q) + 1
        if data[line_start:q].strip(b" \t"):
            return False
        end = line_start - 1
        while end > 0:
            start = data.rfind(b"\n", 0, end) + 1
            text = data[start:end].strip()
            if text and not text.startswith(b"#"):
                return text.endswith(b":") and text.startswith((b"def ", b"async def ",
                                                                 b"class "))
            end = start - 1
        first_cr = self._memo.get("first CR")
        if first_cr is None:
            first_cr = self._memo["first CR"] = data.find(b"\r")
        return not 0 <= first_cr < q  # the top of the file (lone CRs: do not guess)

    def _spelled(self, word: bytes) -> bool:
        """Does ``word`` stand anywhere in the file as a whole word? (Asked once per word.)"""
        key = ("spelled", word)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._spelled_now(word)
        return got

    def _spelled_now(self, word: bytes) -> bool:
        data = self.data
        pos = data.find(word)
        while pos >= 0:
            e = pos + len(word)
            if ((pos == 0 or data[pos - 1] not in _IDENT_BYTES)
                    and (e >= len(data) or data[e] not in _IDENT_BYTES)):
                return True
            pos = data.find(word, pos + 1)
        return False


class Filter:
    """The byte-level pre-filter, built once per scan (inherited by forked workers)."""

    def __init__(self, matcher: Matcher, src_layout: bool = False) -> None:
        self.matcher = matcher
        self.src_layout = src_layout
        words: dict[bytes, _Word] = {}
        for c in matcher.contracts:
            for p in (*c.legacy, *c.factories, c.canonical):
                if p.attr is None:
                    parent, _, last = p.module.rpartition(".")
                else:
                    parent, last = p.module, p.attr
                w = words.setdefault(last.encode(), _Word(last.encode()))
                if parent:
                    w.parents.add(parent.rpartition(".")[2].encode())
                else:
                    w.single = True
            if c.canonical.attr is not None:
                word = c.canonical.attr.encode()
                w = words.setdefault(word, _Word(word))
                w.definition = True
                w.packages.add(c.canonical.module.partition(".")[0])
        self._text: _FileWords | None = None  # the last file's, for the parser's side
        self.words = sorted(words.values(), key=lambda w: w.word)
        self.anchors = _anchors([w.word for w in self.words])
        # anchor -> (word, where the anchor stands in it), each word under one anchor
        plan: dict[bytes, list[tuple[_Word, int]]] = {a: [] for a in self.anchors}
        for w in self.words:
            anchor = next(a for a in self.anchors if a in w.word)
            k = w.word.find(anchor)
            while k >= 0:
                plan[anchor].append((w, k))
                k = w.word.find(anchor, k + 1)
        self._plan = [(a, placed) for a, placed in plan.items() if placed]
    def _referable(self, data: bytes, module: str | None = None) -> bool:
        find = data.find
        text: _FileWords | None = None
        self._text = None
        size = len(data)
        # Every word holds its anchor: the anchors' places are the only places to look
        # (one search per anchor, not one per word).
        for anchor, placed in self._plan:
            pos = find(anchor)
            while pos >= 0:
                for w, offset in placed:
                    start = pos - offset
                    end = start + len(w.word)
                    if (start >= 0 and data.startswith(w.word, start)
                            and (start == 0 or data[start - 1] not in _IDENT_BYTES)
                            and (end >= size or data[end] not in _IDENT_BYTES)):
                        if text is None:
                            text = self._text = _FileWords(data, module, self.words)
                        if text.live(w, start, end):
                            return True
                pos = find(anchor, pos + 1)
        return self._split(data, text, module)

    def _split(self, data: bytes, text: _FileWords | None, module: str | None) -> bool:
        """Can a word split by a backslash-newline inside a literal make a reference
        (``"chat.ws.man\\<newline>ager"``)? Such a literal holds no whole word."""
        if b"\\" not in data:
            return False
        for m in _CUT.finditer(data):
            pos = m.start()
            if pos > 0 and data[pos - 1] in _PATH_BYTES:
                if text is None:
                    text = _FileWords(data, module, self.words)
                if text.pieces_live(pos - 1):
                    return True
        return False

    def needs_parse(self, data: bytes, module: str | None = None) -> bool:
        """Can this file reference a declared path? ``False`` is a proof that it cannot.

        Every reference of SPEC 5 spells an entry's last name where ``_FileWords.live``
        accepts it (a chain after the parent or an alias of it, an import list of the
        parent, a whole dotted-path string or annotation code, ``class``/``def``), except
        through (a) identifiers that NFKC-normalise to the words (non-ASCII source),
        (b) string escapes that spell identifier characters, (c) an encoding that is not an
        ASCII superset. For (a) and (b) the same rules run again on the text as the parser
        reads it (escapes spelled out, NFKC applied); (c), a named escape (``\\N{...}``)
        and an undecodable file go to the parser, which also reports undecodable files.
        """
        if self._referable(data, module):
            return True
        if not lexer.ascii_compatible(data):
            return True
        # What the parser reads where the bytes differ: escapes that spell identifier
        # characters in literals, identifiers that NFKC makes ASCII.
        text = data
        if b"\\" in data and IDENT_ESCAPES.search(data):
            if b"\\N{" in data:
                return True  # a named character: the parser decides
            text = IDENT_ESCAPES.sub(_unescape, data)
        if not text.isascii():
            import io
            import tokenize

            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
                decoded = text.decode(encoding)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                return True
            normalized = unicodedata.normalize("NFKC", decoded)
            if normalized != decoded:
                text = normalized.encode("utf-8", "replace")
        if text is not data:
            referable = self._referable(text, module)
            self._text = None  # lexed other bytes: nothing to hand over
            return referable
        return False

    def examine(self, abspath: str, rel: str, size: int, cached: tuple | None,
                regular: bool = False
                ) -> tuple[str | None, list | None, str | None, bool]:
        """``(digest, hits, error, parsed)``; ``hits is None``: same content as cached.
        ``regular``: the caller's ``stat`` just found a regular file there."""
        try:
            # regular files only, size-limited (SPEC 12)
            data = read_source(abspath, regular=regular)
        except OSError as exc:
            return None, [], f"cannot be read: {exc.strerror or exc}", False
        named: list[tuple[str | None, bool]] = []

        def module_of() -> str | None:
            if not named:
                named.append(module_name(rel, self.src_layout))
            return named[0][0]

        if not self.needs_parse(data, module_of):  # type: ignore[arg-type]
            return None, [], None, False
        import hashlib  # only files that can hold a reference are hashed

        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest:
            return digest, None, None, False
        text = self._text
        module_of()
        module, is_package = named[0]
        hits, error = analyze(data, self.matcher, module, is_package,
                              lexed=text.lexed() if text is not None else None)
        return digest, rows(hits), error, True
