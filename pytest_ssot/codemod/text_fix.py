"""``pytest-ssot fix`` for documentation and configuration files (SPEC 13).

Only the token changes, nothing else on the line: a legacy attribute path (``pkg.Thing``,
``pkg:Thing``) becomes the canonical path with the same separator; a legacy module path
becomes the canonical's module path when it stands alone (``.. automodule:: pkg.old``,
``python -m pkg.old``) or when what follows it is the canonical's own name
(``pkg.old.Thing.send`` -> ``pkg.new.Thing.send``). A module path followed by another name
(``pkg.old:main``, ``pkg.old.helper``) is left and listed: nothing says that name lives in
the canonical module. References to factories are listed too (their replacement is a call,
not a path).

The same safety rules as code: only regular files, read once; written by compare-and-swap
over the very bytes read (a file changed meanwhile is left and listed), owner and mode
kept. Undecodable bytes are carried through unchanged (``surrogateescape``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from ..atomic import ChangedSinceRead, write_atomic
from ..domain.contracts import SsotConfig
from ..domain.paths import parse_path
from ..domain.refkind import Fix, Role, kinds_where
from ..scan import Violation
from ..scan.files import read_source
from ..scan.text import TEXT_MAX_BYTES, TextScanner, Token
from .result import FixResult, Listing, Reason

__all__ = ["fix_text", "TEXT_REASONS"]

# the kinds fixed here, as text (doc, config: the table of kinds says so)
TEXT_FIX_KINDS = kinds_where(fix=Fix.TEXT)
_NEXT_NAME = re.compile(r"[.:]([^\W\d]\w*)")


class TEXT_REASONS:  # noqa: N801 - a namespace of strings, as ``Reason``
    OTHER_NAME = "text names another name in the legacy module"
    FACTORY = "text names a factory: its replacement is a call, rewrite it by hand"
    AMBIGUOUS = "text path declared by contracts with different canonicals"
    UNREADABLE = "cannot be read"


def _replacement(tok: Token, text: str) -> tuple[str | None, str, str]:
    """``(new token or None, reason, detail)`` for one legacy token."""
    wrong = [e for e in tok.entries if e[1] != Role.CANONICAL]
    if any(role == Role.FACTORY for _c, role, _p, _f in wrong):
        return None, TEXT_REASONS.FACTORY, tok.spelled
    news = set()
    for _contract, _role, path, fix in wrong:
        declared, canon = parse_path(path), parse_path(fix)
        if declared.attr is not None:
            sep = ":" if ":" in tok.spelled else "."
            news.add(canon.module if canon.attr is None else f"{canon.module}{sep}{canon.attr}")
            continue
        follows = _NEXT_NAME.match(text, tok.end)
        if canon.attr is None or follows is None or follows.group(1) == canon.attr:
            news.add(canon.module)
        else:
            return (None, TEXT_REASONS.OTHER_NAME,
                    f"{tok.spelled}{text[tok.end:follows.end()]}: not known in {canon.module}")
    if len(news) != 1:
        return None, TEXT_REASONS.AMBIGUOUS, ", ".join(sorted(news))
    return news.pop(), "", ""


def _not_writable(path: Path) -> str | None:
    from .writing import _not_writable as check

    return check(path)


def fix_text(settings: SsotConfig, root: Path, by_file: dict[str, list[Violation]],
             write: bool, out: FixResult) -> None:
    """Rewrite the legacy tokens of these text files; list what is left (in ``out``)."""
    scanner = TextScanner(settings.contracts)
    for rel, violations in sorted(by_file.items()):
        kind = violations[0].kind
        try:
            source = read_source(str(root / rel), TEXT_MAX_BYTES)  # regular files only
        except OSError as exc:
            out.errors.append(Listing(rel, 1, TEXT_REASONS.UNREADABLE,
                                      str(exc.strerror or exc)))
            for v in violations:
                out.count(v.kind, False)
            continue
        text, tokens = scanner.tokens_of(source, rel.rpartition("/")[2])
        edits: list[tuple[int, int, str]] = []
        left: list[Listing] = []
        for tok in tokens:
            if all(e[1] == Role.CANONICAL for e in tok.entries):
                continue
            new, reason, detail = _replacement(tok, text)
            path = next(e[2] for e in tok.entries if e[1] != Role.CANONICAL)
            if new is None:
                left.append(Listing(rel, tok.line, reason, detail, path))
            elif new != tok.spelled:
                edits.append((tok.start, tok.end, new))
        pieces, pos = [], 0
        for start, end, new in edits:
            pieces += [text[pos:start], new]
            pos = end
        pieces.append(text[pos:])
        new_bytes = "".join(pieces).encode("utf-8", "surrogateescape")
        done = len(edits)
        if new_bytes != source and write:
            problem, reason = _not_writable(root / rel), Reason.NOT_WRITABLE
            if problem is None:
                try:  # compare-and-swap: only over the very bytes that were read
                    write_atomic(root / rel, new_bytes, keep_mode=True, expect=source)
                except ChangedSinceRead:
                    problem, reason = "left untouched", Reason.CHANGED
                except OSError as exc:
                    problem = f"cannot write: {exc.strerror}" if exc.strerror else str(exc)
            if problem is not None:
                out.errors.append(Listing(rel, 1, reason, problem))
                done = 0
                left = [Listing(rel, v.line, reason, problem, v.path) for v in violations]
                new_bytes = source
        if new_bytes != source:
            out.changed[rel] = (source, new_bytes)
        out.rewritten += done
        for i in range(len(violations)):
            out.count(kind, i < done)
        out.unsafe.extend(left)


def split_text(by_file: dict[str, list[Violation]], kinds: Sequence[str] = TEXT_FIX_KINDS
               ) -> dict[str, list[Violation]]:
    """Take the text files' violations out of ``by_file`` (they are fixed here)."""
    text = {rel: vs for rel, vs in by_file.items() if vs and vs[0].kind in kinds}
    for rel in text:
        del by_file[rel]
    return text
