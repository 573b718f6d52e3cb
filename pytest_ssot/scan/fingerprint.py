"""Fingerprints of violations (SPEC 7): a violation named without its line. Pure.

A short hash of contract, kind, role, declared path, the whitespace-collapsed text of the
statement or expression, and the index among identical ones in the same file. Computed
when a file is analysed (the scan cache keeps them with the file's references), so a warm
run does not hash again.
"""

from __future__ import annotations

from typing import Iterable

from ..domain.refkind import Role

__all__ = ["fingerprint", "collapse", "number", "rows"]

_FP_LEN = 16  # hex digits: 64 bits, no collision among the violations of one file


def collapse(text: str) -> str:
    return " ".join(text.split())


def fingerprint(contract: str, kind: str, role: str, path: str, text: str, index: int) -> str:
    import hashlib  # only where a file is read anew: a warm run has them all

    key = "\0".join((contract, kind, role, path, collapse(text), str(index)))
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"),
                           digest_size=_FP_LEN // 2).hexdigest()


def number(violations: Iterable[tuple[str, str, str, str, str]]) -> list[str]:
    """The fingerprints of one file's violations ``(contract, kind, role, path, text)``,
    given in line order: identical ones are told apart by their index among them."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for contract, kind, role, path, text in violations:
        key = (contract, kind, role, path, collapse(text))
        index = seen.get(key, 0)
        seen[key] = index + 1
        out.append(fingerprint(contract, kind, role, path, text, index))
    return out


def rows(hits: "Iterable") -> list[list]:
    """One file's references (``rules.Hit``) as the scan cache stores them: ``[contract,
    role, path, fix, kind, line, text]``, and the fingerprint for a violation."""
    from .rules import hint

    # (role and kind as their plain ``str`` values: marshal takes no ``str`` subclass)
    out = [[h.entry.contract, str(h.entry.role), str(h.entry.path),
            hint(h.entry, h.kind, h.text), str(h.kind), h.line, h.text] for h in hits]
    wrong = [r for r in out if r[1] != Role.CANONICAL]
    for r, fp in zip(wrong, number((r[0], r[4], r[1], r[2], r[6]) for r in wrong)):
        r.append(fp)
    return out
