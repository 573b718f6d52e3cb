"""The scan is exact on SPEC 5's rules: every form found, no decoy reported.

The property test builds whole files out of snippets whose references are known (the
oracle is the generator, not the scanner), in many placements, and compares.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.config import contract_from_mapping
from pytest_ssot.scan.prefilter import Filter
from pytest_ssot.scan.rules import Matcher
from pytest_ssot.scan.analysis import analyze

CONTRACT = contract_from_mapping({
    "name": "ws",
    "canonical": "chat.ws.websocket_manager:WebSocketManager",
    "legacy": ["chat.ws.unified_manager", "chat.ws.manager", "chat.ws:WebSocketManager"],
    "factories": ["chat.ws:create_manager", "chat.ws.factory"],
}, "test", "contracts")
MATCHER = Matcher([CONTRACT])
FILTER = Filter(MATCHER)

M_UNI = ("legacy", "chat.ws.unified_manager")
M_MGR = ("legacy", "chat.ws.manager")
A_WSM = ("legacy", "chat.ws:WebSocketManager")
F_CREATE = ("factory", "chat.ws:create_manager")
F_MOD = ("factory", "chat.ws.factory")
CANON = ("canonical", "chat.ws.websocket_manager:WebSocketManager")
DEF = ("definition", "chat.ws.websocket_manager:WebSocketManager")

# (code, [(role, path, kind)]) -- the file is module chat.ws.sub.mod (package chat.ws.sub)
IMPORTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("import chat.ws.unified_manager", [M_UNI]),
    ("import chat.ws.unified_manager.inner as x", [M_UNI]),
    ("import os, chat.ws.manager", [M_MGR]),
    ("import chat.ws.manager as m, chat.ws.unified_manager", [M_MGR, M_UNI]),
    ("import chat . ws . manager", [M_MGR]),
    ("from chat.ws.unified_manager import UnifiedWebSocketManager", [M_UNI]),
    ("from chat.ws.unified_manager import (a,\n    b,\n)", [M_UNI]),
    ("from chat.ws.manager.inner import thing", [M_MGR]),
    ("from chat.ws.manager import *", [M_MGR]),
    ("from chat.ws import manager", [M_MGR]),
    ("from chat.ws import manager, unified_manager", [M_MGR, M_UNI]),
    ("from chat.ws import \\\n    manager", [M_MGR]),
    ("from chat.ws import WebSocketManager", [A_WSM]),
    ("from chat.ws import WebSocketManager as WSM, create_manager", [A_WSM, F_CREATE]),
    ("from chat.ws import (\n    other,\n    WebSocketManager,\n)", [A_WSM]),
    ("from chat.ws import factory", [F_MOD]),
    ("import chat.ws.factory", [F_MOD]),
    ("from chat.ws.websocket_manager import WebSocketManager", [CANON]),
    ("from chat.ws.websocket_manager import WebSocketManager as W", [CANON]),
    ("from .. import manager", [M_MGR]),
    ("from ..manager import X", [M_MGR]),
    ("from .. import WebSocketManager", [A_WSM]),
    ("from ..websocket_manager import WebSocketManager", [CANON]),
    ("from ...ws import create_manager", [F_CREATE]),
    ("from chat.ws import ｍanager", [M_MGR]),  # NFKC: a fullwidth m is an m to Python
]
STRINGS: list[tuple[str, list[tuple[str, str]]]] = [
    ('X = "chat.ws.manager"', [M_MGR]),
    ("X = 'chat.ws.manager.WebSocketManager.send'", [M_MGR]),
    ('patch("chat.ws.WebSocketManager")', [A_WSM]),
    ('patch("chat.ws.WebSocketManager.send_event")', [A_WSM]),
    ('patch("chat.ws.create_manager")', [F_CREATE]),
    ('X = "chat.ws.websocket_manager.WebSocketManager"', [CANON]),
    ('X = "chat.ws." "manager"', [M_MGR]),  # implicit concatenation is one literal
    ('X = "chat.ws.\\x6danager"', [M_MGR]),  # an escape spelling a letter
    ('X = "chat.ws.m\\u0061nager"', [M_MGR]),
    ('X = "chat.ws.\\N{LATIN SMALL LETTER M}anager"', [M_MGR]),
    ('importlib.import_module("chat.ws.unified_manager")', [M_UNI]),
    ('X = "chat.ws." "manager" ".send"', [M_MGR]),  # the word ends one part of three
    ('X = "chat.ws.manager\\x2eWebSocketManager"', [M_MGR]),  # an escaped dot after it
    ('X = "#"; Y = "chat.ws.manager"', [M_MGR]),  # a "#" in a string before it
    ("X = '#'; Y = 'chat.ws.manager'", [M_MGR]),
]
DECOYS: list[str] = [
    "import chat.ws.manager_utils",
    "from chat.ws.manager_utils import x",
    "from chat.ws import manager_utils",
    "import chat.wsx.manager",
    "from chat.ws.websocket_manager import UserContext",
    "from chat.ws import WebSocketManagerFactory",
    "from other.ws import manager",
    "from chat import ws",
    'X = "chat.ws.manager_utils"',
    'log.info("see chat.ws.manager for details")',
    'log.info("chat.ws.manager is deprecated")',  # starts with the path, not with "path."
    "log.info('chat.ws.manager: gone')",
    'X = "chat.ws." "manager is gone"',
    'X = "\\"chat.ws.manager"',  # an escaped quote opens the content
    "X = 1  # from chat.ws import manager",
    "pass  # import chat.ws.manager, 'quoted' later",
    'X = "chat.ws.managerX"',
    'X = b"chat.ws.manager"',
    'X = f"{prefix}chat.ws.manager"',
    'X = f"chat.ws.manager"',  # f-strings never count
    'X = "chat.ws.manager" ".send, the legacy path"',  # the whole literal is no dotted path
    "pass  # import chat.ws.manager",
    'X = "chat.ws:WebSocketManager"',
    "class WebSocketManagerV2:\n    pass",
    "def f():\n    class WebSocketManager:\n        pass",
    'def g():\n    """chat.ws.manager is documented here."""',
    "manager = 1",
    "WebSocketManager = make()",
]
DEFINITIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("class WebSocketManager:\n    pass", [DEF]),
    ("def WebSocketManager():\n    pass", [DEF]),
    ("async def WebSocketManager():\n    pass", [DEF]),
]


def _kind(code: str, role: str) -> str:
    if role == "definition":
        return "definition"
    return "import" if code.lstrip().startswith(("import ", "from ")) else "string"


def run(code: str, module: str = "chat.ws.sub.mod", is_package: bool = False):
    """The references, checked to be the same with the fast, line-restricted walk."""
    data = code.encode("utf-8")
    hits, error = analyze(data, MATCHER, module, is_package, always_resolve=True)
    assert error is None, error
    full = [(h.entry.role, str(h.entry.path), h.kind, h.line) for h in hits]
    fast, error = analyze(data, MATCHER, module, is_package)
    assert error is None, error
    assert [(h.entry.role, str(h.entry.path), h.kind, h.line) for h in fast] == full
    if full:
        assert FILTER.needs_parse(data), "the pre-filter must let it through"
    return full


@pytest.mark.parametrize("code, expected", IMPORTS + STRINGS + DEFINITIONS,
                         ids=lambda x: x if isinstance(x, str) else None)
def test_each_form_is_found(code: str, expected: list[tuple[str, str]]) -> None:
    source = "import sys\n" + code + "\n"
    got = run(source)
    want = sorted((r, p, _kind(code, r), 2) for r, p in expected)
    assert sorted(got) == want
    assert FILTER.needs_parse(source.encode()), "the pre-filter must let it through"


@pytest.mark.parametrize("code", DECOYS)
def test_decoys_are_not_references(code: str) -> None:
    assert run("import sys\n" + code + "\n") == []


def test_definition_inside_the_canonical_module_is_not_a_violation() -> None:
    assert run("class WebSocketManager:\n    pass\n", module="chat.ws.websocket_manager") == []


def test_relative_import_from_a_package_init() -> None:
    got = run("from . import manager\nfrom .websocket_manager import WebSocketManager\n",
              module="chat.ws", is_package=True)
    assert sorted(got) == sorted([(*M_MGR, "import", 1), (*CANON, "import", 2)])


def test_relative_import_beyond_top_level_is_ignored() -> None:
    assert run("from .... import manager\n") == []


def test_docstrings_of_module_class_function_are_not_strings() -> None:
    code = '"""chat.ws.manager"""\nclass C:\n    """chat.ws.manager"""\n' \
           'async def f():\n    """chat.ws.manager"""\n    return "chat.ws.manager"\n'
    assert run(code) == [(*M_MGR, "string", 6)]


def test_string_line_is_where_the_string_starts() -> None:
    code = "call(\n    1,\n    'chat.ws.manager',\n)\n"
    assert run(code) == [(*M_MGR, "string", 3)]


@pytest.mark.parametrize("pragma, suppressed", [
    ("# ssot: ignore", True), ("#ssot:ignore", True), ("# ssot: ignore[ws]", True),
    ("# ssot: ignore[other, ws]", True), ("# ssot: ignore[other]", False),
    ("# ssot ignore", False),
])
def test_pragmas(pragma: str, suppressed: bool) -> None:
    got = run(f"from chat.ws import manager  {pragma}\n")
    assert (got == []) is suppressed


def test_pragma_must_be_on_the_statement_line_and_a_comment() -> None:
    code = "from chat.ws import (  # ssot: ignore\n    manager,\n)\n" \
           "X = '# ssot: ignore'; import chat.ws.manager\n"
    assert run(code) == [(*M_MGR, "import", 4)]


@pytest.mark.parametrize("code", [
    'log.info("chat.ws.manager is deprecated")\n',
    "X = 1  # from chat.ws import manager\n",
    '"""Docs.\n\n# chat.ws.manager was the old home\n"""\n',
    'X = "chat.ws." "manager is gone"\n',
    'log.info("moved to chat.ws."\n         "manager in 2.0")\n',
    'X = ("chat.ws.man" "ager is gone")\n',
    'X = "\\x41BC \\141"  # escapes that spell no entry name\n',
])
def test_the_pre_filter_skips_mentions_it_can_rule_out(code: str) -> None:
    assert run(code) == []
    assert not FILTER.needs_parse(code.encode())


