"""The byte lexer's top-level statement starts, and the partial parse built on them.

``analyze`` parses only the top-level statements that spell a name of interest. Each
case here is a shape where a wrong statement boundary would change the answer: the fast
path must equal the whole-file walk (``always_resolve``) and the expected references.
"""

from __future__ import annotations

import ast
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.config import contract_from_mapping
from pytest_ssot.scan.lexer import fstring_closed, statement_starts
from pytest_ssot.scan.rules import Matcher
from pytest_ssot.scan.analysis import analyze

WS = contract_from_mapping({
    "name": "ws",
    "canonical": "chat.ws.websocket_manager:WebSocketManager",
    "legacy": ["chat.ws.manager", "chat.ws:WebSocketManager"],
    "factories": ["chat.ws:create_manager"],
}, "test", "contracts")
MATCHER = Matcher([WS])


def both(code: str) -> list[tuple[str, str, int]]:
    data = textwrap.dedent(code).encode()
    fast, error = analyze(data, MATCHER, "app.mod", False)
    assert error is None, error
    full, error = analyze(data, MATCHER, "app.mod", False, always_resolve=True)
    assert error is None, error
    got = [(str(h.entry.path), h.kind, h.line) for h in fast]
    assert got == [(str(h.entry.path), h.kind, h.line) for h in full]
    return got


MM, WSM, CM = "chat.ws.manager", "chat.ws:WebSocketManager", "chat.ws:create_manager"

CASES = [
    ("decorators on their own lines stay with their definition",
     "@a\n@b(\n    1)\ndef f():\n    pass\nimport chat.ws.manager\n", [(MM, "import", 6)]),
    ("clauses at column 0 stay with their statement",
     "try:\n    x = 1\nexcept E:\n    pass\nelse:\n    pass\nfinally:\n    pass\n"
     "if a:\n    pass\nelif b:\n    pass\nelse:\n    import chat.ws.manager\n",
     [(MM, "import", 14)]),
    ("column-0 text inside a docstring is no statement",
     '"""Doc.\nimport chat.ws.manager\n"""\nX = 1\n', []),
    ("column-0 lines inside brackets belong to the call",
     "f(\n'chat.ws.manager',\n)\ny = 2\n", [(MM, "string", 2)]),
    ("a backslash continuation to column 0",
     "x = 1 + \\\n2\nimport chat.ws.manager\n", [(MM, "import", 3)]),
    ("a dropped module docstring makes no later string a docstring",
     '"""Module doc."""\n"chat.ws.manager"\n', [(MM, "string", 2)]),
    ("a future import after a dropped docstring",
     '"""Doc."""\nfrom __future__ import annotations\nimport chat.ws.manager\n',
     [(MM, "import", 3)]),
    ("a binding in a statement that spells no entry name shadows the module",
     "from chat import ws as w\nw = None\nw.WebSocketManager\n", []),
    ("a binding far below, in another statement, reaches a function",
     "from chat import ws as w\ndef f():\n    return w.WebSocketManager\nw = object()\n",
     [(WSM, "attribute", 3)]),
    ("a factory bound by an import and called in a statement that spells no entry",
     "from chat.ws import create_manager as make\n\ndef run():\n    return make(1)\n",
     [(CM, "import", 1), (CM, "call", 4)]),
    ("comments and blank lines between statements; CRLF",
     "# c\r\n\r\nimport os\r\n# chat.ws.manager\r\nimport chat.ws.manager\r\n",
     [(MM, "import", 5)]),
    ("a semicolon line", "import os; import chat.ws.manager\n", [(MM, "import", 1)]),
    ("a class body with a method that uses the module",
     "from chat import ws\nclass A:\n    x = 1\n    def m(self):\n        return ws.WebSocketManager\n",
     [(WSM, "attribute", 5)]),
    ("a fullwidth name is the ASCII one (NFKC): it shadows the module",
     "from chat import ws as w\n\uff57 = None\nw.WebSocketManager\n", []),
    ("an escape that spells letters is read as the parser reads it",
     'from chat import ws as w\nX = "\\x41"\nw.WebSocketManager\n', [(WSM, "attribute", 3)]),
    ("a function that imports the module for the whole module (global)",
     "def f():\n    global w\n    from chat import ws as w\n\ndef g():\n"
     "    return w.WebSocketManager\n", [(WSM, "attribute", 6)]),
    ("a function that imports the module for its enclosing function (nonlocal)",
     "def outer():\n    w = None\n    def inner():\n        nonlocal w\n"
     "        from chat import ws as w\n    def use():\n        return w.WebSocketManager\n",
     [(WSM, "attribute", 7)]),
    ("a class body binding the name shadows the module there",
     "from chat import ws as w\nclass A:\n    w = None\n    x = w.WebSocketManager\n"
     "    def m(self):\n        return w.WebSocketManager\n", [(WSM, "attribute", 6)]),
    ("a class docstring left out makes no later string of the body a docstring",
     'class A:\n    """Doc."""\n    "chat.ws.manager"\n', [(MM, "string", 3)]),
    ("decorated methods, a header on several lines, a nested class",
     "class A(\n    Base,\n):\n    @d\n    def m(self):\n        pass\n\n"
     "    @patch('chat.ws.manager.send')\n    def t(self):\n        pass\n"
     "    class B:\n        x = 1\n", [(MM, "string", 8)]),
    ("a method's else clause at the body's indentation",
     "class A:\n    if x:\n        y = 1\n    else:\n        import chat.ws.manager\n",
     [(MM, "import", 5)]),
    ("a path spelled by escapes only",
     'import os\nX = "\\x63hat.\\x77s.m\\x61nager"\n', [(MM, "string", 2)]),
    ("a string at column 0 after a multi-line string",
     'X = """a\nb"""\n"chat.ws.manager"\n', [(MM, "string", 3)]),
]


