"""SPEC 5's matching rules, compiled from the contracts. Pure: no I/O, no pytest.

A :class:`Matcher` answers, for one import statement or one string, which declared entries
it references. It is built once per scan and shipped to worker processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..config import Contract
from ..paths import SsotPath

__all__ = ["Entry", "Hit", "Matcher"]


@dataclass(frozen=True)
class Entry:
    """One declared path of one contract, as the scan sees it."""

    contract: str
    role: str  # legacy | factory | canonical
    path: SsotPath
    fix: str  # the canonical path to use instead


@dataclass(frozen=True)
class Hit:
    """One reference found in a file (before pragmas, areas and reporting)."""

    entry: Entry
    kind: str  # import | attribute | call | string | definition
    line: int  # where the statement or string starts (what the report shows)
    stmt_line: int  # where the statement starts (where `# ssot: ignore` must be)
    # The reference's source, runs of whitespace collapsed to one space: the import
    # statement, the expression, the string literal as written, or ``class A``/``def A``
    # (baseline fingerprints are built from it: stable when lines move).
    text: str = ""


# ``from .``, ``from ..x``, also across a line continuation: a relative import.
_RELATIVE = rb"(?<![A-Za-z0-9_])from[ \t\\\r\n]*\."


def _words_re(words: Iterable[str]) -> "re.Pattern[bytes]":
    alternatives = "|".join(sorted(re.escape(w) for w in words))
    return re.compile(rb"(?<![A-Za-z0-9_])(?:" + alternatives.encode() + rb")(?![A-Za-z0-9_])")


def _prefixes(dotted: str) -> Iterable[str]:
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i])


@dataclass
class Matcher:
    contracts: Sequence[Contract]
    module_entries: dict[str, list[Entry]] = field(default_factory=dict)
    # "M.A" -> entries for attribute entries (legacy, factory and canonical alike)
    attr_entries: dict[str, list[Entry]] = field(default_factory=dict)
    # canonical attribute name -> (contract, canonical module) for second definitions
    definitions: dict[str, list[Entry]] = field(default_factory=dict)
    # modules whose files are the shims: never scanned
    shim_modules: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for c in self.contracts:
            fix = str(c.canonical)
            declared = [("legacy", p) for p in c.legacy] + [("factory", p) for p in c.factories]
            declared.append(("canonical", c.canonical))
            for role, p in declared:
                entry = Entry(c.name, role, p, fix)
                if p.attr is None:
                    if role == "canonical":
                        # A module canonical: references are imports of it and its strings.
                        self.module_entries.setdefault(p.module, []).append(entry)
                    else:
                        self.module_entries.setdefault(p.module, []).append(entry)
                        self.shim_modules.add(p.module)
                    self.words.add(p.module.rpartition(".")[2])
                else:
                    self.attr_entries.setdefault(f"{p.module}.{p.attr}", []).append(entry)
                    self.words.add(p.attr)
            if c.canonical.attr is not None:
                entry = Entry(c.name, "definition", c.canonical, fix)
                self.definitions.setdefault(c.canonical.attr, []).append(entry)

    # ------------------------------------------------------------------ pre-filter

    def prefilter(self) -> "re.Pattern[bytes]":
        """A byte pattern every file holding a reference must match (see ``scan``).

        Every form of SPEC 5 spells the entry's last name as a whole word: an import names
        it, a relative import names it, a string that equals or starts with the path
        contains it followed by a quote or a dot, a definition is ``class A``/``def A``.
        Prefix decoys (``manager_utils``) are not whole words.
        """
        return _words_re(self.words)

    def conditions(self) -> list[tuple[bytes, "re.Pattern[bytes] | None"]]:
        """Per entry, a second necessary condition: ``(word, context)``.

        A reference to ``a.b.c`` (or ``a.b:c``) spells ``c`` as a word and, unless it is a
        relative import, also ``b``: ``import a.b.c``, ``from a.b import c``,
        ``from a.b.c import x``, ``"a.b.c..."``. A second definition spells
        ``class c``/``def c``. ``context`` is a pattern one of which must match too
        (``None``: the word alone).
        """
        out: list[tuple[bytes, re.Pattern[bytes] | None]] = []
        for c in self.contracts:
            for p in (*c.legacy, *c.factories, c.canonical):
                if p.attr is None:
                    parent, _, last = p.module.rpartition(".")
                else:
                    parent, last = p.module, p.attr
                if not parent:
                    out.append((last.encode(), None))
                    continue
                ctx = parent.rpartition(".")[2]
                out.append((last.encode(), re.compile(
                    rb"(?<![A-Za-z0-9_])" + re.escape(ctx.encode()) + rb"(?![A-Za-z0-9_])"
                    + rb"|" + _RELATIVE)))
            if c.canonical.attr is not None:
                name = re.escape(c.canonical.attr.encode())
                out.append((c.canonical.attr.encode(), re.compile(
                    rb"(?<![A-Za-z0-9_])(?:class|def)[ \t\\\r\n]+" + name
                    + rb"(?![A-Za-z0-9_])")))
        return out

    def is_shim(self, module: str | None) -> bool:
        """Is this module (or a module inside) a declared legacy/factory module entry?"""
        if not module:
            return False
        for shim in self.shim_modules:
            if module == shim or module.startswith(shim + "."):
                return True
        return False

    # ------------------------------------------------------------------ matching

    def for_module(self, module: str) -> list[Entry]:
        """Entries referenced by importing ``module`` (``import M``, ``import M.sub``)."""
        found: list[Entry] = []
        for prefix in _prefixes(module):
            found.extend(self.module_entries.get(prefix, ()))
        return found

    def for_from(self, module: str, names: Sequence[str]) -> list[Entry]:
        """Entries referenced by ``from module import names``."""
        found = self.for_module(module)  # one per statement
        for name in names:
            if name == "*":
                continue
            full = f"{module}.{name}"
            found.extend(self.module_entries.get(full, ()))  # from P import L, P.L == M
            found.extend(self.attr_entries.get(full, ()))  # from M import A
        return found

    def for_string(self, text: str) -> list[Entry]:
        """Entries a string literal references: equal to the path or starting with it + '.'."""
        if "." not in text and text not in self.module_entries:
            return []
        found: list[Entry] = []
        for prefix in _prefixes(text):
            found.extend(self.module_entries.get(prefix, ()))
            found.extend(self.attr_entries.get(prefix, ()))
        return found

    def for_definition(self, name: str, module: str | None) -> list[Entry]:
        return [e for e in self.definitions.get(name, ()) if e.path.module != module]
