"""One file's bytes as the pre-filter's rules read them (``FileWords.live``: can this
word be part of a reference?). Pure."""

from __future__ import annotations

from typing import Callable

from .. import lexer
from .literals import Literals
from .places import Places
from .words import _IDENT_BYTES, _LINE_END, _PATH_BYTES, _QUOTES, _SPACE, Word, _ident_before

__all__ = ["FileWords"]


class FileWords(Literals, Places):
    """One file's bytes, with what the rules ask of them computed once."""

    __slots__ = ("data", "_module", "words", "_aliases", "_spans", "_trusted", "_depths",
                 "_memo")

    def __init__(self, data: bytes, module: "str | None | Callable[[], str | None]" = None,
                 words: "list[Word] | None" = None) -> None:
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

    def code_or_annotation(self, w: "Word", pos: int, prev: bytes) -> bool:
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

    def live(self, w: Word, start: int, end: int) -> bool:
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

    def _in_string(self, w: Word, i: int, start: int, end: int, run: bytes,
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