@pytest.mark.parametrize("code, line", [
    ("x = 1\r# a comment\rimport chat.ws.manager\r", 3),  # old Mac line ends
    ('"""doc\n#"""; import chat.ws.manager\n', 2),  # the "#" is in a closing string
    ('X = "chat.ws.manager\\\n.send"\n', 1),  # a backslash-newline inside the string
    ('X = ("\\\nchat.ws.manager")\n', 1),  # found by 3,000 generated files
    # one literal in pieces (implicit concatenation, a continuation): one string
    ('patch("chat.ws." "manager.send")\n', 1),
    ('@mock.patch("chat.ws."  # the old home\n            "manager.send")\ndef t(): pass\n', 1),
    ('X = ("chat.w" "s.manager")\n', 1),
    ('X = "chat.ws.man\\\nager"\n', 1),
    ('X = ("chat.ws."\n     r"manager")\n', 1),
    ('X = ("chat.ws" "" ".WebSocketManager.send")\n', 1),
    ('X = ("chat.ws." "\\\nmanager")\n', 1),  # found by 8,000 generated files
    ('X = ("chat.w" "\\\ns.manager")\n', 1),
    # escapes that spell letters or dots: the parser reads the path
    ('X = "chat.ws.m\\x61nager"\n', 1),
    ('X = "chat.ws.m\\141nager"\n', 1),
    ('X = "chat\\x2ews\\u002emanager"\n', 1),
    ('import chat.ws as w\nX = "\\x41"\nw.\uff4danager\n', 3),  # NFKC and an escape
    ('import chat.ws\nx: "chat.ws." "WebSocketManager | None"\n', 2),
    ('import chat.ws\nx: "Optional[" "Dict[str, chat.ws.WebSocketManager]]"\n', 2),
])
def test_the_pre_filter_keeps_what_only_looks_dead(code: str, line: int) -> None:
    assert [h[3] for h in run(code)] == [line]
    assert FILTER.needs_parse(code.encode())


