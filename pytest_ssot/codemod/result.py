"""What ``fix`` reports: the listings (what is left for a person, and why), the errors,
the changed files. Grouped by reason at the end, so a thousand listings read as a few
lines (``12 x module bound at module level and read by app/x.py``)."""

from __future__ import annotations

import difflib

from ..domain.display import shown
from dataclasses import dataclass, field

__all__ = ["FixResult", "Listing", "Reason"]


class Reason:
    """The reasons a reference is left as it is: short, stable, so they group."""

    READ_ELSEWHERE = "module bound at module level and read by {}"
    CLASS_BODY = "module bound in a class body"
    USED_BARE = "the legacy module itself is used as an object"
    NOT_SAME = "not the same object in the canonical module"
    UNRESOLVED = "does not resolve to a comparable object"
    FACTORY = "factory without a declared replacement (add `replacements`)"
    STAR = "star import of a legacy path: list the names you need by hand"
    NAMESPACE_WRITE = "writes or patches a name in the legacy namespace"
    PATCH_SPLIT = ("patched elsewhere under a spelling the rewrite cannot follow (rewriting "
                   "one side alone would put the patch and the read on different objects)")
    STRING_NAMESPACE = "string names the legacy module or a name in its namespace"
    STRING_FACTORY = "string names a factory"
    ESCAPES = "string with escapes"
    CLASH = "name clash with a name the file already uses"
    TOP_LEVEL = "the canonical module is top-level"
    OTHER_TOP = "plain import whose package differs from the canonical's"
    DEFINITION = "a second implementation: delete it and import the canonical"
    NO_RULE = "no rewrite applies (a name also bound otherwise, or a form it does not know)"
    BINDING_KEPT = "import kept: the name is still used"
    NOT_WRITABLE = "not writable"
    CHANGED = "changed while fixing; run again"
    UNPARSABLE = "does not parse"
    INTERNAL = "left untouched: the rewrite could not be completed (a bug of ours)"


@dataclass(frozen=True)
class Listing:
    """One reference left untouched (or one file not processed), at its line *after* the
    rewrite."""

    file: str
    line: int
    reason: str  # one of Reason (formatted): what the listings are grouped by
    detail: str = ""  # this case's specifics
    path: str = ""  # the entry referenced

    def render(self, error: bool = False) -> str:
        tag = "error: " if error else ""
        tail = f": {self.detail}" if self.detail else ""
        return shown(f"{self.file}:{self.line}: {tag}{self.reason}{tail}")


@dataclass
class FixResult:
    changed: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # rel: (old, new)
    unsafe: list[Listing] = field(default_factory=list)  # left for a person
    errors: list[Listing] = field(default_factory=list)  # files not processed
    rewritten: int = 0
    # reference kind -> [rewritten, seen]: the shares the benchmark reports
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    # rel -> (line as read, the facts a rewrite there rests on): ``fix --explain``
    explained: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def explain(self) -> str:
        """Per rewritten file, the facts each rewrite used: which binding, which module
        identity (the probe's answer or the declared replacement), why late binding
        holds."""
        out = []
        for rel in sorted(self.changed):
            for line, why in sorted(set(self.explained.get(rel, ()))):
                out.append(f"{rel}:{line}: {why}\n")
        return "".join(out)

    def count(self, kind: str, rewritten: bool) -> None:
        slot = self.by_kind.setdefault(kind, [0, 0])
        slot[1] += 1
        slot[0] += int(rewritten)

    def diff(self) -> str:
        out = []
        for rel, (old, new) in sorted(self.changed.items()):
            out.extend(difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{shown(rel)}", tofile=f"b/{shown(rel)}"))
        return "".join(out)

    def groups(self) -> list[tuple[int, str]]:
        """``(count, reason)`` of the listings, most frequent first."""
        counts: dict[str, int] = {}
        for u in (*self.unsafe, *self.errors):
            counts[u.reason] = counts.get(u.reason, 0) + 1
        # (a reason may name a file: ``read by app/x.py``)
        return sorted(((n, shown(r)) for r, n in counts.items()), key=lambda t: (-t[0], t[1]))


def line_map(old: bytes, new: bytes) -> "callable":
    """Old line number -> the line it has after the rewrite (1-based)."""
    a = old.splitlines()
    b = new.splitlines()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()

    def where(line: int) -> int:
        i = line - 1
        for tag, i1, i2, j1, j2 in ops:
            if i1 <= i < i2 or (i1 == i2 == i):
                if tag == "equal":
                    return j1 + (i - i1) + 1
                return j1 + min(i - i1, max(j2 - j1 - 1, 0)) + 1
        return line

    return where
