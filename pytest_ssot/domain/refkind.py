"""Reference kinds and entry roles (SPEC 5, 13), and the ONE table of what each means.

A reference the scan reports has a kind (how the file refers to a declared path: an
import, an attribute chain, a factory call, a string, a second definition, a mention in a
doc or configuration file) and its entry a role (what the declared path is: legacy,
factory, canonical; ``definition`` for a second definition of a canonical name).

Both are ``str`` enums: a member is equal to, hashes as, prints and formats as its value,
so cached data, JSON reports and SARIF stay what they were with bare strings. The records
the scan cache and the forked workers exchange (``marshal``, which takes no ``str``
subclass) hold the plain value: ``str(member)``.

Adding a kind: a member of ``RefKind``, a row of ``KINDS_TABLE``, and the analysis that
finds it (``scan/analysis`` for Python files, ``scan/text`` for docs and configuration).
Everything else reads the table. Pure: stdlib only.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

__all__ = ["Fix", "Found", "KINDS", "KINDS_TABLE", "KindInfo", "PrefilterWord", "ROLES_TABLE",
           "RefKind", "Role", "RoleInfo", "SOURCES", "kinds_where"]


class _StrEnum(str, Enum):
    """A ``str`` enum whose members print and format as their value (``enum.StrEnum``
    is Python 3.11+; we support 3.10)."""

    def __str__(self) -> str:
        # the value itself (the one interned string, as a bare literal was: marshal then
        # writes the cache's records as it did)
        return self._value_  # type: ignore[no-any-return]

    __format__ = str.__format__


class RefKind(_StrEnum):
    """How a file refers to a declared path (the ``kind`` of a violation)."""

    IMPORT = "import"
    ATTRIBUTE = "attribute"
    CALL = "call"
    STRING = "string"
    DEFINITION = "definition"
    DOC = "doc"
    CONFIG = "config"


class Role(_StrEnum):
    """What a declared path is to its contract (the ``role`` of an entry)."""

    LEGACY = "legacy"
    FACTORY = "factory"
    CANONICAL = "canonical"
    DEFINITION = "definition"  # the canonical name, where a second definition is looked for


class Found(_StrEnum):
    """Which part of the scan finds a kind."""

    ANALYSIS = "analysis"  # scan.analysis: Python files, parsed
    TEXT = "text"  # scan.text: documentation and configuration files, tokenized


class PrefilterWord(_StrEnum):
    """What the byte pre-filter (``scan.prefilter``) must find in a Python file that holds
    a reference of the kind, for the file to be parsed at all."""

    ENTRY_NAME = "entry-name"  # the last name of a declared path, where a reference may be
    DEFINITION_NAME = "definition-name"  # a canonical's name after ``class``/``def``


class Fix(_StrEnum):
    """How ``pytest-ssot fix`` rewrites a kind (the codemod module that does it)."""

    IMPORTS = "imports"  # codemod.imports: the import statement names the canonical path
    CHAINS = "chains"  # codemod.chains: the chain's part reaching the entry, getattr forms
    CALLS = "calls"  # codemod.calls: the factory name renamed to its declared replacement
    STRINGS = "strings"  # codemod.strings: the dotted path in the literal
    TEXT = "text"  # codemod.text_fix: the spelling in the doc or configuration file


class KindInfo(NamedTuple):
    """What one kind means to the scan, the pre-filter, the codemod and the reports."""

    kind: RefKind
    found_by: Found
    # the source whose compliance ratio counts it (SPEC 13: code, docs, config); None:
    # reported, but in no ratio (a factory call, a second definition)
    compliance: str | None
    prefilter: PrefilterWord | None  # None: not in Python files (the text scan's own)
    fix: Fix | None  # None: never rewritten (reported only)


KINDS_TABLE: dict[RefKind, KindInfo] = {info.kind: info for info in (
    KindInfo(RefKind.IMPORT, Found.ANALYSIS, "code", PrefilterWord.ENTRY_NAME, Fix.IMPORTS),
    KindInfo(RefKind.ATTRIBUTE, Found.ANALYSIS, "code", PrefilterWord.ENTRY_NAME, Fix.CHAINS),
    KindInfo(RefKind.CALL, Found.ANALYSIS, None, PrefilterWord.ENTRY_NAME, Fix.CALLS),
    KindInfo(RefKind.STRING, Found.ANALYSIS, "code", PrefilterWord.ENTRY_NAME, Fix.STRINGS),
    KindInfo(RefKind.DEFINITION, Found.ANALYSIS, None, PrefilterWord.DEFINITION_NAME, None),
    KindInfo(RefKind.DOC, Found.TEXT, "docs", None, Fix.TEXT),
    KindInfo(RefKind.CONFIG, Found.TEXT, "config", None, Fix.TEXT),
)}

# Every kind in report order (counts by kind list them so).
KINDS: tuple[RefKind, ...] = tuple(KINDS_TABLE)
# Where a reference stands -> the kinds whose ratio is that source's compliance (SPEC 13).
SOURCES: dict[str, frozenset[RefKind]] = {
    source: frozenset(k for k, info in KINDS_TABLE.items() if info.compliance == source)
    for source in ("code", "docs", "config")}


def kinds_where(**wanted: object) -> tuple[RefKind, ...]:
    """The kinds whose row has every given field equal to the given value, in table
    order: ``kinds_where(found_by=Found.TEXT)`` -> ``(DOC, CONFIG)``."""
    return tuple(k for k, info in KINDS_TABLE.items()
                 if all(getattr(info, f) == v for f, v in wanted.items()))


class RoleInfo(NamedTuple):
    """What one role means to the reports: the SARIF rule of its violations (``None``:
    the role's references are no violations)."""

    role: Role
    sarif_id: str | None
    sarif_name: str | None
    sarif_description: str | None
    # ``{contract}``: the contract's name (SARIF's short description of the rule)
    sarif_short: str | None


ROLES_TABLE: dict[Role, RoleInfo] = {info.role: info for info in (
    RoleInfo(Role.LEGACY, "SSOT001", "legacy-import-path",
             "A reference to a legacy import path of an SSOT contract.",
             "A reference to a legacy import path of {contract}."),
    RoleInfo(Role.FACTORY, "SSOT002", "deprecated-factory",
             "A reference to a deprecated factory of an SSOT contract.",
             "A reference to a deprecated factory of {contract}."),
    RoleInfo(Role.CANONICAL, None, None, None, None),  # a canonical reference is no violation
    RoleInfo(Role.DEFINITION, "SSOT003", "second-implementation",
             "A second module-level definition of a canonical SSOT name.",
             "A second definition of {contract}'s canonical name."),
)}