def test_unparsable_and_undecodable_files_are_errors() -> None:
    hits, error = analyze(b"def (:\n", MATCHER, "m", False)
    assert hits == [] and error.startswith("SyntaxError: ")
    hits, error = analyze(b"x = '\xff\xfe'\nimport chat.ws.manager\n", MATCHER, "m", False)
    assert hits == [] and "SyntaxError" in error
    assert FILTER.needs_parse(b"x = '\xff\xfe'\n"), \
        "an undecodable file goes to the parser, which reports it"


def test_pep263_encodings() -> None:
    code = "# -*- coding: latin-1 -*-\nX = 'caf\xe9'\nimport chat.ws.manager\n".encode("latin-1")
    hits, error = analyze(code, MATCHER, "m", False)
    assert error is None and [(h.entry.role, h.line) for h in hits] == [("legacy", 3)]


def test_exotic_encoding_goes_to_the_parser() -> None:
    code = "# coding: utf-7\nX = 'chat.ws.+AG0-anager'\n".encode("ascii")
    assert FILTER.needs_parse(code)


def test_deep_code_does_not_crash() -> None:
    code = "x = " + "(" * 150 + "'chat.ws.manager'" + ")" * 150 + "\n"
    hits, error = analyze(code.encode(), MATCHER, "m", False)
    assert error is None or error.startswith(("SyntaxError", "RecursionError", "MemoryError"))


