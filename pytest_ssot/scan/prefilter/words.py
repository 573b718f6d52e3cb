"""The pre-filter's byte-level vocabulary: what each declared word needs around it
(``Word``), the anchors that find them fast, and the byte classes and patterns the
file-level rules share. Pure."""

from __future__ import annotations

import re

from ..analysis import IMPORT_LIKE

__all__ = ["Word", "anchors"]


_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_PATH_BYTES = _IDENT_BYTES | {ord(".")}
_STRING_END = (b'"', b"'", b".", b"\\")


def anchors(words: list[bytes], size: int = 5) -> list[bytes]:
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

class Word:
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
