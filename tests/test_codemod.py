"""`pytest-ssot fix`: before/after for every form, what it refuses, and round-trips."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import fork_anyway, write_tree
from pytest_ssot.codemod import fix
from pytest_ssot.config import load_config
from pytest_ssot.scan import scan

PROJECT = {
    "pyproject.toml": """
        [tool.pytest-ssot]
        paths = ["chat"]
        [[tool.pytest-ssot.contracts]]
        name = "ws"
        canonical = "chat.ws.websocket_manager:WebSocketManager"
        legacy = ["chat.ws.manager", "chat.ws.unified_manager", "chat.ws:WebSocketManager"]
        factories = ["chat.ws:create_manager", "chat.ws:make_manager"]
        replacements = {"chat.ws:create_manager" = "chat.ws.registry:get_manager"}
    """,
    "chat/__init__.py": "",
    "chat/app/__init__.py": "",
    "chat/ws/__init__.py": """
        import warnings

        def _create(user):
            from .websocket_manager import WebSocketManager
            return WebSocketManager()

        def __getattr__(name):
            if name == "WebSocketManager":
                warnings.warn("moved", DeprecationWarning, stacklevel=2)
                from .websocket_manager import WebSocketManager
                return WebSocketManager
            if name in ("create_manager", "make_manager"):
                warnings.warn("use the registry", DeprecationWarning, stacklevel=2)
                return _create
            raise AttributeError(name)
    """,
    "chat/ws/websocket_manager.py": """
        class WebSocketManager:
            def send(self):
                return "sent"

        class UserContext:
            pass
    """,
    "chat/ws/registry.py": """
        def get_manager(user=None):
            from .websocket_manager import WebSocketManager
            return WebSocketManager()
    """,
    "chat/ws/manager.py": """
        import warnings
        warnings.warn("chat.ws.manager is deprecated", DeprecationWarning, stacklevel=2)
        from .websocket_manager import UserContext, WebSocketManager

        def legacy_only():
            return 1
    """,
    "chat/ws/unified_manager.py": """
        from .websocket_manager import WebSocketManager as UnifiedWebSocketManager
    """,
}

# (code before, code after or None when unchanged, text expected among the listed reasons)
CASES = {
    'from_module': (
        'from chat.ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'renamed_keeps_local_name': (
        'from chat.ws.unified_manager import UnifiedWebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager as UnifiedWebSocketManager\n',
        None),
    'alias_and_comment': (
        'from chat.ws.manager import WebSocketManager as W  # keep me\n',
        'from chat.ws.websocket_manager import WebSocketManager as W  # keep me\n',
        None),
    'multi_line': (
        'from chat.ws.manager import (\n    UserContext,  # ctx\n    WebSocketManager,\n)\n',
        'from chat.ws.websocket_manager import (\n    UserContext,  # ctx\n    WebSocketManager,\n)\n',
        None),
    'split_when_some_move': (
        'from chat.ws.manager import WebSocketManager, legacy_only\n',
        'from chat.ws.manager import legacy_only\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        'legacy_only: chat.ws.manager.legacy_only is not any object of chat.ws.websocket_manager'),
    'relative': (
        'from ..ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'legacy_attribute': (
        'from chat.ws import WebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'namespace_from_in_function': (
        'def f():\n    from chat.ws import manager\n    return manager.WebSocketManager\n',
        'def f():\n    from chat.ws import websocket_manager\n    return websocket_manager.WebSocketManager\n',
        None),
    'namespace_import_as_in_function': (
        'def f():\n    import chat.ws.manager as m\n    return m.WebSocketManager().send()\n',
        'def f():\n    import chat.ws.websocket_manager as m\n    return m.WebSocketManager().send()\n',
        None),
    'namespace_unused_in_function': (
        'def f():\n    import chat.ws.manager as m\n',
        'def f():\n    import chat.ws.websocket_manager as m\n',
        None),
    'namespace_at_module_level': (
        'from chat.ws import manager\n\nx = manager.WebSocketManager\n',
        'from chat.ws import websocket_manager\n\nx = websocket_manager.WebSocketManager\n',
        None),
    'namespace_import_as_at_module_level': (
        'import chat.ws.manager as m\n',
        'import chat.ws.websocket_manager as m\n',
        None),
    'namespace_in_class_body': (
        'class K:\n    import chat.ws.manager as m\n',
        None,
        'module bound in a class body'),
    'namespace_other_name': (
        'def f():\n    from chat.ws import manager\n    return manager.legacy_only\n',
        None,
        'not the same object in the canonical module: `chat.ws.manager.legacy_only`'),
    'namespace_used_bare': (
        'def f():\n    from chat.ws import manager\n    print(manager)\n',
        None,
        'the legacy module itself is used as an object: `manager` is used other than as `manager.<name>`'),
    'plain_dotted_import': (
        'import chat.ws.manager\n',
        'import chat.ws.websocket_manager\n',
        None),
    'patch_attribute_of_object': (
        'patch("chat.ws.manager.WebSocketManager.send")\n',
        'patch("chat.ws.websocket_manager.WebSocketManager.send")\n',
        None),
    'patch_renamed_object': (
        "patch('chat.ws.unified_manager.UnifiedWebSocketManager.send')\n",
        "patch('chat.ws.websocket_manager.WebSocketManager.send')\n",
        None),
    'patch_namespace_binding': (
        'patch("chat.ws.manager.WebSocketManager")\n',
        'patch("chat.ws.websocket_manager.WebSocketManager")\n',
        None),
    'factory': (
        'from chat.ws import make_manager\n',
        None,
        'factory without a declared replacement'),
    'factory_chain_without_replacement': (
        'import chat.ws as wc\n\ndef f():\n    return wc.make_manager(1)\n',
        None,
        'factory without a declared replacement'),
    'chain_through_package': (
        'import chat.ws as wc\n\nx = wc.WebSocketManager\n',
        'from chat.ws import websocket_manager\n\nx = websocket_manager.WebSocketManager\n',
        None),
    'chain_keeps_import_still_used': (
        'import chat.ws as wc\n\ndef f():\n    return wc.WebSocketManager().send(), wc.make_manager\n',
        'import chat.ws as wc\nfrom chat.ws import websocket_manager\n\ndef f():\n    return websocket_manager.WebSocketManager().send(), wc.make_manager\n',
        'factory without a declared replacement'),
    'chain_plain_import': (
        'import chat.ws.manager\n\nx = chat.ws.manager.WebSocketManager.send\n',
        'import chat.ws.websocket_manager\n\nx = chat.ws.websocket_manager.WebSocketManager.send\n',
        None),
    'chain_plain_import_other_name': (
        'import chat.ws.manager\n\nx = chat.ws.manager.WebSocketManager\ny = chat.ws.manager.legacy_only\n',
        'import chat.ws.manager\nfrom chat.ws import websocket_manager\n\nx = websocket_manager.WebSocketManager\ny = chat.ws.manager.legacy_only\n',
        'not the same object in the canonical module'),
    'chain_in_function': (
        'def f():\n    import chat.ws as wc\n    return wc.WebSocketManager\n',
        'def f():\n    from chat.ws import websocket_manager\n    return websocket_manager.WebSocketManager\n',
        None),
    'chain_name_clash': (
        'import chat.ws as wc\n\nWebSocketManager = 1\nx = wc.WebSocketManager\n',
        'from chat.ws import websocket_manager\n\nWebSocketManager = 1\nx = websocket_manager.WebSocketManager\n',
        None),
    'chain_reuses_canonical_import': (
        'from chat.ws.websocket_manager import WebSocketManager\nimport chat.ws as wc\n\nx = wc.WebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager\nfrom chat.ws import websocket_manager\n\nx = websocket_manager.WebSocketManager\n',
        None),
    'getattr_literal': (
        "import chat.ws as wc\n\nx = getattr(wc, 'WebSocketManager')\n",
        "from chat.ws import websocket_manager\n\nx = getattr(websocket_manager, 'WebSocketManager')\n",
        None),
    'setattr_namespace': (
        "import chat.ws as wc\n\ndef t():\n    setattr(wc, 'WebSocketManager', None)\n",
        "from chat.ws import websocket_manager\n\ndef t():\n    setattr(websocket_manager, 'WebSocketManager', None)\n",
        None),
    'patch_object_rewritten': (
        "from unittest import mock\nimport chat.ws as wc\n\ndef t():\n    with mock.patch.object(wc, 'WebSocketManager'):\n        pass\n",
        "from unittest import mock\nfrom chat.ws import websocket_manager\n\ndef t():\n    with mock.patch.object(websocket_manager, 'WebSocketManager'):\n        pass\n",
        None),
    'string_annotation': (
        'from typing import TYPE_CHECKING, cast\nif TYPE_CHECKING:\n    import chat.ws as wct\n\ndef f(m: "wct.WebSocketManager") -> "wct.WebSocketManager":\n    return cast(\'wct.WebSocketManager\', m)\n',
        'from typing import TYPE_CHECKING, cast\nif TYPE_CHECKING:\n    from chat.ws import websocket_manager\n\ndef f(m: "websocket_manager.WebSocketManager") -> "websocket_manager.WebSocketManager":\n    return cast(\'websocket_manager.WebSocketManager\', m)\n',
        None),
    'chain_store': (
        'def f():\n    import chat.ws as wc\n    wc.WebSocketManager = None\n',
        'def f():\n    from chat.ws import websocket_manager\n    websocket_manager.WebSocketManager = None\n',
        None),
    'factory_replaced': (
        'from chat.ws import create_manager\n\nm = create_manager(1)\n',
        'from chat.ws.registry import get_manager\n\nm = get_manager(1)\n',
        None),
    'factory_replaced_alias': (
        'from chat.ws import create_manager as mk\n\nm = mk(user=1)\n',
        'from chat.ws.registry import get_manager as mk\n\nm = mk(user=1)\n',
        None),
    'factory_replaced_through_chain': (
        'import chat.ws as wc\n\nm = wc.create_manager(1)\n',
        'from chat.ws import registry\n\nm = registry.get_manager(1)\n',
        None),
    'factory_replaced_with_legacy_name': (
        'from chat.ws import WebSocketManager, create_manager\n',
        'from chat.ws.websocket_manager import WebSocketManager\nfrom chat.ws.registry import get_manager\n',
        None),
    'inside_function_split': (
        'def f():\n    from chat.ws.manager import WebSocketManager, legacy_only\n    return WebSocketManager, legacy_only\n',
        'def f():\n    from chat.ws.manager import legacy_only\n    from chat.ws.websocket_manager import WebSocketManager\n    return WebSocketManager, legacy_only\n',
        'legacy_only'),
    # a statement moved to a module that the statement just above imports from is merged
    # into it, as a maintainer (and isort) writes it: no second `from M import` line
    'merged_into_the_import_above': (
        'import os\nfrom chat.ws.websocket_manager import UserContext\nfrom chat.ws.manager import WebSocketManager\nx = os\n',
        'import os\nfrom chat.ws.websocket_manager import UserContext, WebSocketManager\nx = os\n',
        None),
    'merged_with_alias': (
        'from chat.ws.websocket_manager import UserContext as U\nfrom chat.ws.manager import WebSocketManager as W\n',
        'from chat.ws.websocket_manager import UserContext as U, WebSocketManager as W\n',
        None),
    'not_merged_into_a_line_with_a_comment': (
        'from chat.ws.websocket_manager import UserContext  # noqa\nfrom chat.ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import UserContext  # noqa\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'not_merged_past_79_columns': (
        'from chat.ws.websocket_manager import UserContext as TheUsersContextObject\nfrom chat.ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import UserContext as TheUsersContextObject\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'not_merged_across_a_statement_or_blank_line': (
        'from chat.ws.websocket_manager import UserContext\n\nfrom chat.ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import UserContext\n\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'not_merged_into_another_block': (
        'if True:\n    from chat.ws.websocket_manager import UserContext\nfrom chat.ws.manager import WebSocketManager\n',
        'if True:\n    from chat.ws.websocket_manager import UserContext\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'not_merged_when_the_name_is_there': (
        'from chat.ws.websocket_manager import WebSocketManager\nfrom chat.ws.manager import WebSocketManager\n',
        'from chat.ws.websocket_manager import WebSocketManager\nfrom chat.ws.websocket_manager import WebSocketManager\n',
        None),
    'pragma': (
        'from chat.ws.manager import WebSocketManager  # ssot: ignore\n',
        None,
        None),
    'second_definition': (
        'class WebSocketManager:\n    pass\n',
        None,
        'a second implementation: delete it and import the canonical'),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_tree(tmp_path, PROJECT)
    return tmp_path


def run_fix(root: Path, write: bool = True):
    settings_ = load_config(root, with_entry_points=False)
    return fix(settings_, root, write=write, sys_path=[str(root), *sys.path])


@pytest.fixture(scope="module")
def all_cases(tmp_path_factory: pytest.TempPathFactory):
    """Every case in its own module of one project, fixed in one run (then once more)."""
    root = tmp_path_factory.mktemp("cases")
    write_tree(root, PROJECT)
    for name, (before, _after, _reason) in CASES.items():
        (root / "chat" / "app" / f"case_{name}.py").write_text(before)
    first = run_fix(root)
    return root, first, run_fix(root)


@pytest.mark.parametrize("case", sorted(CASES))
def test_before_after(all_cases, case: str) -> None:
    root, result, again = all_cases
    before, after, reason = CASES[case]
    rel = f"chat/app/case_{case}.py"
    target = root / rel
    assert target.read_text() == (after if after is not None else before)
    reasons = " | ".join(u.render() for u in result.unsafe if u.file == rel)
    if reason is None:
        assert reasons == ""
    else:
        assert reason in reasons
    assert [e for e in result.errors if e.file == rel] == []
    # the rewritten file still compiles, and a second run changes nothing
    compile(target.read_text(), str(target), "exec")
    assert rel not in again.changed


def test_untouched_lines_are_byte_identical(project: Path) -> None:
    before = ("# -*- coding: utf-8 -*-\r\n\"\"\"Doc.\"\"\"\r\nimport os   # spaced\r\n"
              "from chat.ws.manager import WebSocketManager\r\n\r\nX = {  'a' :1 }\r\n")
    target = project / "chat" / "app" / "crlf.py"
    target.write_bytes(before.encode())
    run_fix(project)
    after = target.read_bytes().decode()
    assert after == before.replace("chat.ws.manager import", "chat.ws.websocket_manager import")


def test_check_and_diff_change_nothing(project: Path) -> None:
    target = project / "chat" / "app" / "mod.py"
    target.write_text("from chat.ws.manager import WebSocketManager\n")
    mode = 0o640
    target.chmod(mode)
    cli = [sys.executable, "-m", "pytest_ssot.cli", "fix"]
    out = subprocess.run([*cli, "--check"], cwd=project, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(
                             [str(project), *filter(None, [os.environ.get("PYTHONPATH")])])})
    assert out.returncode == 1, out.stdout + out.stderr
    assert "would rewrite 1 reference(s) in 1 file(s)" in out.stdout
    out = subprocess.run([*cli, "--diff"], cwd=project, capture_output=True, text=True)
    assert out.returncode == 0
    assert "-from chat.ws.manager import WebSocketManager\n" in out.stdout
    assert "+from chat.ws.websocket_manager import WebSocketManager\n" in out.stdout
    assert target.read_text() == "from chat.ws.manager import WebSocketManager\n"
    out = subprocess.run(cli, cwd=project, capture_output=True, text=True)
    assert out.returncode == 0 and "rewrote 1 reference(s) in 1 file(s)" in out.stdout
    assert target.read_text() == "from chat.ws.websocket_manager import WebSocketManager\n"
    assert target.stat().st_mode & 0o777 == mode  # atomic replace keeps permissions
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
    out = subprocess.run([*cli, "--check"], cwd=project, capture_output=True, text=True)
    assert out.returncode == 0


def test_paths_argument_limits_the_rewrite(project: Path) -> None:
    for name in ("a.py", "b.py"):
        (project / "chat" / "app" / name).write_text(
            "from chat.ws.manager import WebSocketManager\n")
    out = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "fix", "chat/app/a.py"],
                         cwd=project, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "websocket_manager" in (project / "chat/app/a.py").read_text()
    assert "websocket_manager" not in (project / "chat/app/b.py").read_text()
    out = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "fix", "nope.py"],
                         cwd=project, capture_output=True, text=True)
    assert out.returncode == 2 and "no such file or folder: nope.py" in out.stderr


def test_unparsable_file_is_reported_and_never_written(project: Path) -> None:
    target = project / "chat" / "app" / "broken.py"
    source = "from chat.ws.manager import WebSocketManager\ndef (:\n"
    target.write_text(source)
    result = run_fix(project)
    assert target.read_text() == source
    assert [(e.file, e.line, e.reason, e.detail[:12]) for e in result.errors] == [
        ("chat/app/broken.py", 2, "does not parse", "SyntaxError:")]


def test_absent_legacy_module_cannot_be_proven(project: Path) -> None:
    (project / "chat" / "ws" / "unified_manager.py").unlink()
    target = project / "chat" / "app" / "mod.py"
    target.write_text("from chat.ws.unified_manager import UnifiedWebSocketManager\n")
    result = run_fix(project)
    assert target.read_text() == "from chat.ws.unified_manager import UnifiedWebSocketManager\n"
    assert "No module named 'chat.ws.unified_manager'" in result.unsafe[0].render()


# --------------------------------------------------------------------------- round trips

# Not the forms that patch or write the legacy namespace: the check below calls the module's
# functions, and one that writes the shared legacy module changes what the others return.
LINES = [c[0] for k, c in sorted(CASES.items())
         if "patch" not in c[0] and "setattr" not in c[0] and "= None" not in c[0]]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(LINES), min_size=1, max_size=6))
def test_round_trip(project: Path, lines: list[str]) -> None:
    """Fix, then: fixing again changes nothing; the scan finds only what was listed; the
    rewritten module binds the very same objects."""
    source = "".join(lines)
    before = project / "chat" / "app" / "gen_before.py"
    after = project / "chat" / "app" / "gen_after.py"
    before.write_text(source)
    after.write_text(source)
    settings_ = load_config(project, with_entry_points=False)
    from pytest_ssot.codemod import fix as run

    result = run(settings_, project, only=[after], sys_path=[str(project), *sys.path])
    assert run(settings_, project, only=[after], sys_path=[str(project), *sys.path]).changed == {}
    # the scan finds exactly the listed leftovers, at the lines listed (after the rewrite)
    left = sorted((v.line, v.path) for v in scan(settings_, project).violations
                  if v.file.endswith("gen_after.py"))
    listed = sorted((u.line, u.path) for u in result.unsafe if u.file.endswith("gen_after.py"))
    assert left == listed
    check = textwrap.dedent("""
        import importlib, inspect, sys, warnings
        warnings.simplefilter("ignore")
        b = importlib.import_module("chat.app.gen_before")
        a = importlib.import_module("chat.app.gen_after")
        canonical = importlib.import_module("chat.ws.websocket_manager")
        factory = importlib.import_module("chat.ws")._create
        replacement = importlib.import_module("chat.ws.registry").get_manager
        names = {n for n in vars(b) if not n.startswith("__")}
        now = {n for n in vars(a) if not n.startswith("__")}
        # a name the rewrite removes is an import nobody reads any more (a module) or a
        # factory renamed to its replacement; a name it adds is canonical or the replacement,
        # or the module of either (a read through a module attribute stays one)
        registry = importlib.import_module("chat.ws.registry")
        assert all(inspect.ismodule(getattr(b, n)) or getattr(b, n) is factory
                   for n in names - now), names - now
        assert all(any(getattr(a, n) is o for o in vars(canonical).values())
                   or getattr(a, n) in (replacement, canonical, registry)
                   for n in now - names), now - names

        def same(x, y):
            if isinstance(x, tuple):
                return len(x) == len(y) and all(same(i, j) for i, j in zip(x, y))
            if x is factory:  # the project vouches for the replacement (`replacements`)
                return y is factory or y is replacement
            if type(x).__module__ == canonical.__name__:  # a new instance per call
                return type(x) is type(y)
            return x is y or (isinstance(x, str) and x == y)

        bad = []
        for n in names & now:
            x, y = getattr(b, n), getattr(a, n)
            if getattr(x, "__module__", None) == b.__name__:
                # defined in the file: a function's imports run when it is called
                if inspect.isfunction(x) and not inspect.signature(x).parameters:
                    if not same(x(), y()):
                        bad.append(n)
            elif inspect.ismodule(x) and x is not y:
                # a module binding moves whole to the canonical module (proven: every
                # name the file reads through it is the same object there)
                if y is not canonical:
                    bad.append(n)
            elif not same(x, y):
                bad.append(n)
        assert not bad, bad
    """)
    out = subprocess.run([sys.executable, "-c", check], cwd=project, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr


def test_example_project_migrates_end_to_end(tmp_path: Path) -> None:
    import shutil

    example = Path(__file__).resolve().parent.parent / "examples" / "chat_backend"
    root = tmp_path / "chat_backend"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    # The project vouches for the factory's replacement, and un-silences its last use.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'factories = ["chat.app.websocket_core:create_websocket_manager"]',
        'factories = ["chat.app.websocket_core:create_websocket_manager"]\n'
        'replacements = {"chat.app.websocket_core:create_websocket_manager" = '
        '"chat.app.websocket_core.registry:get_websocket_manager"}'))
    notifications = root / "chat" / "app" / "services" / "notifications.py"
    notifications.write_text(notifications.read_text().replace(
        "  # ssot: ignore[ws-manager]", ""))
    cli = [sys.executable, "-m", "pytest_ssot.cli"]
    before = subprocess.run([*cli, "scan", "--strict"], cwd=root, capture_output=True,
                            text=True)
    assert before.returncode == 1
    out = subprocess.run([*cli, "fix"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    # nothing left and no error: the summary points at no list that is not there
    assert "pytest-ssot fix: rewrote 4 reference(s) in 3 file(s)\n" in out.stdout
    assert "left for a person" not in out.stdout and "errors above" not in out.stdout
    assert "return get_websocket_manager(UserContext(user_id))" in notifications.read_text()
    after = subprocess.run([*cli, "scan", "--strict"], cwd=root, capture_output=True,
                           text=True)
    assert after.returncode == 0, after.stdout
    for path in root.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=root, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-2000:]


def test_module_binding_read_by_another_file_is_listed_naming_it(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    app = tmp_path / "chat" / "app"
    (app / "a.py").write_text("import chat.ws.manager as m\n\nx = m.WebSocketManager\n")
    (app / "b.py").write_text("from chat.app.a import m\n\nprint(m.legacy_only)\n")
    (app / "c.py").write_text("from chat.ws import manager\n\nx = manager.WebSocketManager\n")
    (app / "d.py").write_text("import chat.app.c\n\ny = chat.app.c.manager.legacy_only\n")
    (app / "e.py").write_text("from chat.ws import manager\n\nx = manager.WebSocketManager\n")
    result = run_fix(tmp_path)
    listed = {(u.file, u.reason) for u in result.unsafe}
    assert ("chat/app/a.py", "module bound at module level and read by chat/app/b.py") in listed
    assert ("chat/app/c.py", "module bound at module level and read by chat/app/d.py") in listed
    assert (app / "a.py").read_text().startswith("import chat.ws.manager as m\n")
    # nobody reads e.manager: the binding moves to the canonical module
    assert (app / "e.py").read_text() == (
        "from chat.ws import websocket_manager\n\nx = websocket_manager.WebSocketManager\n")


def _many_files(root: Path) -> None:
    """Every case three times, bindings read by other files (in other workers' parts),
    and a file that does not parse: enough files to be shared by workers."""
    write_tree(root, PROJECT)
    app = root / "chat" / "app"
    for i in range(3):
        for name, (before, _after, _reason) in CASES.items():
            (app / f"case_{name}_{i}.py").write_text(before)
    (app / "a.py").write_text("import chat.ws.manager as m\n\nx = m.WebSocketManager\n")
    for i in range(4):
        (app / f"reader_{i}.py").write_text("from chat.app.a import m\n\nprint(m.legacy_only)\n")
    (app / "broken.py").write_text("from chat.ws.manager import WebSocketManager\ndef (:\n")


def _outcome(root: Path, result) -> tuple:
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.py")}
    return (files, result.changed, result.unsafe, result.errors, result.rewritten,
            result.by_kind)


def test_workers_rewrite_exactly_what_one_process_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_ssot.codemod import driver, workers

    one, many = tmp_path / "one", tmp_path / "many"
    _many_files(one)
    _many_files(many)
    settings_ = load_config(one, with_entry_points=False)
    alone = fix(settings_, one, sys_path=[str(one), *sys.path], jobs=1)
    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 2)
    started = []
    real_start = workers.Workers.start

    def start(self) -> None:
        real_start(self)
        started.extend(self.pids.values())

    monkeypatch.setattr(workers.Workers, "start", start)
    shared = fix(load_config(many, with_entry_points=False), many,
                 sys_path=[str(many), *sys.path], jobs=2)
    assert started, "no fix worker was forked: this compared one process with itself"
    assert alone.rewritten > 100 and alone.errors
    assert any("read by chat/app/reader_0.py" in u.reason for u in alone.unsafe)
    assert _outcome(one, alone) == _outcome(many, shared)


def test_a_bare_use_inside_a_string_annotation_is_never_lost(project: Path) -> None:
    """The facts name nodes by ``id``: the tree of a string annotation must live as long as
    they do, or a later node can take a freed node's id (here the bare ``m`` of ``"m"``
    was taken by the ``m`` of ``"m.WebSocketManager"``, so ``m`` looked used only as
    ``m.<name>`` and the import moved; the outcome depended on memory addresses)."""
    source = ('import chat.ws.manager as m\n\n\nx: "m"\ny: "m.WebSocketManager"\n\n\n'
              'def f(a: "m", b: "m.WebSocketManager"):\n    return a\n')
    target = project / "chat" / "app" / "annotated.py"
    target.write_text(source)
    result = run_fix(project)
    # the import stays (``"m"`` uses the module itself); the reads through it move, each
    # to a read through the canonical module
    assert target.read_text() == source.replace(
        "import chat.ws.manager as m\n",
        "import chat.ws.manager as m\nfrom chat.ws import websocket_manager\n").replace(
        '"m.WebSocketManager"', '"websocket_manager.WebSocketManager"')
    assert any(u.file == "chat/app/annotated.py" and u.line == 1
               and u.reason == "the legacy module itself is used as an object"
               for u in result.unsafe), [u.render() for u in result.unsafe]


def test_one_run_reaches_the_fixed_point(project: Path) -> None:
    """Chains through a package whose import the first round moves (``chat`` of ``import
    chat.ws.manager``), and an import whose neighbour moved: one run rewrites all; a
    second rewrites nothing, and ``--check`` is satisfied."""
    app = project / "chat" / "app"
    (app / "a.py").write_text("import chat.ws.manager\nimport chat.ws\n\n"
                              "x = chat.ws.manager.WebSocketManager\ny = chat.ws.WebSocketManager\n")
    (app / "d.py").write_text("import chat.ws.manager\n\ndef f():\n"
                              "    return chat.ws.WebSocketManager, chat.ws.manager.WebSocketManager\n")
    (app / "g.py").write_text("import chat.ws.unified_manager\nimport chat.ws.manager\n\n"
                              "x = chat.ws.unified_manager.UnifiedWebSocketManager\n"
                              "y = chat.ws.manager.WebSocketManager\n")
    first = run_fix(project)
    assert first.unsafe == [], [u.render() for u in first.unsafe]
    again = run_fix(project)
    assert again.changed == {} and again.rewritten == 0
    assert (app / "d.py").read_text() == (
        "import chat.ws.websocket_manager\n\ndef f():\n    return chat.ws.websocket_manager."
        "WebSocketManager, chat.ws.websocket_manager.WebSocketManager\n")
    for name in ("a", "d", "g"):
        compile((app / f"{name}.py").read_text(), name, "exec")


def test_a_merged_name_keeps_a_sorted_list_sorted(tmp_path: Path) -> None:
    """`from scipy.ndimage import map_coordinates, uniform_filter1d` above a rewritten
    `from scipy.ndimage.interpolation import shift` (PyAbel 0.8.4): the name goes where
    isort puts it when the list was sorted, at the end when it was not."""
    write_tree(tmp_path, {
        "pyproject.toml": """
            [tool.pytest-ssot]
            paths = ["app"]
            [[tool.pytest-ssot.contracts]]
            name = "nd"
            canonical = "nd.core:shift"
            legacy = ["nd.interpolation"]
        """,
        "nd/__init__.py": "from .core import map_coordinates, shift, uniform_filter1d\n",
        "nd/core.py": "def map_coordinates(): pass\ndef shift(): pass\n"
                      "def uniform_filter1d(): pass\n",
        "nd/interpolation.py": "from .core import map_coordinates, shift\n",
        "app/__init__.py": "",
        "app/sorted_list.py": "from nd.core import map_coordinates, uniform_filter1d\n"
                              "from nd.interpolation import shift\n",
        "app/unsorted.py": "from nd.core import uniform_filter1d, map_coordinates\n"
                           "from nd.interpolation import shift\n",
    })
    result = run_fix(tmp_path)
    assert result.unsafe == [] and result.errors == []
    assert (tmp_path / "app/sorted_list.py").read_text() == (
        "from nd.core import map_coordinates, shift, uniform_filter1d\n")
    assert (tmp_path / "app/unsorted.py").read_text() == (
        "from nd.core import uniform_filter1d, map_coordinates, shift\n")