# --------------------------------------------------------------------------- property

WRAPPERS = {
    "module": ("{code}", True),
    "function": ("def fn():\n    x = 1\n{code}", False),
    "async": ("async def fn():\n    x = 1\n{code}", False),
    "try": ("try:\n{code}\nexcept ImportError:\n    pass", True),
    "type_checking": ("if TYPE_CHECKING:\n{code}", True),
    "class": ("class Holder:\n    x = 1\n{code}", False),
}
PRAGMAS = ["", "  # ssot: ignore", "  # ssot: ignore[ws]", "  # ssot: ignore[other]"]


# Self-contained snippets (each binds the names it uses; names are unique per snippet) with
# their references: (role, path, kind, line offset, suppressed by a pragma on the first line).
# The third item, when not None, is the answer inside a class body (comprehensions there
# do not see the class's names), or "not in a class" (drawn there, it goes in a function).
Ref = tuple  # (role, path, kind, offset, first)
FORMS: list[tuple[str, list[Ref], list[Ref] | str | None]] = [
    ("from chat import ws as w1\nw1.WebSocketManager()", [(*A_WSM, "attribute", 1, False)],
     None),
    ("import chat.ws\nchat.ws.manager.Thing()", [(*M_MGR, "attribute", 1, False)], None),
    ("import chat.ws.unified_manager as um\num.helper()", [(*M_UNI, "import", 0, True)], None),
    ("from chat.ws import create_manager as cm2\ncm2(1)",
     [(*F_CREATE, "import", 0, True), (*F_CREATE, "call", 1, False)], None),
    ("from chat.ws.factory import build\nbuild()",
     [(*F_MOD, "import", 0, True), (*F_MOD, "call", 1, False)], None),
    ("import chat.ws as w2\ngetattr(w2, 'WebSocketManager')", [(*A_WSM, "attribute", 1, False)],
     None),
    ("import chat.ws as w3\nmock.patch.object(w3, 'create_manager')",
     [(*F_CREATE, "attribute", 1, False)], None),
    ("import chat.ws as w4\nx4 = (w4\n      .WebSocketManager)",
     [(*A_WSM, "attribute", 1, False)], None),
    ("@mock.patch('chat.ws.manager.send')\ndef t1():\n    pass",
     [(*M_MGR, "string", 0, True)], None),
    ("@pytest.mark.parametrize('p', [\n    'chat.ws.manager',\n    'chat.ws.unified_manager',\n"
     "])\ndef t2(p):\n    pass",
     [(*M_MGR, "string", 1, True), (*M_UNI, "string", 2, True)], None),
    ("from chat import ws as w5\ndef f5(x: 'w5.WebSocketManager') -> None:\n    pass",
     [(*A_WSM, "attribute", 1, False)], None),
    ("from chat import ws as w6\ny6 = cast('w6.create_manager | None', v)",
     [(*F_CREATE, "attribute", 1, False)], None),
    ("from chat import ws as w7\ndef f7(w7):\n    return w7.WebSocketManager", [], None),
    ("from chat import ws as w8\nw8 = None\nw8.WebSocketManager", [], None),
    ("from chat import ws as w9\n[w9.WebSocketManager for w9 in xs]", [], None),
    ("from chat import ws as w10\ngetattr(w10, name)\nw10.managers_registry\n"
     "self.create_manager()", [], None),
    ("import chat.ws as w11\nfor w11 in items:\n    w11.WebSocketManager", [], None),
    ("if cond:\n    from chat import ws as w12\nelse:\n    w12 = None\nw12.WebSocketManager",
     [(*A_WSM, "attribute", 4, False)], None),
    ("try:\n    from chat import ws as w13\nexcept ImportError:\n    w13 = None\n"
     "w13.WebSocketManager", [(*A_WSM, "attribute", 4, False)], None),
    ("def outer14():\n    from chat import ws as w14\n    def inner14():\n"
     "        return w14.WebSocketManager\n    return inner14", [(*A_WSM, "attribute", 3, False)],
     None),
    ("class K15:\n    from chat import ws as w15\n    def m(self):\n"
     "        return w15.WebSocketManager", [], None),
    ("x16 = 'chat.ws.manager is gone'\ny16 = f'chat.ws.manager'\nz16 = b'chat.ws.manager'",
     [], None),
    ('def f17():\n    """chat.ws.manager"""', [], None),
    ("x18: Literal['chat.ws.manager'] = 'a'", [(*M_MGR, "string", 0, True)], None),
    ("import chat\nchat.ws.WebSocketManager.send()", [(*A_WSM, "attribute", 1, False)], None),
    ("from chat.ws import websocket_manager as wm19\nwm19.WebSocketManager",
     [(*CANON, "attribute", 1, False)], None),
    ("from chat import ws as w20\nxs20 = [w20.WebSocketManager for _ in range(2)]",
     [(*A_WSM, "attribute", 1, False)], "not in a class"),  # another copy may bind w20
    ("class K25:\n    from chat import ws as w25\n    xs25 = [w25.WebSocketManager for _ in y]",
     [], None),
    ("class K26:\n    from chat import ws as w26\n    xs26 = [x for x in w26.WebSocketManager]",
     [(*A_WSM, "attribute", 2, False)], None),
    ("from chat import ws as w21\ncall21(\n    w21.WebSocketManager,\n)",
     [(*A_WSM, "attribute", 2, False)], None),
    ("import chat.ws as w22\nw22.create_manager(ctx)", [(*F_CREATE, "attribute", 1, False)],
     None),
    ("from chat.ws import create_manager as cm23\ndef f23(cm23):\n    return cm23()",
     [(*F_CREATE, "import", 0, True)], None),
    ("from chat import ws as w24\nlog.info('%s', 'w24.WebSocketManager is gone')", [], None),
    ("def g27():\n    global w27\n    from chat import ws as w27\ndef h27():\n"
     "    return w27.WebSocketManager", [(*A_WSM, "attribute", 4, False)], None),
    ("x28 = (\n    'chat.ws.'\n    'manager.send'\n)", [(*M_MGR, "string", 1, True)], None),
]