@pytest.mark.parametrize("code, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_partial_parse_equals_the_whole_file(code: str, expected: list) -> None:
    assert both(code) == expected


def test_a_latin1_file_is_read_in_parts_too() -> None:
    code = "# -*- coding: latin-1 -*-\nX = 'caf\xe9'\nfrom chat import ws as w\nw = 1\n" \
           "import chat.ws.manager\n"
    hits, error = analyze(code.encode("latin-1"), MATCHER, "m", False)
    assert error is None and [(str(h.entry.path), h.line) for h in hits] == [(MM, 5)]


def test_a_syntax_error_where_a_reference_is_is_reported_at_its_line() -> None:
    hits, error = analyze(b"import os\nimport chat.ws.manager as\nx = 1\n", MATCHER, "m", False)
    assert hits == [] and error is not None and error.startswith("SyntaxError") and \
        "(line 2)" in error


def test_a_syntax_error_in_a_statement_that_spells_no_entry_is_not_parsed() -> None:
    # SPEC 5 reports files that cannot be parsed; a statement that cannot hold a reference
    # is not parsed at all (as a file without any entry name is not): its references are
    # known without it.
    hits, error = analyze(b"x = = 1\nimport chat.ws.manager\n", MATCHER, "m", False)
    assert error is None and [(str(h.entry.path), h.line) for h in hits] == [(MM, 2)]


def test_an_unclosed_bracket_makes_the_whole_file_parsed() -> None:
    assert statement_starts(b"f(\nimport chat.ws.manager\n") is None
    hits, error = analyze(b"f(\nimport chat.ws.manager\n", MATCHER, "m", False)
    assert hits == [] and error is not None


def test_statement_starts() -> None:
    src = b"# c\nimport a\n@d\ndef f():\n    pass\nelse_ = 1\nx = (\n1)\n"
    starts = statement_starts(src)
    assert [src[s:s + 4] for s in starts] == [b"impo", b"@d\nd", b"else", b"x = "]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="nested quotes need Python 3.12")
def test_an_fstring_with_its_own_quote_inside_is_not_trusted() -> None:
    src = b'x = f"{d["k"]}"\nimport chat.ws.manager\n'
    assert statement_starts(src) is None
    hits, error = analyze(src, MATCHER, "m", False)
    assert error is None and [h.line for h in hits] == [2]


@pytest.mark.parametrize("text, closed", [
    (b'f"{a}"', True), (b'f"{{a}}"', True), (b"f'{d[\"k\"]}'", True), (b'f"{x:{w}}"', True),
    (b'f"{d[', False), (b'f"}}{x:{d[', False), (b'f"a}"', False),
])
def test_fstring_closed(text: bytes, closed: bool) -> None:
    expected = closed if sys.version_info >= (3, 12) else True
    assert fstring_closed(text) is expected


# Whole files made of top-level statements of many shapes: the starts found by the lexer
# must be exactly the first lines (first decorator) of the statements ``ast`` sees.
SHAPES = [
    "import os", "x = 1", "def f():\n    return 1", "@deco\nclass C:\n    '''doc\nx'''",
    "if a:\n    pass\nelse:\n    pass", "try:\n    pass\nexcept E:\n    pass",
    "y = [\n1,\n2]", "z = 'a' \\\n    'b'", "s = '''\nimport x\n'''", "# comment", "",
    "w = f'{a}' + \"#\" + '\\''", "for i in x:\n    pass\nelse:\n    pass",
    "async def g():\n    await x", "v = {'k': (1,\n2)}", "u = r'\\''", "@a\n@b\ndef h(): pass",
    "while x:\n    break", "with a as b:\n    pass", "class D: pass", '"""doc"""',
    "t = 1; q = 2",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=10),
       st.sampled_from(["\n", "\r\n"]))
def test_statement_starts_are_the_parsers(shapes: list[str], newline: str) -> None:
    source = newline.join(s.replace("\n", newline) for s in shapes) + newline
    data = source.encode()
    tree = ast.parse(data)
    line_starts = [0]
    for i, b in enumerate(data):
        if b == 10:
            line_starts.append(i + 1)
    expected = [line_starts[min([s.lineno] + [d.lineno for d in getattr(s, "decorator_list", [])]) - 1]
                for s in tree.body]
    found = statement_starts(data)
    assert found is not None
    # ``t = 1; q = 2`` is two statements on one line: one start
    assert found == sorted(set(expected))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([s for s in SHAPES if s]), min_size=1, max_size=8),
       st.sampled_from(["    ", "\t", "  "]), st.booleans())
def test_class_body_starts_are_the_parsers(shapes: list[str], indent: str, header: bool
                                            ) -> None:
    from hypothesis import assume

    from pytest_ssot.scan.lexer import masked_code
    from pytest_ssot.scan.analysis.skipping import _class_body

    assume(any(not s.startswith("#") for s in shapes))  # a body holds a statement
    body = "\n".join(indent + line if line else line
                     for s in shapes for line in s.split("\n"))
    head = "@deco\nclass K(\n    Base,\n):\n" if header else "class K:\n"
    data = (head + body + "\n").encode()
    tree = ast.parse(data)
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10]
    expected = sorted({line_starts[min([s.lineno] + [d.lineno for d in
                                                     getattr(s, "decorator_list", [])]) - 1]
                       for s in tree.body[0].body})
    got = _class_body(masked_code(data), 0, len(data))
    assert got is not None and got[0] == indent.encode() and got[1] == expected
