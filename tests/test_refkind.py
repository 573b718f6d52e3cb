"""The one table of reference kinds and roles (``domain.refkind``): complete, consistent
with what the analysis, the text scan, the pre-filter, the codemod and SARIF do, and
invisible in every output (the members are their string values)."""

from __future__ import annotations

import json
import marshal
import re
import textwrap
from pathlib import Path

import pytest

from pytest_ssot.config import contract_from_mapping
from pytest_ssot.domain.refkind import (KINDS, KINDS_TABLE, ROLES_TABLE, SOURCES, Fix, Found,
                                        PrefilterWord, RefKind, Role, kinds_where)
from pytest_ssot.scan import COMPLIANCE_KINDS
from pytest_ssot.scan.analysis import analyze
from pytest_ssot.scan.fingerprint import rows
from pytest_ssot.scan.prefilter import Filter
from pytest_ssot.scan.rules import Matcher
from pytest_ssot.scan.text import TEXT_KINDS, TextFiles, TextScanner

WS = contract_from_mapping({
    "name": "ws",
    "canonical": "chat.ws.websocket_manager:WebSocketManager",
    "legacy": ["chat.ws.manager", "chat.ws:WebSocketManager"],
    "factories": ["chat.ws:create_manager"],
}, "test", "contracts")
MATCHER = Matcher([WS])
FILTER = Filter(MATCHER)
ANALYSIS = Path(__file__).resolve().parent.parent / "pytest_ssot" / "scan" / "analysis"

# One Python file per kind the analysis finds, with a reference of that kind. A kind added
# to the table as found by the analysis needs its sample here (the test below says so).
SAMPLES: dict[RefKind, tuple[str, str]] = {
    RefKind.IMPORT: ("app.mod", "import chat.ws.manager\n"),
    RefKind.ATTRIBUTE: ("app.mod", "from chat import ws\nws.WebSocketManager()\n"),
    RefKind.CALL: ("app.mod", "from chat.ws import create_manager\ncreate_manager()\n"),
    RefKind.STRING: ("app.mod", 'patch("chat.ws.manager.send")\n'),
    RefKind.DEFINITION: ("chat.other", "class WebSocketManager:\n    pass\n"),
}


def test_the_kinds_and_sources_are_the_strings_they_always_were() -> None:
    assert KINDS == ("import", "attribute", "call", "string", "definition", "doc", "config")
    assert COMPLIANCE_KINDS == {"import", "attribute", "string"}
    assert SOURCES == {"code": {"import", "attribute", "string"}, "docs": {"doc"},
                       "config": {"config"}}
    assert list(SOURCES) == ["code", "docs", "config"]
    assert [r.value for r in Role] == ["legacy", "factory", "canonical", "definition"]


@pytest.mark.parametrize("member", [*RefKind, *Role])
def test_a_member_is_its_value_wherever_it_is_written(member: RefKind | Role) -> None:
    value = member.value
    assert member == value and hash(member) == hash(value)
    assert {value: 1}[member] == 1 and member in frozenset({value})
    assert str(member) == f"{member}" == "%s" % member == format(member, "") == value
    assert f"{member:>12}" == f"{value:>12}"
    assert json.dumps({member: [member]}) == json.dumps({value: [value]})
    # the records the cache and the workers exchange: marshal takes no str subclass, and
    # ``str(member)`` is the very string a bare literal was (same marshal bytes)
    with pytest.raises(ValueError):
        marshal.dumps(member)
    assert type(str(member)) is str and str(member) is value
    assert marshal.dumps([str(member)] * 3) == marshal.dumps([value] * 3)