@st.composite
def programs(draw):
    lines = ["import sys", "from typing import TYPE_CHECKING"]
    expected: Counter = Counter()
    pool = ([("ref", c, e) for c, e in IMPORTS + STRINGS]
            + [("def", c, e) for c, e in DEFINITIONS] + [("decoy", c, []) for c in DECOYS]
            + [("form", c, (r, rc)) for c, r, rc in FORMS])
    for _ in range(draw(st.integers(1, 12))):
        kind, code, refs = draw(st.sampled_from(pool))
        wrapper = draw(st.sampled_from(sorted(WRAPPERS)))
        if wrapper == "class" and kind == "form" and refs[1] == "not in a class":
            wrapper = "function"
        pragma = draw(st.sampled_from(PRAGMAS))
        template, module_scope = WRAPPERS[wrapper]
        if wrapper != "module":
            code = textwrap.indent(code, "    ")
        first, *rest = code.split("\n")
        if first.endswith("\\"):
            pragma = ""  # nothing may follow a line continuation
        body = "\n".join([first + pragma, *rest])
        text = template.format(code=body)
        start = len(lines) + 1 + template.split("{code}")[0].count("\n")
        lines.extend(text.split("\n"))
        suppressed = pragma in ("  # ssot: ignore", "  # ssot: ignore[ws]")
        if kind == "form":
            form_refs, class_refs = refs
            if wrapper == "class" and isinstance(class_refs, list):
                form_refs = class_refs
            for role, path, k, offset, on_first in form_refs:
                if not (suppressed and on_first):
                    expected[(role, path, k, start + offset)] += 1
            continue
        counted = refs if (kind != "def" or module_scope) else []
        if suppressed or (kind == "decoy"):
            continue
        for role, path in counted:
            expected[(role, path, _kind(code, role), start)] += 1
    return "\n".join(lines) + "\n", expected


# SSOT_EXACT_EXAMPLES=5000 runs thousands locally; the suite keeps a modest number.
_EXAMPLES = int(os.environ.get("SSOT_EXACT_EXAMPLES", "150"))


