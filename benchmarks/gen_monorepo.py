"""Generate a synthetic chat-backend monorepo shaped like real code, with its ground truth.

    python benchmarks/gen_monorepo.py OUT_DIR [--files 60000] [--seed 1] [--docs 3000]

The tree is what the scan meets in a real monorepo, not a tree built to be easy:

- about 40% of the modules import the contracts' parent package for other reasons
  (`from chat.app import websocket_core`, `import chat.app.websocket_core`, its other
  names `format_event`, `EventBus`, `managers_registry`, `handlers`) and use those names;
- a homonym: `chat/app/billing/manager.py` has the same last name as the legacy
  `chat.app.websocket_core.manager` and its users import it (`from chat.app.billing import
  manager`, `from .. import manager`, `import chat.app.billing.manager`);
- log lines, error messages, comments, docstrings, f-strings and bytes naming the paths;
  prefixes (`manager_utils`, `managers_registry`, `websocket_manager_v2`); colon-form strings;
  `self.create_websocket_manager()`; shadowed names (parameters, locals, loop and
  comprehension variables named like the module alias); dynamic `getattr(wc, name)`; a test
  double `class WebSocketManager` outside the package; string annotations whose leftmost
  name is not bound; a single-identifier legacy module (`simplejson`) as a dictionary key,
  a log message and a library name;
- and the references themselves, in every SPEC 5 form, usages far more often than imports
  (the seeds counted 529 factory usages against 34 factory imports): attribute chains
  (`wc.create_websocket_manager(ctx)`, `chat.app.websocket_core.manager.WebSocketManager()`),
  `getattr`/`patch.object`/`monkeypatch.setattr`, calls of imported factories,
  `@mock.patch("...")` decorators, parametrize lists, string annotations, `cast`, `TypeVar`
  bounds, `TYPE_CHECKING` imports, relative imports, parent-package imports, `try`/`if`
  bindings, class-body scope, multi-line statements, `# ssot: ignore`, second definitions.

Every reference is written together with what SPEC 5 says it is, so the generator knows the
answer: `OUT_DIR/.ssot-expected.json` lists, per file, `[line, kind, contract, path, role]`
(role `canonical` for canonical references, which are counted, not reported), and the rates
actually drawn. `benchmarks/check_tree.py` compares a scan with it.

The generated `pyproject.toml` declares the contracts for pytest-ssot and the same legacy and
factory paths as ruff's banned-api (TID251), so both tools are asked the same question.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

AREAS = ["routes", "services", "agents", "db", "models", "utils", "auth", "billing",
         "analytics", "notifications"]

WS = "ws-manager"
JS = "json-lib"
UM = "chat.app.websocket_core.unified_manager"
MM = "chat.app.websocket_core.manager"
LA = "chat.app.websocket_core:WebSocketManager"
FA = "chat.app.websocket_core:create_websocket_manager"
FM = "chat.app.websocket_core.factory"
CAN = "chat.app.websocket_core.websocket_manager:WebSocketManager"
SJ = "simplejson"
JCAN = "chat.app.utils.jsonlib:dumps"

_CONTRACT_OF = {UM: WS, MM: WS, LA: WS, FA: WS, FM: WS, CAN: WS, SJ: JS, JCAN: JS}
_ROLE_OF = {UM: "legacy", MM: "legacy", LA: "legacy", FA: "factory", FM: "factory",
            CAN: "canonical", SJ: "legacy", JCAN: "canonical"}

PYPROJECT = '''\
[tool.pytest-ssot]
paths = ["chat", "tests"]

[tool.pytest-ssot.areas]
"chat/app/routes" = "P0"
"tests/mission_critical" = "P0"
"chat/app/services" = "P1"
"chat/app/agents" = "P1"

[[tool.pytest-ssot.contracts]]
name = "ws-manager"
canonical = "chat.app.websocket_core.websocket_manager:WebSocketManager"
legacy = ["chat.app.websocket_core.unified_manager", "chat.app.websocket_core.manager",
          "chat.app.websocket_core:WebSocketManager"]
factories = ["chat.app.websocket_core:create_websocket_manager",
             "chat.app.websocket_core.factory"]

[[tool.pytest-ssot.contracts]]
name = "json-lib"
canonical = "chat.app.utils.jsonlib:dumps"
legacy = ["simplejson"]

[tool.ruff]
target-version = "py310"

[tool.ruff.lint]
select = ["TID251"]

[tool.ruff.lint.flake8-tidy-imports.banned-api]
"chat.app.websocket_core.unified_manager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.manager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.WebSocketManager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.create_websocket_manager".msg = "use the registry"
"chat.app.websocket_core.factory".msg = "use the registry"
"simplejson".msg = "use chat.app.utils.jsonlib"

[tool.ruff.lint.per-file-ignores]
# the shims themselves (pytest-ssot does not scan them either)
"chat/app/websocket_core/manager.py" = ["TID251"]
"chat/app/websocket_core/factory.py" = ["TID251"]
"chat/app/websocket_core/unified_manager/**" = ["TID251"]
'''

Ref = tuple  # (kind, path)
Line = "str | tuple[str, list[Ref]]"


def R(kind: str, path: str) -> Ref:
    return (kind, path)


def _expect(line: int, kind: str, path: str) -> list:
    """One ground-truth row: [line, kind, contract, path, role]."""
    role = "definition" if kind == "definition" else _ROLE_OF[path]
    return [line, kind, _CONTRACT_OF[path], path, role]


@dataclass
class Snippet:
    """One feature of a file: its imports, module-level lines and top-level functions."""

    name: str
    imports: list = field(default_factory=list)
    module: list = field(default_factory=list)
    body: list = field(default_factory=list)
    # module-level names this snippet binds, and to what (two snippets binding one name to
    # different things are never put in one file: the expectation would depend on order)
    binds: dict[str, str] = field(default_factory=dict)
    needs_unbound: frozenset[str] = frozenset()
    needs_typing: bool = False


@dataclass
class FileCtx:
    idx: int
    in_chat: bool
    area: str
    is_test: bool
    rng: random.Random
    n: int = 0

    def uid(self) -> str:
        self.n += 1
        return f"{self.idx}_{self.n}"


# --------------------------------------------------------------------------- noise (no refs)

def parent_package_use(c: FileCtx) -> Snippet:
    """Imports of the contracts' parent package for its other names: the bulk of the tree."""
    u = c.uid()
    form = c.rng.randrange(6)
    if form == 0:
        return Snippet("parent_from", ["from chat.app import websocket_core"], body=[
            f"def publish_{u}(payload: dict) -> None:",
            "    event = websocket_core.format_event(payload)",
            "    websocket_core.managers_registry.lookup(payload.get('room')).send(event)",
            "",
            f"def bus_{u}() -> Any:",
            "    return websocket_core.EventBus(name=__name__)",
        ], binds={"websocket_core": "pkg"})
    if form == 1:
        return Snippet("parent_import", ["import chat.app.websocket_core"], body=[
            f"def publish_{u}(payload: dict) -> None:",
            "    chat.app.websocket_core.format_event(payload)",
            "    registry = chat.app.websocket_core.managers_registry",
            "    return registry.lookup(payload['room'])",
        ], binds={"chat": "chat"})
    if form == 2:
        return Snippet("parent_names", [
            "from chat.app.websocket_core import format_event, EventBus"], body=[
            f"def publish_{u}(payload: dict) -> Any:",
            "    bus = EventBus(name='events')",
            "    return bus.emit(format_event(payload))",
        ], binds={"format_event": "f", "EventBus": "e"})
    if form == 3:
        return Snippet("parent_handlers", ["import json",
                                           "from chat.app.websocket_core import handlers"], body=[
            f"async def on_message_{u}(conn: Any, raw: str) -> None:",
            "    await handlers.dispatch(conn, json.loads(raw))",
        ], binds={"handlers": "h", "json": "json"})
    if form == 4:
        return Snippet("parent_alias", ["from chat.app import websocket_core as wc"], body=[
            f"def room_{u}(room_id: str) -> Any:",
            "    return wc.managers_registry.lookup(room_id)",
            "",
            f"def event_{u}(payload: dict) -> Any:",
            "    return wc.format_event(payload)",
        ], binds={"wc": "pkg"})
    return Snippet("parent_events", ["from chat.app.websocket_core.events import EventBus"], body=[
        f"def bus_{u}() -> Any:",
        "    return EventBus(name=__name__)",
    ], binds={"EventBus": "e"})