def test_every_kind_and_role_has_its_row() -> None:
    assert list(KINDS_TABLE) == list(RefKind)
    assert all(k is info.kind for k, info in KINDS_TABLE.items())
    assert list(ROLES_TABLE) == list(Role)
    assert all(r is info.role for r, info in ROLES_TABLE.items())
    # a Python-file kind names the word the pre-filter needs; a text kind needs none
    for kind, info in KINDS_TABLE.items():
        assert (info.prefilter is None) == (info.found_by is Found.TEXT), kind
        assert info.compliance in (None, *SOURCES), kind
    assert kinds_where(found_by=Found.TEXT) == (RefKind.DOC, RefKind.CONFIG)
    # the pre-filter has a rule for every word the table asks of it
    from pytest_ssot.scan.prefilter import WORDS_FOUND

    assert {i.prefilter for i in KINDS_TABLE.values()} - {None} <= WORDS_FOUND
    assert kinds_where(fix=None) == (RefKind.DEFINITION,)


def test_the_analysis_emits_only_kinds_of_the_table_and_no_bare_string() -> None:
    named = set()
    for path in ANALYSIS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"Hit\([^,]+,\s*[\"']", text), f"{path.name}: a bare kind"
        named |= set(re.findall(r"RefKind\.([A-Z_]+)", text))
    emitted = {RefKind[n] for n in named}
    assert emitted == set(kinds_where(found_by=Found.ANALYSIS))


@pytest.mark.parametrize("kind", list(kinds_where(found_by=Found.ANALYSIS)))
def test_each_analysis_kind_is_found_and_let_through_by_the_prefilter(kind: RefKind) -> None:
    assert kind in SAMPLES, f"a sample of {kind} for this test"
    module, code = SAMPLES[kind]
    data = textwrap.dedent(code).encode()
    hits, error = analyze(data, MATCHER, module, False)
    assert error is None
    assert kind in {h.kind for h in hits}
    assert all(type(h.kind) is RefKind and type(h.entry.role) is Role for h in hits)
    assert FILTER.needs_parse(data, module), f"the pre-filter must let {kind} through"
    # the records the cache stores hold plain strings (marshal would refuse a member)
    records = rows(hits)
    assert all(type(r[1]) is str and type(r[4]) is str for r in records)
    marshal.dumps(records)
    # the word the pre-filter needs is where the table says
    info = KINDS_TABLE[kind]
    wanted = (WS.canonical.attr if info.prefilter is PrefilterWord.DEFINITION_NAME else None)
    if wanted is not None:
        assert any(w.definition and w.word == wanted.encode() for w in FILTER.words)


def test_the_text_kinds_are_the_text_scans_and_its_records_plain() -> None:
    assert TEXT_KINDS == kinds_where(found_by=Found.TEXT)
    files = TextFiles(["*.md"], ["*.yaml"])
    assert files.kind("docs/a.md", "a.md") is RefKind.DOC
    assert files.kind("conf/a.yaml", "a.yaml") is RefKind.CONFIG
    out = TextScanner([WS]).analyze(b"Use chat.ws.manager here.\n", RefKind.DOC, "a.md")
    assert [(r[1], r[4]) for r in out] == [("legacy", "doc")]
    assert all(type(r[1]) is str and type(r[4]) is str for r in out)
    marshal.dumps(out)


def test_the_codemod_and_sarif_read_the_table() -> None:
    from pytest_ssot.codemod.text_fix import TEXT_FIX_KINDS
    from pytest_ssot.report.sarif import RULES

    assert TEXT_FIX_KINDS == kinds_where(fix=Fix.TEXT) == (RefKind.DOC, RefKind.CONFIG)
    assert RULES == {
        "legacy": ("SSOT001", "legacy-import-path",
                   "A reference to a legacy import path of an SSOT contract."),
        "factory": ("SSOT002", "deprecated-factory",
                    "A reference to a deprecated factory of an SSOT contract."),
        "definition": ("SSOT003", "second-implementation",
                       "A second module-level definition of a canonical SSOT name."),
    }
    ids = [info.sarif_id for info in ROLES_TABLE.values() if info.sarif_id]
    assert len(ids) == len(set(ids))
    # every role a violation can have has a rule; the canonical role is never a violation
    assert set(RULES) == set(Role) - {Role.CANONICAL}