@settings(max_examples=_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_scan_equals_oracle(program: tuple[str, Counter]) -> None:
    """Two oracles: the generator's own answer, and (inside ``run``) the full walk with
    scope analysis everywhere, which must equal the fast path; the pre-filter must let
    every file with a reference through."""
    source, expected = program
    got = Counter(run(source))
    assert got == expected


@settings(max_examples=min(_EXAMPLES, 100), deadline=None)
@given(st.lists(st.sampled_from(DECOYS), min_size=1, max_size=10))
def test_decoy_files_report_nothing(decoys: list[str]) -> None:
    assert run("import sys\n" + "\n".join(decoys) + "\n") == []


# Files where quotes, comments, escapes, continuations and the words meet in many orders.
# The oracle is the parser: whenever it finds a reference, the pre-filter must have let
# the file through.
CONTENT = ["chat.ws.manager", "chat.ws.", "manager", ".send", "WebSocketManager", "chat.ws",
           " ", "#", "x", ":", "\\x2e", '\\"', "\\'", " is gone", "'", '"',
           # pieces of a literal joined by implicit concatenation, and annotation code
           "chat.w", "s.manager", "Optional[", "Dict[str, ", "]", " | None"]


@st.composite
def literals(draw) -> str:
    prefix = draw(st.sampled_from(["", "f", "b", "r", "rb", "u"]))
    quote = draw(st.sampled_from(['"', "'", '"""', "'''"]))
    parts = draw(st.lists(st.sampled_from(CONTENT), max_size=5))
    if len(quote) == 1 and draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), "\\\n")  # continued inside
    body = "".join(p for p in parts if not (len(quote) == 1 and p == quote))
    return prefix + quote + body + quote


@st.composite
def statements(draw) -> str:
    kind = draw(st.sampled_from(["assign", "call", "import", "pass", "annotation"]))
    if kind == "import":
        return draw(st.sampled_from([c for c, _ in IMPORTS if "\n" not in c]))
    if kind == "pass":
        return "pass"
    sep = draw(st.sampled_from([" ", "", "\n    ", "  # note\n    ", " \\\n    "]))
    expr = sep.join(draw(st.lists(literals(), min_size=1, max_size=3)))
    if kind == "annotation":
        return f"x: ({expr})"
    return f"X = ({expr})" if kind == "assign" else f"f({expr})"


@st.composite
def files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        line = "; ".join(draw(st.lists(statements(), min_size=1, max_size=3)))
        if draw(st.booleans()):
            line += "  #" + "".join(draw(st.lists(st.sampled_from(CONTENT), max_size=4)))
        lines.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return (newline.join(lines) + newline).encode()


@settings(max_examples=4 * _EXAMPLES, deadline=None)
@given(files())
def test_the_pre_filter_never_drops_a_file_with_references(data: bytes) -> None:
    hits, error = analyze(data, MATCHER, "chat.ws.sub.mod", False)
    if error is None and hits:
        assert FILTER.needs_parse(data)


@pytest.mark.parametrize("code, text", [
    ("from chat.ws import (\n    other,\n    WebSocketManager,\n)",
     "from chat.ws import ( other, WebSocketManager, )"),
    ("import  os,\\\n   chat.ws.manager", "import os, chat.ws.manager"),
    ('X = ("chat.ws."\n     "manager")', '"chat.ws." "manager"'),
    ("patch('chat.ws.WebSocketManager')", "'chat.ws.WebSocketManager'"),
    ("@deco\nclass WebSocketManager:\n    pass", "class WebSocketManager"),
    ("async def WebSocketManager():\n    pass", "def WebSocketManager"),
])
def test_each_reference_carries_its_source_text(code: str, text: str) -> None:
    """The ratchet's fingerprints are built from it: whitespace runs are one space."""
    hits, error = analyze(code.encode(), MATCHER, "chat.ws.sub.mod", False)
    assert error is None and [h.text for h in hits] == [text]


def test_violation_text_survives_the_result_round_trip() -> None:
    from pytest_ssot.scan import ScanResult, Violation

    v = Violation("ws", "a.py", 1, "import", "legacy", "chat.ws.manager", "x:Y", "other",
                  "import chat.ws.manager")
    back = ScanResult.from_dict(ScanResult(violations=[v]).to_dict())
    assert back.violations == [v]
    old = Violation("ws", "a.py", 1, "import", "legacy", "chat.ws.manager", "x:Y", "other")
    assert old.text == ""  # positional constructors of the old shape still work