def homonym(c: FileCtx) -> Snippet:
    """Users of chat.app.billing.manager (same last name as the legacy module)."""
    u = c.uid()
    form = c.rng.randrange(4)
    if form == 0 and c.in_chat and c.area == "billing":
        imp = "from .. import manager"  # in chat.app.billing.pkgNNN: chat.app.billing.manager
    elif form == 1:
        return Snippet("homonym_import", ["import chat.app.billing.manager"], body=[
            f"def charge_{u}(account: Any, amount: int) -> Any:",
            "    return chat.app.billing.manager.charge(account, amount)",
        ], binds={"chat": "chat"})
    elif form == 2:
        return Snippet("homonym_class", [
            "from chat.app.billing.manager import BillingManager"], body=[
            f"def invoice_{u}(account: Any) -> Any:",
            "    return BillingManager(account).invoice()",
        ], binds={"BillingManager": "b"})
    else:
        imp = "from chat.app.billing import manager"
    return Snippet("homonym_from", [imp], body=[
        f"def charge_{u}(account: Any, amount: int) -> Any:",
        "    manager.charge(account, amount)",
        "    return manager.BillingManager(account)",
    ], binds={"manager": "billing"})


_LOG = [
    'logger.info("chat.app.websocket_core.manager is deprecated, see docs")',
    'logger.warning("falling back to chat.app.websocket_core.create_websocket_manager()")',
    'logger.debug("chat.app.websocket_core.WebSocketManager: %s", "legacy path")',
    'logger.info("loaded %s", "chat.app.websocket_core.unified_manager (compat)")',
]


