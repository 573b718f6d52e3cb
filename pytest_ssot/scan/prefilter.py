"""The byte-level pre-filter: which files can reference a declared path at all.

Pure: no pytest. ``Filter.needs_parse`` answering ``False`` is a proof; every other file goes
to the parser (``source.analyze``), which also reports files that do not decode or parse.
"""

from __future__ import annotations

import os
import re
import unicodedata

from .files import module_name
from .rules import Matcher
from .source import IDENT_ESCAPES, analyze

__all__ = ["Filter"]

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_ASCII_SUPERSETS = re.compile(r"^(utf[-_]?8(?:[-_]sig)?|ascii|us[-_]ascii|latin[-_]?1|"
                              r"iso[-_]?8859[-_]?\d+|cp125\d|windows[-_]125\d|l\d|"
                              r"iso[-_]latin[-_]\d)$", re.IGNORECASE)


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


def _has_live(data: bytes, word: bytes) -> bool:
    """Does ``word`` occur as a whole word somewhere it could be part of a reference?"""
    n, size = len(word), len(data)
    pos = data.find(word)
    while pos >= 0:
        end = pos + n
        if ((pos == 0 or data[pos - 1] not in _IDENT_BYTES)
                and (end >= size or data[end] not in _IDENT_BYTES)
                and _live(data, pos, end)):
            return True
        pos = data.find(word, pos + 1)
    return False


def _live(data: bytes, start: int, end: int) -> bool:
    """Can the word at ``data[start:end]`` be part of a reference? ``False`` is a proof.

    Two shapes cannot be, whatever the rest of the file is:

    - a quote, then only dotted-name characters up to the word, then anything but a quote,
      a dot or a backslash: inside a string, that string does not equal the path or start
      with ``path.`` (``"pkg.manager is deprecated"``; if the quote opens it, the path
      stops at the word; if not, the string holds a quote before the word); outside one,
      the word directly follows a string, which no import or definition does;
    - a ``#`` earlier on the same line with no quote before the word on that line: the
      ``#`` opens a comment, or sits in a string that is still open at the word (a
      string holding ``#`` before the word cannot start with the path).
    """
    i = start
    while i > 0 and data[i - 1] in _PATH_BYTES:
        i -= 1
    if i > 0 and data[i - 1] in b"\"'" and data[end:end + 1] not in _STRING_END:
        return False
    line = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
    head = data[line:start]
    return not (b"#" in head and b'"' not in head and b"'" not in head)


class Filter:
    """The byte-level pre-filter, built once per scan (inherited by forked workers)."""

    def __init__(self, matcher: Matcher, src_layout: bool = False) -> None:
        self.matcher = matcher
        self.src_layout = src_layout
        self.words_re = matcher.prefilter()
        seen = set()
        self.conditions: list[tuple[bytes, re.Pattern[bytes] | None]] = []
        for word, ctx in matcher.conditions():
            key = (word, ctx.pattern if ctx is not None else None)
            if key not in seen:
                seen.add(key)
                self.conditions.append((word, ctx))
        self.anchors = _anchors(sorted({w for w, _ in self.conditions}))

    def _referable(self, data: bytes) -> bool:
        find = data.find
        if all(find(a) < 0 for a in self.anchors):
            return False  # every word holds an anchor: no word, no reference
        live: dict[bytes, bool] = {}
        for word, ctx in self.conditions:
            ok = live.get(word)
            if ok is None:
                ok = live[word] = _has_live(data, word)
            if ok and (ctx is None or ctx.search(data)):
                return True
        return False

    def needs_parse(self, data: bytes) -> bool:
        """Can this file reference a declared path? ``False`` is a proof that it cannot.

        Every form of SPEC 5 meets one of ``Matcher.conditions()`` in the source bytes,
        except through (a) identifiers that NFKC-normalise to the words (non-ASCII source),
        (b) string escapes that spell identifier characters, (c) an encoding that is not an
        ASCII superset. Each of those sends the file to the parser, which also reports
        undecodable files.
        """
        if self._referable(data):
            return True
        if b"\\" in data and IDENT_ESCAPES.search(data):
            return True
        head = data[:400]
        if b"coding" in head:
            m = _CODING.search(b"\n".join(head.splitlines()[:2]))
            if m and not _ASCII_SUPERSETS.match(m.group(1).decode("ascii", "replace")):
                return True
        if not data.isascii():
            import io
            import tokenize

            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
                text = data.decode(encoding)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                return True
            normalized = unicodedata.normalize("NFKC", text)
            if normalized != text and self._referable(normalized.encode("utf-8", "replace")):
                return True
        return False

    def examine(self, abspath: str, rel: str, size: int,
                cached: tuple | None) -> tuple[str | None, list | None, str | None, bool]:
        """``(digest, hits, error, parsed)``; ``hits is None``: same content as cached."""
        try:
            fd = os.open(abspath, os.O_RDONLY)
            try:
                data = os.read(fd, size + 1)
                if len(data) > size:  # grew since the stat: read the rest
                    chunks = [data]
                    while True:
                        more = os.read(fd, 1 << 20)
                        if not more:
                            break
                        chunks.append(more)
                    data = b"".join(chunks)
            finally:
                os.close(fd)
        except OSError as exc:
            return None, [], f"cannot be read: {exc.strerror or exc}", False
        if not self.needs_parse(data):
            return None, [], None, False
        import hashlib  # only files that can hold a reference are hashed

        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest:
            return digest, None, None, False
        module, is_package = module_name(rel, self.src_layout)
        hits, error = analyze(data, self.matcher, module, is_package)
        flat = [[h.entry.contract, h.entry.role, str(h.entry.path), h.entry.fix, h.kind,
                 h.line, h.text] for h in hits]
        return digest, flat, error, True
