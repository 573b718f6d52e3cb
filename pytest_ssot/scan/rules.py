"""SPEC 5's matching rules, compiled from the contracts. Pure: no I/O, no pytest.

A :class:`Matcher` answers, for one import statement or one string, which declared entries
it references. It is built once per scan and shipped to worker processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from ..domain.contracts import Contract
from ..domain.paths import SsotPath
from ..domain.refkind import RefKind, Role

__all__ = ["Entry", "Hit", "Matcher", "hint"]


@dataclass(frozen=True)
class Entry:
    """One declared path of one contract, as the scan sees it."""

    contract: str
    role: Role  # legacy | factory | canonical | definition (``Role``)
    path: SsotPath
    fix: str  # the canonical path to use instead


@dataclass(frozen=True)
class Hit:
    """One reference found in a file (before pragmas, areas and reporting)."""

    entry: Entry
    kind: RefKind  # import | attribute | call | string | definition (``RefKind``)
    line: int  # where the statement or string starts (what the report shows)
    stmt_line: int  # where the statement starts (where `# ssot: ignore` must be)
    # The reference's source, runs of whitespace collapsed to one space: the import
    # statement, the expression, the string literal as written, or ``class A``/``def A``
    # (baseline fingerprints are built from it: stable when lines move).
    text: str = ""


_FROM = re.compile(r"^from\s+(\S+)\s+import\s+\(?\s*(.*?)\s*,?\s*\)?\s*(?:#.*)?$", re.S)


def hint(entry: Entry, kind: str, text: str) -> str:
    """What to write instead, for one reference: the entry's hint, except that a
    from-import of a legacy module names the canonical module with the names this line
    imports (``from pandas.util.testing import assert_series_equal`` ->
    ``pandas.testing:assert_series_equal``, not the contract's own symbol), and an
    import of the module itself names the canonical module."""
    if entry.role != Role.LEGACY or entry.path.attr is not None or kind != RefKind.IMPORT:
        return entry.fix
    module = entry.fix.partition(":")[0]
    m = _FROM.match(text.strip())
    if m is None:
        return module if text.lstrip().startswith("import ") else entry.fix
    names = [n.strip().split(" as ")[0].strip() for n in m.group(2).split(",") if n.strip()]
    if m.group(1) != str(entry.path.module) or not names or "*" in names:
        return module if m.group(1) != str(entry.path.module) else entry.fix
    return ", ".join(f"{module}:{n}" for n in names)


def _prefixes(dotted: str) -> Iterable[str]:
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i])


@dataclass
class Matcher:
    contracts: Sequence[Contract]
    # contract name -> modules that define (or re-export on the way to) the canonical
    # object besides the canonical module itself: no definition is reported there.
    defining: Mapping[str, Iterable[str]] = field(default_factory=dict)
    module_entries: dict[str, list[Entry]] = field(default_factory=dict)
    # "M.A" -> entries for attribute entries (legacy, factory and canonical alike)
    attr_entries: dict[str, list[Entry]] = field(default_factory=dict)
    # canonical attribute name -> (contract, canonical module) for second definitions
    definitions: dict[str, list[Entry]] = field(default_factory=dict)
    # modules whose files are the shims: never scanned
    shim_modules: set[str] = field(default_factory=set)
    # the last name of every entry: a chain or a string reaching an entry spells it
    words: set[str] = field(default_factory=set)
    # every dotted prefix of every entry path: an import binding a name to one of these
    # can lead a chain to an entry
    prefixes: set[str] = field(default_factory=set)
    # every name of every entry path: a statement spelling none of them holds no import,
    # chain, string or definition that matters
    tokens: set[str] = field(default_factory=set)
    # "M.A" of factory attribute entries, and factory module entries: calls count
    factory_attrs: dict[str, list[Entry]] = field(default_factory=dict)
    factory_modules: dict[str, list[Entry]] = field(default_factory=dict)
    # contract name -> (top-level package, modules where a definition is not a second one)
    _def_scope: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for c in self.contracts:
            fix = str(c.canonical)
            declared = ([(Role.LEGACY, p) for p in c.legacy]
                        + [(Role.FACTORY, p) for p in c.factories])
            declared.append((Role.CANONICAL, c.canonical))
            replaced = {str(f): str(t) for f, t in c.replacements}
            for role, p in declared:
                # a factory's hint is its declared replacement (what ``fix`` writes)
                entry = Entry(c.name, role, p,
                              replaced.get(str(p), fix) if role == Role.FACTORY else fix)
                dotted = p.module if p.attr is None else f"{p.module}.{p.attr}"
                self.prefixes.update(_prefixes(dotted))
                self.tokens.update(dotted.split("."))
                if p.attr is None:
                    self.module_entries.setdefault(p.module, []).append(entry)
                    if role != Role.CANONICAL:
                        self.shim_modules.add(p.module)
                    if role == Role.FACTORY:
                        self.factory_modules.setdefault(p.module, []).append(entry)
                    self.words.add(p.module.rpartition(".")[2])
                else:
                    self.attr_entries.setdefault(dotted, []).append(entry)
                    if role == Role.FACTORY:
                        self.factory_attrs.setdefault(dotted, []).append(entry)
                    self.words.add(p.attr)
            if c.canonical.attr is not None:
                entry = Entry(c.name, Role.DEFINITION, c.canonical, fix)
                self.definitions.setdefault(c.canonical.attr, []).append(entry)
                exempt = frozenset({c.canonical.module, *self.defining.get(c.name, ())})
                self._def_scope[c.name] = (c.canonical.module.partition(".")[0], exempt)

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
        """Entries referenced by importing ``module`` (``import M``, ``import M.sub``,
        ``import M.A`` where ``M:A`` is a submodule)."""
        found: list[Entry] = []
        for prefix in _prefixes(module):
            found.extend(self.module_entries.get(prefix, ()))
            found.extend(self.attr_entries.get(prefix, ()))
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

    def for_qualified(self, name: str) -> list[Entry]:
        """Entries whose path is exactly this qualified name (``M`` or ``M.A``)."""
        return [*self.module_entries.get(name, ()), *self.attr_entries.get(name, ())]

    def for_string(self, text: str, import_like: bool) -> list[Entry]:
        """Entries a string literal references: the whole literal a dotted path, equal to
        the entry's path or starting with it + '.'; the longest entry only. A single
        identifier module only in an import-like position."""
        if not text or len(text) > 1000:
            return []
        parts = text.split(".")
        if not all(p.isidentifier() for p in parts):
            return []
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i]) if i > 1 else parts[0]
            found = self.for_qualified(prefix)
            if found:
                if i == 1 and not import_like:
                    return []
                return found
        return []

    def binds(self, value: str, from_import: bool) -> bool:
        """Can a name bound to ``value`` by an import lead to a reference (a chain through
        it, or a call of it)?"""
        if value in self.prefixes:
            return True
        return from_import and bool(self.calls(value))

    def calls(self, value: str) -> list[Entry]:
        """Factory entries a call of a name imported as ``value`` (``from M import A``)
        references."""
        found = list(self.factory_attrs.get(value, ()))
        if self.factory_modules:
            for prefix in _prefixes(value.rpartition(".")[0]):
                found.extend(self.factory_modules.get(prefix, ()))
        return found

    def for_definition(self, name: str, module: str | None) -> list[Entry]:
        """A module-level ``class name``/``def name`` in ``module``: a second definition of a
        canonical object when it is in the canonical's top-level package, outside the
        canonical module and the module where the canonical object is defined."""
        if module is None:
            return []
        found = []
        for e in self.definitions.get(name, ()):
            top, exempt = self._def_scope[e.contract]
            if (module == top or module.startswith(top + ".")) and module not in exempt:
                found.append(e)
        return found
