"""The pre-filter's questions about where a word stands: import statements and their
aliases, import-like calls, annotations, docstrings. A mixin of ``FileWords`` (its state
lives there)."""

from __future__ import annotations

import re

from .words import (_AS_PATTERNS, _IDENT_BYTES, _IMPORT, _IMPORT_CALLS, _LIST_START,
                    _NAME_LIST, _SPACE, _ident_before)

__all__ = ["Places"]


class Places:
    """Imports, aliases and positions; uses ``FileWords``' ``data``, ``_aliases``,
    ``_memo``, ``line_start`` and ``enclosing_token``."""

    __slots__ = ()

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