def log_lines(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("log_lines", body=[
        f"def warn_{u}(name: str) -> None:",
        "    " + c.rng.choice(_LOG),
        "    if not name:",
        '        raise RuntimeError("chat.app.websocket_core.WebSocketManager was removed; "',
        '                           "use chat.app.websocket_core.websocket_manager")',
    ])


def comments_docs(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("comments_docs", module=[
        "# TODO(ws): move off chat.app.websocket_core.manager before the Q3 cleanup",
    ], body=[
        f"def describe_{u}(name: str) -> str:",
        '    """chat.app.websocket_core.manager"""',
        "    # was: from chat.app.websocket_core.manager import WebSocketManager",
        '    path = f"chat.app.websocket_core.manager.{name}"',
        '    raw = b"chat.app.websocket_core.manager"',
        "    return path + raw.decode()",
    ])


def prefix_decoys(c: FileCtx) -> Snippet:
    u = c.uid()
    form = c.rng.randrange(3)
    if form == 0:
        return Snippet("prefix_from", [
            "from chat.app.websocket_core.manager_utils import format_event as fmt_legacy",
            "from chat.app.websocket_core.websocket_manager_v2 import Experimental",
        ], body=[
            f"def experimental_{u}(payload: dict) -> Any:",
            "    return Experimental(fmt_legacy(payload))",
        ], binds={"fmt_legacy": "f", "Experimental": "x"})
    if form == 1:
        return Snippet("prefix_import", ["import chat.app.websocket_core.managers_registry"],
                       body=[
            f"def lookup_{u}(room: str) -> Any:",
            "    return chat.app.websocket_core.managers_registry.lookup(room)",
        ], binds={"chat": "chat"})
    return Snippet("prefix_strings", module=[
        f'REGISTRY_{u} = "chat.app.websocket_core.managers_registry"',
        f'COLON_{u} = "chat.app.websocket_core.manager:WebSocketManager"',
        f'UTILS_{u} = "chat.app.websocket_core.manager_utils.format_event"',
    ])


def self_decoys(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("self_decoy", body=[
        f"class Connector{u}:",
        "    def create_websocket_manager(self) -> Any:",
        "        return object()",
        "",
        "    def open(self) -> Any:",
        "        mgr = self.create_websocket_manager()",
        "        return self._wc.WebSocketManager if mgr else None",
    ])


def shadowing(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("shadowing", ["from chat.app import websocket_core as wc"], body=[
        f"def handle_{u}(wc: Any, ctx: Any) -> Any:",
        "    return wc.create_websocket_manager(ctx)",
        "",
        f"def local_{u}(ctx: Any) -> Any:",
        "    wc = ctx.connection",
        "    return wc.WebSocketManager",
        "",
        f"def loop_{u}(conns: list) -> list:",
        "    out = [wc.create_websocket_manager(None) for wc in conns]",
        "    for wc in conns:",
        "        out.append(wc.WebSocketManager)",
        "    return out",
        "",
        f"def dynamic_{u}(name: str) -> Any:",
        "    if hasattr(wc, 'managers_registry'):",
        "        return getattr(wc, name)",
        "    return None",
    ], binds={"wc": "pkg"})


def test_double(c: FileCtx) -> Snippet:
    u = c.uid()
    if c.in_chat:  # nested: not a module-level definition
        return Snippet("nested_double", body=[
            f"def make_fake_{u}() -> Any:",
            "    class WebSocketManager:",
            "        def send(self, msg: str) -> None:",
            "            pass",
            "    return WebSocketManager()",
        ])
    return Snippet("test_double", module=[
        "class WebSocketManager:",
        '    """Test double: records what was sent."""',
        "",
        "    def __init__(self) -> None:",
        "        self.sent: list = []",
        "",
        "    def send(self, msg: str) -> None:",
        "        self.sent.append(msg)",
    ], binds={"WebSocketManager": "double"})


def unbound_annotation(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("unbound_annotation", body=[
        f'def legacy_hint_{u}(m: "chat.app.websocket_core.manager.WebSocketManager") -> None:',
        "    m.send('x')",
    ], needs_unbound=frozenset({"chat"}))


def simplejson_decoys(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("simplejson_decoy", module=[
        f'BACKENDS_{u} = {{"simplejson": 2, "json": 1}}',
    ], body=[
        f"def backend_{u}(name: str = 'simplejson') -> str:",
        '    logger.info("simplejson")',
        '    return "simplejson.dumps" if name == "simplejson" else name',
    ])


def accents(c: FileCtx) -> Snippet:
    return Snippet("accent", module=["# café, naïve, Zürich: the accents of real comments"])


# --------------------------------------------------------------------------- references

def factory_from(c: FileCtx) -> Snippet:
    """`from ... import create_websocket_manager` and its calls (usages >> imports)."""
    alias = c.rng.choice(["create_websocket_manager", "make_ws"])
    imp = "from chat.app.websocket_core import create_websocket_manager"
    if alias != "create_websocket_manager":
        imp += f" as {alias}"
    body: list = []
    for _ in range(c.rng.randint(1, 8)):
        u = c.uid()
        body += [f"async def connect_{u}(ctx: Any) -> Any:",
                 (f"    manager = {alias}(ctx)", [R("call", FA)]),
                 "    await manager.connect(ctx.user)",
                 "    return manager", ""]
    body += [f"FACTORY_{c.uid()} = {alias}"]  # used without a call: its import covers it
    return Snippet("factory_from", [(imp, [R("import", FA)])], body=body, binds={alias: FA})


def factory_chain(c: FileCtx) -> Snippet:
    """`wc.create_websocket_manager(ctx)` after `from chat.app import websocket_core as wc`."""
    alias = c.rng.choice(["wc", "websocket_core"])
    imp = ("from chat.app import websocket_core" if alias == "websocket_core"
           else "from chat.app import websocket_core as wc")
    body: list = []
    for _ in range(c.rng.randint(1, 8)):
        u = c.uid()
        form = c.rng.randrange(9)
        if form <= 2:
            body += [f"def connect_{u}(ctx: Any) -> Any:",
                     (f"    return {alias}.create_websocket_manager(ctx)", [R("attribute", FA)])]
        elif form == 3:  # a multi-line statement: the reference is on its third line
            body += [f"def connect_{u}(ctx: Any, user: Any) -> Any:",
                     "    manager = (",
                     "        ctx.cached_manager or",
                     (f"        {alias}.create_websocket_manager(", [R("attribute", FA)]),
                     "            ctx, user=user)",
                     "    )",
                     "    return manager"]
        elif form == 4:
            body += [f"def legacy_cls_{u}() -> Any:",
                     (f"    return {alias}.WebSocketManager", [R("attribute", LA)])]
        elif form == 5:
            body += [f"def factory_{u}() -> Any:",
                     (f'    return getattr({alias}, "create_websocket_manager")',
                      [R("attribute", FA)])]
        elif form == 6:
            body += [f"def test_patched_{u}(monkeypatch: Any) -> None:",
                     (f'    monkeypatch.setattr({alias}, "create_websocket_manager", '
                      "lambda ctx: None)", [R("attribute", FA)]),
                     (f'    with mock.patch.object({alias}, "WebSocketManager") as m:',
                      [R("attribute", LA)]),
                     "        assert m is not None"]
        elif form == 7:  # the legacy module as an attribute of its package
            body += [f"def legacy_module_{u}() -> Any:",
                     (f"    return {alias}.manager.WebSocketManager()", [R("attribute", MM)])]
        else:
            body += [f"def test_replace_{u}() -> None:",
                     (f"    {alias}.create_websocket_manager = lambda ctx: None",
                      [R("attribute", FA)]),
                     (f"    assert {alias}.websocket_manager.WebSocketManager",
                      [R("attribute", CAN)])]
        body.append("")
    return Snippet("factory_chain", [imp, "from unittest import mock"], body=body,
                   binds={alias: "pkg", "mock": "mock"})


def full_chain(c: FileCtx) -> Snippet:
    """`import chat.app.websocket_core` then chains through `chat`."""
    u = c.uid()
    return Snippet("full_chain", ["import chat.app.websocket_core"], body=[
        f"def connect_{u}(ctx: Any) -> Any:",
        ("    manager = chat.app.websocket_core.create_websocket_manager(ctx)",
         [R("attribute", FA)]),
        ("    assert isinstance(manager, chat.app.websocket_core.WebSocketManager)",
         [R("attribute", LA)]),
        "    return chat.app.websocket_core.managers_registry.register(manager)",
    ], binds={"chat": "chat"})


def legacy_module(c: FileCtx) -> Snippet:
    u = c.uid()
    form = c.rng.randrange(7)
    if form == 0:
        return Snippet("legacy_import_chain", [
            ("import chat.app.websocket_core.manager", [R("import", MM)])], body=[
            f"def build_{u}() -> Any:",
            ("    return chat.app.websocket_core.manager.WebSocketManager()", [R("attribute", MM)]),
        ], binds={"chat": "chat"})
    if form == 1:
        return Snippet("legacy_from", [
            ("from chat.app.websocket_core.manager import WebSocketManager", [R("import", MM)])],
            body=[f"def build_{u}() -> Any:", "    return WebSocketManager()"],
            binds={"WebSocketManager": MM})
    if form == 2:  # bare name bound to the module entry: chains through it are not references
        return Snippet("legacy_from_module", [
            ("from chat.app.websocket_core import manager", [R("import", MM)])], body=[
            f"def build_{u}() -> Any:", "    return manager.WebSocketManager()",
        ], binds={"manager": MM})
    if form == 3:
        return Snippet("legacy_import_as", [
            ("import chat.app.websocket_core.manager as ws_manager", [R("import", MM)])], body=[
            f"def build_{u}() -> Any:", "    return ws_manager.WebSocketManager()",
        ], binds={"ws_manager": MM})
    if form == 4:
        return Snippet("legacy_unified", [
            ("from chat.app.websocket_core.unified_manager import UnifiedWebSocketManager",
             [R("import", UM)])], body=[
            f"def build_{u}() -> Any:", "    return UnifiedWebSocketManager()",
        ], binds={"UnifiedWebSocketManager": UM})
    if form == 5:
        return Snippet("legacy_two", [
            ("from chat.app.websocket_core import manager, unified_manager",
             [R("import", MM), R("import", UM)])], binds={"manager": MM, "unified_manager": UM})
    return Snippet("legacy_import_os", [
        ("import os, chat.app.websocket_core.unified_manager", [R("import", UM)])],
        binds={"chat": "chat", "os": "os"})


def legacy_attribute(c: FileCtx) -> Snippet:
    u = c.uid()
    if c.rng.random() < 0.5:
        return Snippet("legacy_attr", [
            ("from chat.app.websocket_core import WebSocketManager", [R("import", LA)])],
            body=[f"def build_{u}() -> Any:", "    return WebSocketManager()"],
            binds={"WebSocketManager": LA})
    return Snippet("legacy_attr_multi", [
        ("from chat.app.websocket_core import (", [R("import", LA), R("import", FA)]),
        "    EventBus,",
        "    WebSocketManager,",
        "    create_websocket_manager,",
        ")"], body=[
        f"def build_{u}(ctx: Any) -> Any:",
        ("    return create_websocket_manager(ctx) or WebSocketManager()", [R("call", FA)]),
    ], binds={"WebSocketManager": LA, "create_websocket_manager": FA, "EventBus": "e"})


def factory_module(c: FileCtx) -> Snippet:
    body: list = []
    for _ in range(c.rng.randint(1, 3)):
        u = c.uid()
        body += [f"def make_{u}(ctx: Any) -> Any:",
                 ("    return build_manager(ctx)", [R("call", FM)]), ""]
    return Snippet("factory_module", [
        ("from chat.app.websocket_core.factory import build_manager", [R("import", FM)])],
        body=body, binds={"build_manager": FM})


def strings(c: FileCtx) -> Snippet:
    """Decorators, parametrize lists, patch targets, constants."""
    u = c.uid()
    form = c.rng.randrange(5)
    if form == 0:
        return Snippet("patch_decorator", ["from unittest import mock"], body=[
            ('@mock.patch("chat.app.websocket_core.manager.WebSocketManager.send")',
             [R("string", MM)]),
            ('@mock.patch("chat.app.websocket_core.websocket_manager.WebSocketManager.send")',
             [R("string", CAN)]),
            f"def test_send_{u}(canonical_send: Any, legacy_send: Any) -> None:",
            "    assert legacy_send is not canonical_send",
        ], binds={"mock": "mock"})
    if form == 1:
        return Snippet("parametrize", ["import pytest"], body=[
            "@pytest.mark.parametrize(",
            '    "target",',
            "    [",
            ('        "chat.app.websocket_core.manager",', [R("string", MM)]),
            ('        "chat.app.websocket_core.unified_manager.UnifiedWebSocketManager",',
             [R("string", UM)]),
            ('        "chat.app.websocket_core.WebSocketManager",', [R("string", LA)]),
            ('        "chat.app.websocket_core.websocket_manager.WebSocketManager",',
             [R("string", CAN)]),
            '        "chat.app.billing.manager",',
            '        "simplejson.dumps",',
            "    ],",
            ")",
            f"def test_importable_{u}(target: str) -> None:",
            "    assert target",
        ], binds={"pytest": "pytest"})
    if form == 2:
        return Snippet("patch_constants", module=[
            (f'PATCH_TARGET_{u} = "chat.app.websocket_core.unified_manager.'
             'UnifiedWebSocketManager.send"', [R("string", UM)]),
            (f'LEGACY_{u} = "chat.app.websocket_core.manager"', [R("string", MM)]),
        ])
    if form == 3:
        return Snippet("setattr_string", body=[
            f"def test_factory_{u}(monkeypatch: Any) -> None:",
            ('    monkeypatch.setattr("chat.app.websocket_core.create_websocket_manager",',
             [R("string", FA)]),
            "                        lambda ctx: None)",
        ])
    return Snippet("concat", module=[
        (f'TARGET_{u} = ("chat.app.websocket_core."', [R("string", MM)]),
        '             "manager")',
    ])


def relative(c: FileCtx) -> Snippet:
    """Files under chat/app/<area>/pkgNNN/: `...` is chat.app."""
    u = c.uid()
    form = c.rng.randrange(3)
    if form == 0:
        return Snippet("relative_from", [
            ("from ...websocket_core import manager as legacy_manager", [R("import", MM)])],
            binds={"legacy_manager": MM})
    if form == 1:
        return Snippet("relative_module", [
            ("from ...websocket_core.manager import WebSocketManager", [R("import", MM)])],
            binds={"WebSocketManager": MM})
    return Snippet("relative_parent", ["from ... import websocket_core"], body=[
        f"def connect_{u}(ctx: Any) -> Any:",
        ("    return websocket_core.create_websocket_manager(ctx)", [R("attribute", FA)]),
    ], binds={"websocket_core": "pkg"})


def type_checking(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("type_checking", [
        "from typing import TYPE_CHECKING, TypeVar, cast",
        "",
        "if TYPE_CHECKING:",
        ("    from chat.app.websocket_core import manager as legacy_manager", [R("import", MM)]),
        "    from chat.app import websocket_core as wct",
    ], module=[
        (f'T{u} = TypeVar("T{u}", bound="wct.WebSocketManager")', [R("attribute", LA)]),
    ], body=[
        (f'def send_{u}(m: "wct.WebSocketManager", other: "Optional[wct.WebSocketManager]"',
         [R("attribute", LA), R("attribute", LA)]),
        '              ) -> "legacy_manager.WebSocketManager":',
        ('    return cast("wct.WebSocketManager", m)', [R("attribute", LA)]),
    ], binds={"legacy_manager": MM, "wct": "pkg", "TYPE_CHECKING": "t", "TypeVar": "t",
              "cast": "t"})


def class_scope(c: FileCtx) -> Snippet:
    """A class body's names are not visible in its methods: `wc` there is the module's."""
    u = c.uid()
    return Snippet("class_scope", ["from chat.app import websocket_core as wc"], body=[
        f"class Handler{u}:",
        "    wc = None",
        "",
        "    def open(self, ctx: Any) -> Any:",
        ("        return wc.create_websocket_manager(ctx)", [R("attribute", FA)]),
    ], binds={"wc": "pkg"})


def branch_binding(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("branch_binding", [
        "import os",
        "try:",
        ("    from chat.app.websocket_core import unified_manager as compat_ws",
         [R("import", UM)]),
        "except ImportError:",
        "    compat_ws = None",
        "if os.environ.get('WS_LEGACY'):",
        "    from chat.app import websocket_core as maybe_wc",
        "else:",
        "    maybe_wc = None",
    ], body=[
        f"def connect_{u}(ctx: Any) -> Any:",
        ("    return maybe_wc.create_websocket_manager(ctx)", [R("attribute", FA)]),
    ], binds={"compat_ws": UM, "maybe_wc": "pkg", "os": "os"})


def suppressed(c: FileCtx) -> Snippet:
    u = c.uid()
    return Snippet("suppressed", [
        "from chat.app.websocket_core.manager import WebSocketManager as OldWSM  # ssot: ignore",
        "from chat.app import websocket_core as wc",
    ], body=[
        f"def connect_{u}(ctx: Any) -> Any:",
        "    a = wc.create_websocket_manager(ctx)  # ssot: ignore[ws-manager]",
        ("    b = wc.create_websocket_manager(ctx)  # ssot: ignore[json-lib]",
         [R("attribute", FA)]),
        "    return a or b or OldWSM",
    ], binds={"OldWSM": MM, "wc": "pkg"})


def canonical(c: FileCtx) -> Snippet:
    u = c.uid()
    form = c.rng.randrange(4)
    if form == 0:
        return Snippet("canonical_import", [
            ("from chat.app.websocket_core.websocket_manager import WebSocketManager",
             [R("import", CAN)])], body=[
            f"def build_{u}() -> Any:", "    return WebSocketManager()",
        ], binds={"WebSocketManager": CAN})
    if form == 1:
        return Snippet("canonical_as", [
            ("from chat.app.websocket_core.websocket_manager import WebSocketManager as WSM",
             [R("import", CAN)])], body=[
            f"def build_{u}() -> Any:", "    return WSM()",
        ], binds={"WSM": CAN})
    if form == 2:
        return Snippet("canonical_json", [
            ("from chat.app.utils.jsonlib import dumps", [R("import", JCAN)])], body=[
            f"def encode_{u}(payload: dict) -> str:", "    return dumps(payload)",
        ], binds={"dumps": JCAN})
    return Snippet("canonical_patch", ["from unittest import mock"], body=[
        ('@mock.patch("chat.app.websocket_core.websocket_manager.WebSocketManager.send")',
         [R("string", CAN)]),
        f"def test_send_{u}(send: Any) -> None:",
        "    assert send is not None",
    ], binds={"mock": "mock"})


def simplejson_refs(c: FileCtx) -> Snippet:
    u = c.uid()
    form = c.rng.randrange(4)
    if form == 0:
        return Snippet("simplejson_import", [("import simplejson", [R("import", SJ)])],
                       binds={"simplejson": SJ})
    if form == 1:
        return Snippet("simplejson_try", [
            "try:",
            ("    import simplejson as fastjson", [R("import", SJ)]),
            "except ImportError:",
            "    import json as fastjson",
        ], body=[f"def encode_{u}(obj: Any) -> str:", "    return fastjson.dumps(obj)"],
            binds={"fastjson": SJ})
    if form == 2:
        return Snippet("simplejson_dynamic", ["import importlib", "import sys"], body=[
            f"def backend_{u}() -> Any:",
            ('    if "simplejson" in sys.modules:', []),
            ('        return sys.modules["simplejson"]', [R("string", SJ)]),
            ('    return importlib.import_module("simplejson")', [R("string", SJ)]),
        ], binds={"importlib": "i", "sys": "s"})
    return Snippet("simplejson_patch", ["from unittest import mock"], body=[
        ('@mock.patch("simplejson.dumps")', [R("string", SJ)]),
        f"def test_dumps_{u}(dumps_mock: Any) -> None:",
        "    assert dumps_mock is not None",
    ], binds={"mock": "mock"})


def definition(c: FileCtx) -> Snippet:
    if c.rng.random() < 0.5:
        return Snippet("definition_class", module=[
            ("class WebSocketManager:", [R("definition", CAN)]),
            '    """A second implementation, copied in 2023."""',
            "",
            "    def send(self, msg: str) -> None:",
            "        pass",
        ], binds={"WebSocketManager": "def"})
    return Snippet("definition_def", ["import json"], module=[
        ("def dumps(obj: Any) -> str:", [R("definition", JCAN)]),
        "    return json.dumps(obj, sort_keys=True)",
    ], binds={"dumps": "def", "json": "json"})


# (feature, probability per file, where: "any" | "chat" | "tests"); drawn independently.
FEATURES = [
    (parent_package_use, 0.40, "any"),
    (homonym, 0.03, "any"),
    (log_lines, 0.05, "any"),
    (comments_docs, 0.04, "any"),
    (prefix_decoys, 0.03, "any"),
    (self_decoys, 0.01, "any"),
    (shadowing, 0.01, "any"),
    (test_double, 0.01, "tests"),
    (test_double, 0.002, "chat"),
    (unbound_annotation, 0.005, "any"),
    (simplejson_decoys, 0.01, "any"),
    (accents, 0.02, "any"),
    (factory_chain, 0.012, "any"),
    (factory_from, 0.006, "any"),
    (full_chain, 0.003, "any"),
    (legacy_module, 0.008, "any"),
    (legacy_attribute, 0.004, "any"),
    (factory_module, 0.002, "any"),
    (strings, 0.006, "tests"),
    (strings, 0.001, "chat"),
    (relative, 0.003, "chat"),
    (type_checking, 0.003, "any"),
    (class_scope, 0.001, "any"),
    (branch_binding, 0.001, "any"),
    (suppressed, 0.001, "any"),
    (canonical, 0.02, "any"),
    (simplejson_refs, 0.002, "any"),
    (definition, 0.0005, "chat"),
]

METHOD = '''
    async def handle_{m}(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Handle step {m} of the request for one user."""
        started = time.monotonic()
        result = {{"id": str(uuid.uuid4()), "step": {m}, "user": payload.get("user")}}
        for key, value in sorted(payload.items()):
            if isinstance(value, str) and value.startswith("tmp_"):
                continue
            result[key] = value
        self._log.debug("step %s took %.3f", {m}, time.monotonic() - started)
        return result'''
METHODS = [METHOD.format(m=m).split("\n")[1:] for m in range(8)]
BASE_IMPORTS = ["import logging", "import time", "import uuid",
                "from dataclasses import dataclass, field", "from typing import Any, Optional"]
EXTRA_STDLIB = ["import os", "import json", "import asyncio", "import re",
                "from collections import defaultdict"]


def compose(c: FileCtx, snippets: list[Snippet]) -> tuple[str, list[list]]:
    """The file's text and its expected references, line numbers counted as written."""
    rng = c.rng
    lines: list = [f'"""Module {c.idx}: part of the chat backend."""', "",
                   *BASE_IMPORTS, *rng.sample(EXTRA_STDLIB, rng.randint(0, 3))]
    for s in snippets:
        lines += s.imports
    lines += ["", "logger = logging.getLogger(__name__)"]
    for s in snippets:
        if s.module:
            lines += ["", *s.module]
    cls = f"Service{c.idx}"
    lines += ["", "", "@dataclass", f"class {cls}:", f'    """The {cls} component."""', "",
              '    name: str = "svc"', "    retries: int = 3",
              '    _log: Any = field(default_factory=lambda: logging.getLogger("svc"))']
    for m in range(rng.randint(3, 8)):
        lines += METHODS[m]
    for s in snippets:
        if s.body:
            lines += ["", "", *s.body]
    lines += ["", "", f'def build_{c.idx}(name: str = "default") -> {cls}:',
              f"    return {cls}(name=name)", ""]
    text: list[str] = []
    expected: list[list] = []
    for n, line in enumerate(lines, 1):
        if isinstance(line, tuple):
            line, refs = line
            expected += [_expect(n, kind, path) for kind, path in refs]
        text.append(line)
    return "\n".join(text), expected


def pick(c: FileCtx) -> list[Snippet]:
    chosen: list[Snippet] = []
    bound: dict[str, str] = {"os": "os", "json": "json", "logging": "logging", "time": "time",
                             "uuid": "uuid", "Any": "t", "Optional": "t"}
    for feature, rate, where in FEATURES:
        if where == "chat" and not c.in_chat or where == "tests" and c.in_chat:
            continue
        if c.rng.random() >= rate:
            continue
        s = feature(c)
        if any(bound.get(k, v) != v for k, v in s.binds.items()):
            continue  # one name bound to two things: the expectation would depend on order
        if s.needs_unbound & bound.keys():
            continue
        if any(k in x.needs_unbound for x in chosen for k in s.binds):
            continue
        bound.update(s.binds)
        chosen.append(s)
    return chosen


# Fixed files of the package under contract, with their references.
CORE_FILES: dict[str, list] = {
    "chat/__init__.py": [""],
    "chat/app/__init__.py": [""],
    "chat/app/websocket_core/__init__.py": [
        '"""The websocket core: connections, events, and the (legacy) manager exports."""',
        "from __future__ import annotations",
        "",
        ("from .websocket_manager import WebSocketManager", [R("import", CAN)]),
        "from . import handlers, managers_registry",
        "from .events import EventBus, format_event",
        "",
        "__all__ = ['EventBus', 'WebSocketManager', 'create_websocket_manager',",
        "           'format_event', 'handlers', 'managers_registry']",
        "",
        "",
        "def create_websocket_manager(ctx=None):",
        '    """Deprecated factory: use managers_registry.lookup()."""',
        "    return WebSocketManager()",
        ""],
    "chat/app/websocket_core/websocket_manager.py": [
        '"""The canonical websocket manager."""', "", "", "class WebSocketManager:",
        "    def send(self, msg):", "        return msg", ""],
    # the shims: not scanned (their references are the runtime checks' business)
    "chat/app/websocket_core/manager.py": [
        "from .websocket_manager import WebSocketManager  # noqa: F401", ""],
    "chat/app/websocket_core/factory.py": [
        "from . import create_websocket_manager", "", "",
        "def build_manager(ctx=None):", "    return create_websocket_manager(ctx)", ""],
    "chat/app/websocket_core/unified_manager/__init__.py": [
        "from ..websocket_manager import WebSocketManager as UnifiedWebSocketManager", ""],
    "chat/app/websocket_core/unified_manager/compat.py": [
        "from chat.app.websocket_core.manager import WebSocketManager", "",
        'TARGET = "chat.app.websocket_core.manager"', ""],
    "chat/app/websocket_core/handlers.py": [
        '"""Message handlers."""',
        "from __future__ import annotations", "",
        ("from . import manager as _legacy", [R("import", MM)]),
        ("from .websocket_manager import WebSocketManager", [R("import", CAN)]),
        "", "",
        "async def dispatch(conn, message):",
        "    return WebSocketManager().send(message) or _legacy", ""],
    "chat/app/websocket_core/events.py": [
        "class EventBus:", "    def __init__(self, name):", "        self.name = name", "",
        "    def emit(self, event):", "        return event", "", "",
        "def format_event(payload):", "    return dict(payload)", ""],
    "chat/app/websocket_core/managers_registry.py": [
        "_ROOMS = {}", "", "", "def lookup(room):", "    return _ROOMS.get(room)", "", "",
        "def register(manager):", "    _ROOMS[id(manager)] = manager", "    return manager", ""],
    "chat/app/websocket_core/manager_utils.py": [
        "def format_event(payload):", "    return payload", ""],
    "chat/app/websocket_core/websocket_manager_v2.py": ["class Experimental:", "    pass", ""],
    "chat/app/billing/manager.py": [
        '"""Billing manager (not the websocket one)."""', "", "",
        "class BillingManager:", "    def __init__(self, account):",
        "        self.account = account",
        "", "    def invoice(self):", "        return self.account", "", "",
        "def charge(account, amount):", "    return account, amount", ""],
    "chat/app/utils/jsonlib.py": [
        "import json", "", "", "def dumps(obj):", "    return json.dumps(obj)", ""],
    "chat/app/utils/latin1_legacy.py": [
        "# -*- coding: latin-1 -*-",
        "# Ancien module: r\xe9f\xe9rence au gestionnaire",
        ("from chat.app.websocket_core.manager import WebSocketManager", [R("import", MM)]),
        ""],
}
# second implementations that every tree has (the random ones are rare)
CORE_FILES["chat/app/agents/ws_compat.py"] = [
    '"""Kept for the agents until the migration (a copy of the manager)."""', "", "",
    ("class WebSocketManager:", [R("definition", CAN)]),
    "    def send(self, msg):", "        return msg", ""]
CORE_FILES["chat/app/utils/serializers.py"] = [
    "import json", "", "",
    ("def dumps(obj):", [R("definition", JCAN)]),
    "    return json.dumps(obj, default=str)", ""]
ERROR_FILES = {"chat/app/utils/broken_legacy.py":
               "from chat.app.websocket_core.manager import WebSocketManager\ndef f(:\n"}


def write_core(out: Path, expected: dict[str, list]) -> None:
    for rel, lines in CORE_FILES.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        text, refs = [], []
        for n, line in enumerate(lines, 1):
            if isinstance(line, tuple):
                line, rs = line
                for kind, path in rs:
                    refs.append(_expect(n, kind, path))
            text.append(line)
        enc = "latin-1" if "latin1" in rel else "utf-8"
        p.write_bytes("\n".join(text).encode(enc))
        if refs:
            expected[rel] = refs
    for rel, text in ERROR_FILES.items():
        (out / rel).write_text(text)


# --------------------------------------------------------------------------- docs and config

_PROSE = [
    "The websocket core keeps one connection per user and routes events to rooms.",
    "Retries back off exponentially; see the operations guide for the limits.",
    "Every handler is async and must not block the event loop.",
    "Configuration is read once at start-up; restart the service to change it.",
    "simplejson was the serializer of the first release; the json module replaced it.",
    "Metrics are exported every 15 seconds to the collector.",
]
# log lines and prose that spell the paths without being references to them: prefixes,
# longer names, the parent package, file paths (the pre-filter lets them through)
_TEXT_DECOYS = [
    "2026-01-03 12:00:01 INFO chat.app.websocket_core.manager_utils: formatted 12 events",
    "2026-01-03 12:00:02 DEBUG chat.app.websocket_core.managers_registry lookup room=42",
    "2026-01-03 12:00:03 WARNING chat.app.websocket_core.websocket_manager_v2 experimental",
    "2026-01-03 12:00:04 INFO chat.app.websocket_core: 3 handlers registered",
    "See chat/app/websocket_core/manager.py for the history of the module.",
    "The unified_manager and the factory are deprecated.",
]
# (text, [(kind-free ref: path, role)]): references as users write them in docs and config
_DOC_REFS = [
    (":class:`~chat.app.websocket_core.manager.WebSocketManager` is deprecated.", [MM]),
    (".. automodule:: chat.app.websocket_core.unified_manager", [UM]),
    ("Run `python -m chat.app.websocket_core.manager --check` to list rooms.", [MM]),
    ("::: chat.app.websocket_core.websocket_manager.WebSocketManager", [CAN]),
    ("Import `chat.app.websocket_core.WebSocketManager` (old) or the new path.", [LA]),
    ("Build managers with chat.app.websocket_core.create_websocket_manager().", [FA]),
    ("2026-01-03 12:00:05 WARNING chat.app.websocket_core.manager is deprecated", [MM]),
]
_CONFIG_REFS = [
    ("    class: chat.app.websocket_core.manager.WebSocketManager", [MM]),
    ("  entry: chat.app.websocket_core.factory:build_manager", [FM]),
    ("  serializer: chat.app.utils.jsonlib:dumps", [JCAN]),
    ("  manager: chat.app.websocket_core.websocket_manager:WebSocketManager", [CAN]),
]


def write_text_files(out: Path, n: int, rng: random.Random, expected: dict[str, list]) -> int:
    """``n`` docs (Markdown, reStructuredText under ``docs/``) and YAML files (under
    ``chat/app/*/config``): most without a reference, some with (about 1 in 12), log lines
    naming the paths' neighbours in many. Their references go into ``expected`` with kind
    ``doc`` or ``config``. Returns how many files hold a reference."""
    with_refs = 0
    for i in range(n):
        form = i % 10
        if form < 8:
            ext = ".rst" if form >= 6 else ".md"
            rel = f"docs/{AREAS[i % len(AREAS)]}/section{(i // 50) % 20:02d}/page{i:05d}{ext}"
            kind, refs_pool = "doc", _DOC_REFS
            lines = [f"# Page {i}" if ext == ".md" else f"Page {i}\n{'=' * (6 + len(str(i)))}"]
        else:
            rel = f"chat/app/{AREAS[i % len(AREAS)]}/config/service{i:05d}.yaml"
            kind, refs_pool = "config", _CONFIG_REFS
            lines = [f"# service {i}", "service:", f"  name: svc{i}", "  replicas: 3",
                     "  logging:", "    level: INFO"]
        body: list = []
        for _ in range(rng.randint(15, 60)):
            r = rng.random()
            if r < 0.08:
                body.append(rng.choice(_TEXT_DECOYS) if kind == "doc"
                            else "  # " + rng.choice(_TEXT_DECOYS))
            elif kind == "doc":
                body.append(rng.choice(_PROSE))
            else:
                body.append(f"  key{rng.randrange(1000)}: value{rng.randrange(1000)}")
        if rng.random() < 1 / 12:
            with_refs += 1
            for _ in range(rng.randint(1, 3)):
                body.insert(rng.randrange(len(body) + 1), rng.choice(refs_pool))
        text: list[str] = []
        refs: list[list] = []
        for line in "\n".join(lines).split("\n") + body:
            if isinstance(line, tuple):
                line, paths = line
                refs += [_expect(len(text) + 1, kind, p) for p in paths]
            text.append(line)
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(text) + "\n")
        if refs:
            expected[rel] = refs
    return with_refs


def generate(out: Path, n_files: int, seed: int, docs: int = 0) -> dict:
    rng = random.Random(seed)
    pyproject = PYPROJECT if not docs else PYPROJECT.replace(
        'paths = ["chat", "tests"]', 'paths = ["chat", "tests", "docs"]')
    (out / "pyproject.toml").write_text(pyproject)
    expected: dict[str, list] = {}
    for top in ("chat/app", "tests"):
        for area in AREAS + ["mission_critical"]:
            d = out / top / area
            d.mkdir(parents=True, exist_ok=True)
            (d / "__init__.py").write_text("")
    (out / "tests" / "__init__.py").write_text("")
    write_core(out, expected)
    drawn: dict[str, int] = {}
    per_pkg = 100
    made: set[Path] = set()
    for i in range(n_files):
        area = AREAS[i % len(AREAS)]
        is_test = i % 7 == 0
        top = "tests" if is_test else "chat/app"
        sub = "mission_critical" if is_test and i % 3 == 0 else area
        pkg = out / top / sub / f"pkg{(i // per_pkg) % 200:03d}"
        if pkg not in made:
            made.add(pkg)
            pkg.mkdir(exist_ok=True)
            (pkg / "__init__.py").write_text("")
        c = FileCtx(i, not is_test, area, is_test, rng)
        snippets = pick(c)
        for s in snippets:
            drawn[s.name] = drawn.get(s.name, 0) + 1
        text, refs = compose(c, snippets)
        path = pkg / f"mod{i:05d}.py"
        path.write_text(text)
        if refs:
            expected[path.relative_to(out).as_posix()] = refs
    text_with_refs = write_text_files(out, docs, random.Random(seed + 1), expected) \
        if docs else 0
    n_py = n_files + len(made) + len(CORE_FILES) + len(ERROR_FILES) + 2 * (len(AREAS) + 1) + 1
    totals: dict[str, int] = {}
    for refs in expected.values():
        for _, kind, _, _, role in refs:
            key = "canonical" if role == "canonical" else kind
            totals[key] = totals.get(key, 0) + 1
    doc = {"seed": seed, "files": n_py, "generated_modules": n_files,
           "files_with_references": len(expected),
           "text_files": docs, "text_files_with_references": text_with_refs,
           "references": totals, "snippets_drawn": dict(sorted(drawn.items())),
           "errors": sorted(ERROR_FILES), "expected": dict(sorted(expected.items()))}
    (out / ".ssot-expected.json").write_text(json.dumps(doc, separators=(",", ":")))
    return {k: v for k, v in doc.items() if k != "expected"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--docs", type=int, default=0,
                    help="also write this many docs (Markdown, RST) and YAML files")
    args = ap.parse_args(argv)
    if args.files < 0 or args.docs < 0:
        ap.error("--files and --docs must be >= 0")
    try:
        args.out.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        ap.error(f"{args.out} exists; give a new folder")
    print(json.dumps(generate(args.out, args.files, args.seed, args.docs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
