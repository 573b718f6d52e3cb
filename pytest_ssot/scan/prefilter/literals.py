"""The pre-filter's rules for string literals made of pieces: ``"chat.ws." "manager"`` is
one literal (SPEC 5: an implicit concatenation is one string), and so is
``"chat.ws.man\\<newline>ager"``. A mixin of ``FileWords`` (its state lives there)."""

from __future__ import annotations

from .. import lexer
from ..lexer import PREFIX_BYTES
from .words import (_CONTINUATION, _CONTINUED_GAP, _GAP, _PATH_TABLE, _QUOTES, _SPACE,
                    _whole)

__all__ = ["Literals"]


class Literals:
    """Joined literals; uses ``FileWords``' ``data``, ``words``, ``_tokens``, ``_spans``,
    ``_trusted``, ``_depths``, ``aliases``, ``_spelled`` and ``_annotation_like``."""

    __slots__ = ()

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
