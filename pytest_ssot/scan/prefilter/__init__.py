"""The byte-level pre-filter: which files can reference a declared path at all.

Pure: no pytest. ``Filter.needs_parse`` answering ``False`` is a proof; every other file goes
to the parser (``analysis.analyze``), which also reports files that do not decode or parse.
"""

from __future__ import annotations

import unicodedata

from ...domain.refkind import KINDS_TABLE, PrefilterWord
from ..files import module_name, read_source
from ..fingerprint import rows
from .. import lexer
from ..rules import Matcher
from ..analysis import IDENT_ESCAPES, analyze
from .file_words import FileWords
from .words import _CUT, _IDENT_BYTES, _PATH_BYTES, Word, _unescape, anchors

__all__ = ["Filter", "WORDS_FOUND"]

# The words the pre-filter knows how to find; the table of kinds says which it must find
# (a kind that needs another word needs its rule in ``FileWords.live`` first).
WORDS_FOUND = frozenset({PrefilterWord.ENTRY_NAME, PrefilterWord.DEFINITION_NAME})
_NEEDED = {info.prefilter for info in KINDS_TABLE.values() if info.prefilter is not None}
_ENTRY_NAMES = PrefilterWord.ENTRY_NAME in _NEEDED  # an entry's last name
_DEFINITION_NAMES = PrefilterWord.DEFINITION_NAME in _NEEDED  # ``class``/``def`` of it


class Filter:
    """The byte-level pre-filter, built once per scan (inherited by forked workers)."""

    def __init__(self, matcher: Matcher, src_layout: bool = False) -> None:
        self.matcher = matcher
        self.src_layout = src_layout
        words: dict[bytes, Word] = {}
        for c in matcher.contracts:
            for p in (*c.legacy, *c.factories, c.canonical) if _ENTRY_NAMES else ():
                if p.attr is None:
                    parent, _, last = p.module.rpartition(".")
                else:
                    parent, last = p.module, p.attr
                w = words.setdefault(last.encode(), Word(last.encode()))
                if parent:
                    w.parents.add(parent.rpartition(".")[2].encode())
                else:
                    w.single = True
            if _DEFINITION_NAMES and c.canonical.attr is not None:
                word = c.canonical.attr.encode()
                w = words.setdefault(word, Word(word))
                w.definition = True
                w.packages.add(c.canonical.module.partition(".")[0])
        self._text: FileWords | None = None  # the last file's, for the parser's side
        self.words = sorted(words.values(), key=lambda w: w.word)
        self.anchors = anchors([w.word for w in self.words])
        # anchor -> (word, where the anchor stands in it), each word under one anchor
        plan: dict[bytes, list[tuple[Word, int]]] = {a: [] for a in self.anchors}
        for w in self.words:
            anchor = next(a for a in self.anchors if a in w.word)
            k = w.word.find(anchor)
            while k >= 0:
                plan[anchor].append((w, k))
                k = w.word.find(anchor, k + 1)
        self._plan = [(a, placed) for a, placed in plan.items() if placed]
    def _referable(self, data: bytes, module: str | None = None) -> bool:
        find = data.find
        text: FileWords | None = None
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
                            text = self._text = FileWords(data, module, self.words)
                        if text.live(w, start, end):
                            return True
                pos = find(anchor, pos + 1)
        return self._split(data, text, module)

    def _split(self, data: bytes, text: FileWords | None, module: str | None) -> bool:
        """Can a word split by a backslash-newline inside a literal make a reference
        (``"chat.ws.man\\<newline>ager"``)? Such a literal holds no whole word."""
        if b"\\" not in data:
            return False
        for m in _CUT.finditer(data):
            pos = m.start()
            if pos > 0 and data[pos - 1] in _PATH_BYTES:
                if text is None:
                    text = FileWords(data, module, self.words)
                if text.pieces_live(pos - 1):
                    return True
        return False

    def needs_parse(self, data: bytes, module: str | None = None) -> bool:
        """Can this file reference a declared path? ``False`` is a proof that it cannot.

        Every reference of SPEC 5 spells an entry's last name where ``FileWords.live``
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
