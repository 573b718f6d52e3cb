"""SPEC 5, row by row and bullet by bullet: each form found, each decoy left alone.

Every case runs twice, through the fast path (scope analysis only when a chain or call can
need it) and with scope analysis forced (``always_resolve``): both must agree, and the
pre-filter must let every file with a reference through.
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.config import contract_from_mapping
from pytest_ssot.scan import ScanResult, Violation
from pytest_ssot.scan.prefilter import Filter
from pytest_ssot.scan.rules import Matcher
from pytest_ssot.scan.analysis import analyze

WS = contract_from_mapping({
    "name": "ws",
    "canonical": "chat.ws.websocket_manager:WebSocketManager",
    "legacy": ["chat.ws.unified_manager", "chat.ws.manager", "chat.ws:WebSocketManager"],
    "factories": ["chat.ws:create_manager", "chat.ws.factory"],
}, "test", "contracts")
JS = contract_from_mapping({
    "name": "js", "canonical": "chat.util.jsonlib:dumps", "legacy": ["simplejson"],
}, "test", "contracts")
MATCHER = Matcher([WS, JS], defining={"ws": ["chat.ws._impl"]})
FILTER = Filter(MATCHER)

SHORT = {"UM": "chat.ws.unified_manager", "MM": "chat.ws.manager",
         "WSM": "chat.ws:WebSocketManager", "CM": "chat.ws:create_manager",
         "FM": "chat.ws.factory", "CAN": "chat.ws.websocket_manager:WebSocketManager",
         "SJ": "simplejson", "DUMPS": "chat.util.jsonlib:dumps"}


def refs(code: str, module: str | None = "chat.ws.sub.mod", is_package: bool = False,
         matcher: Matcher = MATCHER) -> list[tuple[str, str, int]]:
    data = textwrap.dedent(code).encode()
    fast, error = analyze(data, matcher, module, is_package)
    assert error is None, error
    full, error = analyze(data, matcher, module, is_package, always_resolve=True)
    assert error is None, error
    got = [(str(h.entry.path), h.kind, h.line) for h in fast]
    assert got == [(str(h.entry.path), h.kind, h.line) for h in full]
    if got and matcher is MATCHER:
        assert FILTER.needs_parse(data, module), "the pre-filter must let a file with references in"
    return sorted(got)


def want(*items: tuple[str, str, int]) -> list[tuple[str, str, int]]:
    return sorted((SHORT[p], kind, line) for p, kind, line in items)


CASES: list[tuple[str, str, list[tuple[str, str, int]]]] = [
    # ------------------------------------------------------------- chains
    ("alias of the module entry, then a name of it: the import only",
     "import chat.ws.manager as um\num.helper()\num\n", [("MM", "import", 1)]),
    ("alias of the package, then the attribute entry",
     "from chat import ws as x\nx.WebSocketManager()\n", [("WSM", "attribute", 2)]),
    ("import a.b binds a: a.b.M is M",
     "import chat.ws\nchat.ws.manager.Thing()\n", [("MM", "attribute", 2)]),
    ("the longest part that is an entry, once",
     "import chat\nchat.ws.WebSocketManager.send()\n", [("WSM", "attribute", 2)]),
    ("x.M_last with x bound to its package",
     "from chat import ws\nws.factory.make()\n", [("FM", "attribute", 2)]),
    ("a factory through a chain is an attribute reference",
     "import chat.ws as w\nw.create_manager(ctx)\n", [("CM", "attribute", 2)]),
    ("a chain after import M.sub", "import chat.ws.manager\nchat.ws.manager.X\n",
     [("MM", "import", 1), ("MM", "attribute", 2)]),
    ("assignment", "from chat import ws\nws.WebSocketManager = fake\n",
     [("WSM", "attribute", 2)]),
    ("del", "from chat import ws\ndel ws.WebSocketManager\n", [("WSM", "attribute", 2)]),
    ("relative binding", "from ... import ws\nws.WebSocketManager\n",
     [("WSM", "attribute", 2)]),
    ("canonical chain", "from chat.ws import websocket_manager as wm\nwm.WebSocketManager\n",
     [("CAN", "attribute", 2)]),
    ("multi-line chain: the line where it starts",
     "from chat import ws\nx = (\n    ws\n    .WebSocketManager)\n", [("WSM", "attribute", 3)]),
    ("unbound leftmost name", "chat.ws.manager.Thing()\nws.WebSocketManager\n", []),
    ("prefix decoy", "from chat import ws\nws.managers_registry\nws.manager_utils.x\n"
     "ws.WebSocketManagerFactory()\n", []),
    ("self is no module", "class A:\n    def f(self):\n        self.create_manager()\n"
     "        self.WebSocketManager\n", []),
    ("an unrelated import", "import other as ws\nws.WebSocketManager\n", []),
    # ------------------------------------------------------------- literal names
    ("getattr", "from chat import ws\ngetattr(ws, 'WebSocketManager')\n",
     [("WSM", "attribute", 2)]),
    ("hasattr", "from chat import ws\nhasattr(ws, 'WebSocketManager')\n",
     [("WSM", "attribute", 2)]),
    ("setattr", "from chat import ws\nsetattr(ws, 'WebSocketManager', fake)\n",
     [("WSM", "attribute", 2)]),
    ("delattr", "from chat import ws\ndelattr(ws, 'WebSocketManager')\n",
     [("WSM", "attribute", 2)]),
    ("patch.object", "from chat import ws\n@mock.patch.object(ws, 'create_manager')\n"
     "def test(m):\n    pass\n", [("CM", "attribute", 2)]),
    ("mocker.patch.object", "from chat import ws\nmocker.patch.object(ws, 'WebSocketManager')\n",
     [("WSM", "attribute", 2)]),
    ("monkeypatch.setattr", "import chat.ws as w\nmonkeypatch.setattr(w, 'create_manager', f)\n",
     [("CM", "attribute", 2)]),
    ("mp.delattr", "import chat.ws as w\nmp.delattr(w, 'WebSocketManager')\n",
     [("WSM", "attribute", 2)]),
    ("through a chain", "import chat\ngetattr(chat.ws, 'manager')\n", [("MM", "attribute", 2)]),
    ("the chain itself when the name is not an entry",
     "import chat\ngetattr(chat.ws.manager, 'helper')\n", [("MM", "attribute", 2)]),
    ("a dynamic name", "from chat import ws\ngetattr(ws, name)\nsetattr(ws, n, v)\n", []),
    ("getattr on something else", "getattr(obj, 'WebSocketManager')\n", []),
    # ------------------------------------------------------------- calls
    ("call of an imported factory", "from chat.ws import create_manager\ncreate_manager(ctx)\n",
     [("CM", "import", 1), ("CM", "call", 2)]),
    ("call through an alias", "from chat.ws import create_manager as cm\nx = cm()\ny = cm(\n"
     "    1)\n", [("CM", "import", 1), ("CM", "call", 2), ("CM", "call", 3)]),
    ("call of a name from a factory module", "from chat.ws.factory import build\nbuild()\n",
     [("FM", "import", 1), ("FM", "call", 2)]),
    ("using it without calling: the import", "from chat.ws import create_manager\n"
     "x = create_manager\n", [("CM", "import", 1)]),
    ("a parameter shadows the factory", "from chat.ws import create_manager\n"
     "def f(create_manager):\n    return create_manager()\n", [("CM", "import", 1)]),
    ("a legacy attribute called is no call reference", "from chat.ws import WebSocketManager\n"
     "WebSocketManager()\n", [("WSM", "import", 1)]),
    # ------------------------------------------------------------- scoping
    ("parameter", "from chat import ws\ndef f(ws):\n    return ws.WebSocketManager\n", []),
    ("lambda parameter", "from chat import ws\nf = lambda ws: ws.WebSocketManager\n", []),
    ("local assignment", "from chat import ws\ndef f():\n    ws = other\n"
     "    return ws.WebSocketManager\n", []),
    ("local bound later: unbound at the use", "from chat import ws\ndef f():\n"
     "    ws.WebSocketManager\n    ws = 1\n", []),
    ("module reassignment", "from chat import ws\nws = 1\nws.WebSocketManager\n", []),
    ("for target", "from chat import ws\nfor ws in items:\n    ws.WebSocketManager\n", []),
    ("with target", "from chat import ws\nwith open(p) as ws:\n    ws.WebSocketManager\n", []),
    ("except target", "from chat import ws\ntry:\n    pass\nexcept E as ws:\n"
     "    ws.WebSocketManager\n", []),
    ("comprehension variable", "from chat import ws\n[ws.WebSocketManager for ws in xs]\n", []),
    ("walrus", "from chat import ws\nif (ws := 1):\n    ws.WebSocketManager\n", []),
    ("del", "from chat import ws\ndel ws\nws.WebSocketManager\n", []),
    ("another import in a function", "from chat import ws\ndef f():\n    import other as ws\n"
     "    return ws.WebSocketManager\n", []),
    ("an import in a function", "def f():\n    from chat import ws\n"
     "    return ws.WebSocketManager\n", [("WSM", "attribute", 3)]),
    ("enclosing function", "def f():\n    from chat import ws\n    def g():\n"
     "        return ws.WebSocketManager\n    return g\n", [("WSM", "attribute", 4)]),
    ("the module, bound after the function", "def f():\n    return ws.WebSocketManager\n"
     "from chat import ws\n", [("WSM", "attribute", 2)]),
    ("class body: visible in the body", "class C:\n    from chat import ws\n"
     "    X = ws.WebSocketManager\n", [("WSM", "attribute", 3)]),
    ("class body: not in its methods", "class C:\n    from chat import ws\n"
     "    def m(self):\n        return ws.WebSocketManager\n", []),
    ("class body: not in its comprehensions", "class C:\n    from chat import ws\n"
     "    xs = [ws.WebSocketManager for _ in range(3)]\n", []),
    ("class body: but in their first iterable", "class C:\n    from chat import ws\n"
     "    xs = [x for x in ws.WebSocketManager.items]\n", [("WSM", "attribute", 3)]),
    ("class body shadows the module in the body", "from chat import ws\nclass C:\n"
     "    ws = 1\n    X = ws.WebSocketManager\n    def m(self):\n"
     "        return ws.WebSocketManager\n", [("WSM", "attribute", 6)]),
    ("either branch of an if", "if c:\n    from chat import ws\nelse:\n    ws = None\n"
     "ws.WebSocketManager\n", [("WSM", "attribute", 5)]),
    ("the try or the except", "try:\n    import other as ws\nexcept ImportError:\n"
     "    from chat import ws\nws.WebSocketManager\n", [("WSM", "attribute", 5)]),
    ("the try's binding reaches the except", "try:\n    from chat import ws\n    ws = 2\n"
     "except ImportError:\n    ws.WebSocketManager\n", [("WSM", "attribute", 5)]),
    ("a loop's next iteration", "for i in x:\n    if i:\n        ws.WebSocketManager\n"
     "    from chat import ws\n", [("WSM", "attribute", 3)]),
    ("global declaration", "def f():\n    global ws\n    ws = 1\n"
     "    return ws.WebSocketManager\nfrom chat import ws\n", [("WSM", "attribute", 4)]),
    ("star import binds nothing known", "from chat.ws import *\nWebSocketManager\n", []),
    ("nested function parameter", "def f():\n    from chat import ws\n    def g(ws):\n"
     "        return ws.WebSocketManager\n", []),
    # ------------------------------------------------------------- strings
    ("a decorator", "@mock.patch('chat.ws.WebSocketManager.send')\ndef test(m):\n    pass\n",
     [("WSM", "string", 1)]),
    ("every line of a multi-line decorator",
     "@pytest.mark.parametrize('p', [\n    'chat.ws.manager',\n    'chat.ws.unified_manager',\n"
     "])\ndef test(p):\n    pass\n", [("MM", "string", 2), ("UM", "string", 3)]),
    ("the longest entry it spells", "x = 'chat.ws.websocket_manager.WebSocketManager'\n",
     [("CAN", "string", 1)]),
    ("a message is no dotted path", "log('chat.ws.manager is deprecated')\n"
     "log('chat.ws.manager.load() required')\n", []),
    ("f-strings and bytes never", "x = f'chat.ws.manager'\ny = b'chat.ws.manager'\n", []),
    ("docstrings never", "'''chat.ws.manager'''\nclass C:\n    'chat.ws.manager'\n"
     "def f():\n    'chat.ws.manager'\n", []),
    ("implicit concatenation is one string at its first line",
     "x = ('chat.ws.'\n     'manager')\n", [("MM", "string", 1)]),
    ("single identifier: import-like positions",
     "importlib.import_module('simplejson')\n__import__('simplejson')\n"
     "sys.modules['simplejson']\nsys.modules.get('simplejson')\n"
     "sys.modules.pop('simplejson', None)\nmock.patch('simplejson.dumps')\n"
     "util.find_spec(name='simplejson')\nmonkeypatch.setattr('simplejson.dumps', f)\n"
     "monkeypatch.delattr('simplejson')\nimport_string('simplejson')\n",
     [("SJ", "string", n) for n in range(1, 11)]),
    ("single identifier elsewhere: a file name, a key, a message",
     "find_library('simplejson')\nd = {'simplejson': 1}\nx = 'simplejson.dumps'\n"
     "log('simplejson')\n", []),
    ("a string annotation is code", "from chat import ws\ndef f(x: 'ws.WebSocketManager')"
     " -> 'ws.WebSocketManager':\n    pass\n", [("WSM", "attribute", 2)] * 2),
    ("a string inside an annotation", "from chat import ws\n"
     "x: Optional['ws.WebSocketManager'] = None\n", [("WSM", "attribute", 2)]),
    ("cast and TypeVar bound", "from chat import ws\ny = cast('ws.WebSocketManager', v)\n"
     "T = TypeVar('T', bound='ws.WebSocketManager')\n",
     [("WSM", "attribute", 2), ("WSM", "attribute", 3)]),
    ("an annotation is never also a string", "x: 'chat.ws.manager' = 1\n"
     "def f() -> 'chat.ws.manager':\n    pass\n", []),
    ("Literal arguments are strings", "x: Literal['chat.ws.manager'] = 'a'\n",
     [("MM", "string", 1)]),
    ("an annotation that is no code", "x: 'not code at all' = 1\n", []),
    ("code in a string annotation, not a whole path",
     "from chat import ws\ndef f(x: 'ws.WebSocketManager | None', y: 'dict[str, "
     "ws.WebSocketManager]') -> None:\n    pass\nz = cast('ws.create_manager | None', v)\n",
     [("WSM", "attribute", 2), ("WSM", "attribute", 2), ("CM", "attribute", 4)]),
    ("a docstring equal to the path, and a string that is not one",
     "def f():\n    \"\"\"chat.ws.manager\"\"\"\nif x:\n    \"\"\"chat.ws.manager\"\"\"\n",
     [("MM", "string", 4)]),
    # ------------------------------------------------------------- imports
    ("import M.A where M:A is a submodule", "import chat.ws.WebSocketManager\n",
     [("WSM", "import", 1)]),
    ("one import, two entries", "from chat.ws import manager, unified_manager\n",
     [("MM", "import", 1), ("UM", "import", 1)]),
    # ------------------------------------------------------------- lines and pragmas
    ("pragma on the reference's own line", "from chat import ws\nf(\n"
     "    ws.WebSocketManager,  # ssot: ignore\n)\n", []),
    ("pragma on the innermost statement's first line", "from chat import ws\nx = [  # ssot: ignore\n"
     "    ws.WebSocketManager,\n]\n", []),
    ("a decorated definition starts at its first decorator",
     "@deco  # ssot: ignore[ws]\n@mock.patch('chat.ws.manager')\ndef f():\n    pass\n", []),
    ("pragma of another statement", "x = 1  # ssot: ignore\nimport chat.ws.manager\n",
     [("MM", "import", 2)]),
    ("pragma for another contract", "import chat.ws.manager  # ssot: ignore[js]\n",
     [("MM", "import", 1)]),
    # A line end outside brackets ends the literal: the next line's string is another.
    ("a path and an attribute docstring under it", 'BACKEND = "chat.ws.manager"\n'
     '"""Deprecated."""\n', [("MM", "string", 1)]),
    ("a path in a class body and its docstring", "class Settings:\n"
     "    backend = 'chat.ws.WebSocketManager'\n    '''Legacy.'''\n", [("WSM", "string", 2)]),
    ("a path and a path-like string under it", "X = 'chat.ws.manager'\n's'\n",
     [("MM", "string", 1)]),
    ("pieces joined inside brackets across lines", "X = (\n    'chat.ws.'\n    'manager'\n)\n",
     [("MM", "string", 2)]),
    ("pieces joined by a backslash continuation", "X = 'chat.ws.' \\\n    'manager'\n",
     [("MM", "string", 1)]),
    # ``if``, ``elif``, ``or`` right before a quote are keywords, not string prefixes.
    ("a string right after if", 'x = 1 if"chat.w" "s.manager" else 2\n', [("MM", "string", 1)]),
    ("a string right after elif", 'if 1:\n    pass\nelif"chat.w" "s.manager":\n    pass\n',
     [("MM", "string", 3)]),
    ("a string right after or", 'x = 0 or"chat.ws." "manager"\n', [("MM", "string", 1)]),
]


# Logger names (SPEC 13): a logger is named after a module by convention, but the string
# names a logger, not the module; renaming the module does not rename the logger. One row
# per form, each with a real reference beside it that must still be found.
LOGGER_CASES: list[tuple[str, str, list[tuple[str, str, int]]]] = [
    ("logging.getLogger", "import logging\nlog = logging.getLogger('chat.ws.manager')\n", []),
    ("getLogger imported from logging",
     "from logging import getLogger\nlog = getLogger('chat.ws.WebSocketManager')\n", []),
    ("logging.getLogger(name=...)", "log = logging.getLogger(name='chat.ws.manager')\n", []),
    ("a logger's child", "log = logging.getLogger('chat.ws.manager.audit')\n", []),
    ("self.assertLogs", "with self.assertLogs('chat.ws.manager', level='INFO'):\n    pass\n",
     []),
    ("assertLogs(logger=...)", "with self.assertLogs(logger='chat.ws.manager'):\n    pass\n",
     []),
    ("self.assertNoLogs", "with self.assertNoLogs('chat.ws.manager'):\n    pass\n", []),
    ("caplog.set_level(..., logger=...)",
     "caplog.set_level(logging.INFO, logger='chat.ws.manager')\n", []),
    ("caplog.set_level(level, logger) positionally",
     "caplog.set_level(logging.INFO, 'chat.ws.manager')\n", []),
    ("caplog.at_level(..., logger=...)",
     "with caplog.at_level(logging.DEBUG, logger='chat.ws.manager'):\n    pass\n", []),
    ("logging.config dictConfig logger keys",
     "logging.config.dictConfig({\n    'version': 1,\n    'loggers': {\n"
     "        'chat.ws.manager': {'level': 'INFO'},\n"
     "        'chat.ws.WebSocketManager': {'handlers': ['console']},\n    },\n})\n", []),
    ("a settings dict's logger keys", "LOGGING = {'loggers': {'chat.ws.manager': {}}}\n", []),
    ("dict(loggers=...)", "LOGGING = dict(version=1, loggers={'chat.ws.manager': {}})\n", []),
    # What stays a reference
    ("a patch target beside a logger name",
     "with mock.patch('chat.ws.manager.X'), self.assertLogs('chat.ws.manager'):\n    pass\n",
     [("MM", "string", 1)]),
    ("a logger's other arguments", "caplog.set_level('chat.ws.manager')\n",
     [("MM", "string", 1)]),
    ("a dictConfig value", "LOGGING = {'loggers': {'x': {'filters': ['chat.ws.manager']}},\n"
     "           'handlers': {'h': {'class': 'chat.ws.manager.Handler'}}}\n",
     [("MM", "string", 1), ("MM", "string", 2)]),
    ("keys of another dict", "X = {'handlers': {'chat.ws.manager': {}}}\n",
     [("MM", "string", 1)]),
    ("an import and a chain in a logger call", "import chat.ws.manager\n"
     "log = logging.getLogger(chat.ws.manager.__name__)\n",
     [("MM", "import", 1), ("MM", "attribute", 2)]),
    ("a patch of getLogger is a patch", "mock.patch('chat.ws.manager.getLogger')\n",
     [("MM", "string", 1)]),
    ("an implicit concatenation is one logger name",
     "log = logging.getLogger('chat.ws.' 'manager')\nx = 'chat.ws.manager'\n",
     [("MM", "string", 2)]),
]


@pytest.mark.parametrize("code, expected", [c[1:] for c in LOGGER_CASES],
                         ids=[c[0] for c in LOGGER_CASES])
def test_logger_names_are_not_references(code: str, expected: list[tuple[str, str, int]]
                                         ) -> None:
    assert refs(code) == want(*expected)


@pytest.mark.parametrize("code, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec5_table(code: str, expected: list[tuple[str, str, int]]) -> None:
    assert refs(code) == want(*expected)


# ------------------------------------------------------------------ definitions

@pytest.mark.parametrize("module, code, expected", [
    ("chat.other.x", "class WebSocketManager:\n    pass\n", [("CAN", "definition", 1)]),
    ("chat", "def WebSocketManager():\n    pass\n", [("CAN", "definition", 1)]),
    ("chat.other.x", "if X:\n    class WebSocketManager:\n        pass\n",
     [("CAN", "definition", 2)]),
    ("chat.other.x", "try:\n    pass\nexcept E:\n    async def WebSocketManager():\n"
     "        pass\n", [("CAN", "definition", 4)]),
    ("chat.other.x", "@dataclass\nclass WebSocketManager:\n    pass\n",
     [("CAN", "definition", 2)]),
    ("chat.other.x", "@dataclass  # ssot: ignore\nclass WebSocketManager:\n    pass\n", []),
    ("chat.ws.websocket_manager", "class WebSocketManager:\n    pass\n", []),  # canonical
    ("chat.ws._impl", "class WebSocketManager:\n    pass\n", []),  # where it is defined
    ("tests.doubles", "class WebSocketManager:\n    pass\n", []),  # a test double outside
    (None, "class WebSocketManager:\n    pass\n", []),  # a file that is no module
    ("chat.other.x", "def f():\n    class WebSocketManager:\n        pass\n", []),
    ("chat.other.x", "with x:\n    class WebSocketManager:\n        pass\n", []),
])
def test_definitions(module: str | None, code: str, expected: list) -> None:
    assert refs(code, module=module) == want(*expected)


def test_definition_text_and_line() -> None:
    hits, _ = analyze(b"@d\nclass WebSocketManager(Base):\n    pass\n", MATCHER,
                      "chat.other", False)
    assert [(h.line, h.stmt_line, h.text) for h in hits] == [(2, 1, "class WebSocketManager")]


def test_relative_import_outside_a_package_is_ignored() -> None:
    assert refs("from . import manager\nfrom .. import ws\nws.WebSocketManager\n",
                module="script") == []


@pytest.mark.parametrize("code, texts", [
    ("from chat import ws\nx = ws.WebSocketManager.send(1)\n", ["ws.WebSocketManager"]),
    ("from chat import ws\ngetattr(ws,\n   'WebSocketManager')\n",
     ["getattr(ws, 'WebSocketManager')"]),
    ("from chat.ws import create_manager as cm\ncm(a,\n   b)\n",
     ["from chat.ws import create_manager as cm", "cm(a, b)"]),
    ("from chat import ws\nx: 'ws.WebSocketManager' = 1\n", ["ws.WebSocketManager"]),
])
def test_text_of_attribute_and_call_references(code: str, texts: list[str]) -> None:
    hits, _ = analyze(code.encode(), MATCHER, "chat.ws.sub.mod", False)
    assert [h.text for h in hits] == texts


def test_compliance_leaves_out_calls_and_definitions() -> None:
    def v(kind: str) -> Violation:
        return Violation("ws", "a.py", 1, kind, "legacy", "p", "f", "other")

    result = ScanResult(canonical={"ws": 3},
                        violations=[v("import"), v("call"), v("call"), v("definition")])
    assert result.compliance("ws") == 3 / 4
    result.violations += [v("attribute"), v("string")]
    assert result.compliance("ws") == 3 / 6


def test_the_defining_module_is_followed_from_the_canonical_module(tmp_path) -> None:
    from pytest_ssot.scan.defining import defining_modules

    pkg = tmp_path / "chat" / "ws"
    (pkg / "impl").mkdir(parents=True)
    (tmp_path / "chat" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "websocket_manager.py").write_text(
        "from .impl import WebSocketManager as WebSocketManager\n")
    (pkg / "impl" / "__init__.py").write_text("from ._core import *\n")
    (pkg / "impl" / "_core.py").write_text("class WebSocketManager:\n    pass\n")
    got = defining_modules([WS, JS], tmp_path, False)
    assert got == {"ws": ["chat.ws.impl", "chat.ws.impl._core", "chat.ws.websocket_manager"],
                   "js": ["chat.util.jsonlib"]}
    assert defining_modules([WS], tmp_path, False, {"ws": "chat.elsewhere"})["ws"][0] == \
        "chat.elsewhere"


def test_the_defining_module_is_followed_through_several_star_imports(tmp_path) -> None:
    """scipy.ndimage reaches gaussian_filter through two ``import *`` (found by the
    differential run on scipy: the real definition was reported as a second one)."""
    from pytest_ssot.scan.defining import defining_modules

    pkg = tmp_path / "chat" / "ws"
    pkg.mkdir(parents=True)
    (tmp_path / "chat" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "websocket_manager.py").write_text("from ._api import *\n")
    (pkg / "_api.py").write_text("from ._none import *\nfrom ._core import *\n")
    (pkg / "_none.py").write_text("X = 1\n")
    (pkg / "_core.py").write_text("class WebSocketManager:\n    pass\n")
    got = defining_modules([WS], tmp_path, False)["ws"]
    assert got == ["chat.ws._api", "chat.ws._core", "chat.ws.websocket_manager"]


@pytest.mark.parametrize("code, live", [
    ("importlib.import_module('simplejson')", True), ("__import__(\n    'simplejson')", True),
    ("sys.modules['simplejson']", True), ("sys.modules.get('simplejson')", True),
    ("sys.modules.setdefault ( 'simplejson', m)", True), ("mock.patch('simplejson.dumps')", True),
    ("util.find_spec(name='simplejson')", True), ("import_module((('simplejson')))", True),
    ("monkeypatch.setattr(  # why\n    'simplejson.dumps', f)", True),
    ("find_library('simplejson')", False), ("d = {'simplejson': 1}", False),
    ("x = 'simplejson.dumps'", False), ("log('x', 'simplejson')", False),
    ("cfg['simplejson']", False), ("f(key='simplejson')", False),
])
def test_a_single_name_module_string_needs_an_import_like_place(code: str, live: bool) -> None:
    """A top-level module name alone is a reference only where a module is named: the
    pre-filter lets a file through only for those places (both answers checked against
    the parser)."""
    data = (code + "\n").encode()
    found = [h for h in analyze(data, MATCHER, "app.mod", False)[0] if str(h.entry.path) == "simplejson"]
    assert bool(found) == live
    assert FILTER.needs_parse(data, "app.mod") == live


_SINGLE = Matcher([JS])
_SINGLE_FILTER = Filter(_SINGLE)


@st.composite
def _single_name_files(draw) -> bytes:
    parts = ["simplejson", "simplejson.dumps", ".dumps", "x", ""]
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.sampled_from(parts)) + draw(st.sampled_from(parts))
        literal = draw(st.sampled_from(["'", '"', "b'", "f'", "r'"])) + body
        literal += "'" if literal[-len(body) - 1] == "'" else '"'
        if draw(st.booleans()):
            literal = f"({literal})"
        gap = draw(st.sampled_from(["", " ", "\n    ", "  # c\n    "]))
        where = draw(st.sampled_from([
            "import_module({g}{s})", "importlib.import_module({g}{s})", "find_spec(name={g}{s})",
            "sys.modules[{g}{s}]", "sys.modules.get({g}{s})", "mock.patch({g}{s}, x)",
            "log({g}{s})", "f(key={g}{s})", "cfg[{g}{s}]", "d = {{{g}{s}: 1}}", "x = {g}{s}",
            "setattr(obj, {g}{s})", "find_library({g}{s})", "y: {s} = 1"]))
        lines.append(where.format(g=gap, s=literal))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=300, deadline=None)
@given(_single_name_files())
def test_the_pre_filter_keeps_every_single_name_module_string(data: bytes) -> None:
    hits, error = analyze(data, _SINGLE, "app.mod", False)
    if error is None and hits:
        assert _SINGLE_FILTER.needs_parse(data, "app.mod")


@pytest.mark.parametrize("data", [
    b'# coding: utf-7\nX = "chat.ws.+AG0-anager"\n',  # all ASCII bytes, yet "+AG0-" is "m"
    b"#" + b"x" * 450 + b"\n# coding: utf-7\nX = \"chat.ws.+AG0-anager\"\n",  # cookie on line 2
], ids=["utf-7", "utf-7 after a long first line"])
def test_an_encoding_that_is_not_an_ascii_superset_is_read_as_python_reads_it(data: bytes) -> None:
    """PEP 263: the coding line decides what the bytes say, even when every byte is ASCII."""
    fast, error = analyze(data, MATCHER, "app.mod", False)
    assert error is None, error
    full, error = analyze(data, MATCHER, "app.mod", False, always_resolve=True)
    assert error is None, error
    assert [(str(h.entry.path), h.kind, h.line) for h in fast] == [
        (str(h.entry.path), h.kind, h.line) for h in full] == [("chat.ws.manager", "string", 2 + (
            data.startswith(b"#x")))]
    assert FILTER.needs_parse(data, "app.mod")


def test_the_pre_filter_looks_back_past_long_lines_and_long_import_lists() -> None:
    """The backward searches look near first and fall back to the whole file: a word far
    from its line start or its ``import`` is judged as one near them."""
    from pytest_ssot.scan.prefilter.file_words import FileWords

    far_import = ("from chat.ws import (\n" + "".join(f"    name_{i},\n" for i in range(900))
                  + "    WebSocketManager,\n)\n").encode()
    assert len(far_import) > 3 * 4096
    assert FILTER.needs_parse(far_import, "app.mod")
    assert refs(far_import.decode(), module="app.mod") == want(("WSM", "import", 1))
    long_comment = b"x = 1  # " + b"y" * 9000 + b" chat.ws.manager\n"
    assert not FILTER.needs_parse(long_comment, "app.mod")
    data = b"a" * 5000 + b"\r\n" + b"b" * 9000 + b"\r" + b"c" * 100 + b"\n" + b"d" * 6000
    words = FileWords(data)
    for pos in (0, 10, 4999, 5000, 5001, 5002, 9000, 14001, 14002, 14003, 14102, 14103,
                len(data) - 1):
        naive = max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1
        assert words.line_start(pos) == naive, pos
    data = (b"x" * 300 + b"#" + b"y" * 300 + b"'" + b"z" * 300 + b"\n" + b"q" * 300 + b"'"
            + b"#" * 300 + b"\n" + b"w" * 500)
    words = FileWords(data)
    for pos in range(0, len(data), 7):
        head = data[max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1:pos]
        naive = b"#" in head and b'"' not in head and b"'" not in head
        assert words.comment_before(pos) == naive, pos
