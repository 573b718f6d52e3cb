"""``pytest-ssot discover``: the paths it finds, the ones it must not list, the table and
``--write`` (format-preserving)."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ssot.cli import main
from pytest_ssot.config import load_config
from pytest_ssot.services.discover import (DiscoverError, contract_name, discover, render_table,
                                  write_contract)
from pytest_ssot.domain.paths import SsotPath, parse_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "chat_backend"
CANONICAL = "big.core.thing:Thing"
USERS = 200


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 user modules that import the object for their own use, three shims, an alias,
    a lazy shim, a second implementation, and modules that fail, exit or die at import."""
    root = tmp_path_factory.mktemp("big")
    files = {
        "big/__init__.py": "",
        "big/core/__init__.py": "",
        "big/core/thing.py": "class Thing:\n    pass\n",
        "big/users/__init__.py": "",
        # deprecation shim: warns at import, defines nothing
        "big/legacy/__init__.py": "",
        "big/legacy/old_thing.py": """
            import warnings
            warnings.warn("big.legacy.old_thing is deprecated", DeprecationWarning, stacklevel=2)
            from big.core.thing import Thing
        """,
        # silent compatibility shim: nothing of its own
        "big/compat.py": "from big.core.thing import Thing  # noqa: F401\n",
        "big/consts.py": "LIMIT = 3\n",
        # package re-export through __all__
        "big/api/__init__.py": """
            from big.core.thing import Thing

            __all__ = ["Thing"]

            def helper():
                return Thing
        """,
        # renamed alias in a module with code of its own
        "big/aliases.py": """
            from big.core.thing import Thing

            OldThing = Thing

            def build():
                return Thing()
        """,
        # an import under another name among code of its own: its own use, no alias
        "big/renamed_import.py": """
            from big.core.thing import Thing as CoreThing

            def build():
                return CoreThing()
        """,
        # an unused import among code of its own: not an import path either
        "big/unused_import.py": """
            from big.core.thing import Thing as T  # noqa: F401

            LIMIT = 3

            def other():
                return LIMIT
        """,
        # an explicit alias under the same name, beside code of its own
        "big/assigned.py": """
            import big.core.thing

            Thing = big.core.thing.Thing

            def build():
                return Thing()
        """,
        # PEP 562 lazy shim, warning on access only
        "big/lazy.py": """
            import warnings

            def __getattr__(name):
                if name == "Thing":
                    warnings.warn("big.lazy.Thing is deprecated", DeprecationWarning, stacklevel=2)
                    from big.core.thing import Thing
                    return Thing
                raise AttributeError(name)
        """,
        # imports the deprecated shim for its own use: the shim's warning is not its own
        "big/migrating.py": """
            from big.legacy.old_thing import Thing

            def use():
                return Thing()
        """,
        # a different class of the same name
        "big/other/__init__.py": "",
        "big/other/thing.py": "class Thing:\n    '''a second implementation'''\n",
        # failures: listed, never fatal
        "big/broken.py": "raise RuntimeError('broken at import')\n",
        "big/exits.py": "import sys\nsys.exit(3)\n",
        "big/dies.py": "import os\nos._exit(4)\n",
        # someone imports the name from a user module: it has become an import path
        "big/consumer.py": """
            from big.users.u001 import Thing

            def consume():
                return Thing()
        """,
        # patching where a name is used is not importing it from there
        "tests/test_users.py": """
            from unittest import mock

            def test_patch():
                with mock.patch("big.users.u002.Thing"):
                    pass
        """,
        "pyproject.toml": """
            # the generated project
            [project]
            name = "big"  # not installed
        """,
    }
    for i in range(USERS):
        files[f"big/users/u{i:03d}.py"] = (
            "from big.core.thing import Thing\n\n\n"
            f"def make_{i}():\n    return Thing()\n")
    _write(root, files)
    return root


@pytest.fixture(scope="module")
def found(big_tree: Path):
    return discover(parse_path(CANONICAL), big_tree, sys_path=[str(big_tree), *sys.path],
                    timeout=20, parallel=2)


def test_generated_tree_lists_every_path_and_no_user_module(found) -> None:
    listed = {str(f.path): f for f in found.paths}
    assert set(listed) == {"big.legacy.old_thing:Thing", "big.compat:Thing", "big.api:Thing",
                           "big.aliases:OldThing", "big.lazy:Thing", "big.users.u001:Thing",
                           "big.assigned:Thing"}
    assert listed["big.assigned:Thing"].roles == ["alias (an assignment)"]
    assert "deprecation shim" in listed["big.legacy.old_thing:Thing"].roles
    assert listed["big.legacy.old_thing:Thing"].warning.startswith("DeprecationWarning")
    assert listed["big.compat:Thing"].roles == ["no code of its own"]
    assert listed["big.compat:Thing"].warning is None
    assert listed["big.api:Thing"].roles == ["in __all__", "package re-export"]
    assert listed["big.aliases:OldThing"].roles == ["renamed alias"]
    assert listed["big.lazy:Thing"].roles == ["lazy (__getattr__)"]
    assert "big.lazy.Thing is deprecated" in listed["big.lazy:Thing"].warning
    assert listed["big.users.u001:Thing"].roles == ["imported from here"]
    assert listed["big.users.u001:Thing"].references == {"import": 1}
    # 199 users, big.migrating (the shim's warning is not its own), big.consumer,
    # big.aliases:Thing (under its own name, beside code of its own), and the imports under
    # another name beside code of their own (SPEC 4: their own use, not aliases)
    assert len(found.users) == USERS - 1 + 5
    assert {"big.migrating:Thing", "big.renamed_import:CoreThing",
            "big.unused_import:T"} <= set(found.users)


def test_generated_tree_counts_references_and_second_implementations(found) -> None:
    # users, shims, api, aliases, the two imports under another name, the assigned alias
    # (lazy: in a function)
    assert found.canonical_references == USERS + 8
    assert [str(f.path) for f in found.second] == ["big.other.thing:Thing"]
    assert found.second[0].where == "big/other/thing.py:1"
    failed = dict(found.failures)
    assert set(failed) == {"big.broken", "big.exits", "big.dies"}
    assert "RuntimeError: broken at import" in failed["big.broken"]
    assert "SystemExit" in failed["big.exits"]
    assert "exited with code 4" in failed["big.dies"]


def test_table_is_a_valid_contract(found) -> None:
    table = render_table(found, contract_name(found.canonical))
    doc = tomllib.loads(table)
    contract = doc["tool"]["pytest-ssot"]["contracts"][0]
    assert contract["name"] == "thing"
    assert contract["canonical"] == CANONICAL
    assert contract["legacy"][-1] == "big.other.thing:Thing"  # second implementation last
    assert len(contract["legacy"]) == 8


def test_example_project(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".pytest_cache"))
    rc = main(["discover", "chat.app.websocket_core.websocket_manager:WebSocketManager",
               "--rootdir", str(project), "--write", "--name", "ws-manager-2"])
    out = capsys.readouterr().out
    assert rc == 0, out
    settings = load_config(project, with_entry_points=False)
    assert settings is not None
    added = settings.contract("ws-manager-2")
    assert added is not None
    assert {str(p) for p in added.legacy} == {
        "chat.app.websocket_core:WebSocketManager",
        "chat.app.websocket_core.compat:WebSocketManager",
        "chat.app.websocket_core.handlers:WSManager",
        "chat.app.websocket_core.manager:WebSocketManager",
        "chat.app.websocket_core.unified_manager:UnifiedWebSocketManager"}
    assert "not listed: 5 module(s) import it for their own use" in out
    # ... and it names them (the handlers' import is its own use, its WSManager an alias)
    left_out = out.split("not listed:")[1]
    assert "  chat.app.websocket_core.handlers:WebSocketManager\n" in left_out
    assert len([line for line in left_out.splitlines() if line.startswith("  chat.")]) == 5
    text = (project / "pyproject.toml").read_text()
    assert text.startswith((EXAMPLE / "pyproject.toml").read_text().split("[tool.pytest-ssot.golden")[0])
    assert "# An example chat backend" in text
    # a second --write with the same name is refused, and changes nothing
    rc = main(["discover", "chat.app.websocket_core.websocket_manager:WebSocketManager",
               "--rootdir", str(project), "--write", "--name", "ws-manager-2"])
    err = capsys.readouterr().err
    assert rc == 2 and "already has a contract named 'ws-manager-2'" in err
    assert (project / "pyproject.toml").read_text() == text


@pytest.mark.parametrize("argument, message", [
    ("big.core.thing", "give the object as 'module:NAME'"),
    ("big.core.thing:Nope", "does not resolve in a fresh interpreter"),
    ("not a path", "is not a valid path"),
    ("big.consts:LIMIT", "is a int, not a class or function"),
])
def test_bad_canonical_is_one_clear_error(big_tree: Path, argument: str, message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", argument, "--rootdir", str(big_tree)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


TABLE = '''[[tool.pytest-ssot.contracts]]
name = "thing"
canonical = "a.b:Thing"
legacy = [
  "a:Thing",  # lazy (__getattr__), warns; no references
]
'''


@pytest.mark.parametrize("before", [
    "",
    "# only a comment\n",
    "[project]\nname = 'p'  # keep me\n\n[tool.black]\nline-length = 99\n",
    "[tool.pytest-ssot]\npaths = ['a']  # keep\n\n[tool.pytest-ssot.areas]\n'a' = 'P0'\n"
    "\n[tool.other]\nz = 1\n",
    "[tool.pytest-ssot]\ncontracts = [{name = 'y', canonical = 'q:R'}]\n",
    "[[tool.pytest-ssot.contracts]]\nname = 'y'  # first\ncanonical = 'q:R'\n\n"
    "[tool.pytest-ssot.golden-path]\nrequired = []\n",
    "[project]\r\nname = 'p'\r\n",
], ids=["empty", "comment", "no-table", "table-no-contracts", "inline-array", "aot",
        "crlf"])
def test_write_keeps_the_file(tmp_path: Path, before: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(before.encode())
    write_contract(path, TABLE)
    after = path.read_bytes().decode()
    data = tomllib.loads(after)
    old = tomllib.loads(before)
    names = [c["name"] for c in data["tool"]["pytest-ssot"]["contracts"]]
    assert names[-1] == "thing" and names[:-1] == [
        c["name"] for c in old.get("tool", {}).get("pytest-ssot", {}).get("contracts", [])]
    # every line of the original is still there, in order (comments and layout kept); an
    # inline array of contracts takes the new one inline
    lines = iter(after.splitlines())
    assert all(any(line == got for got in lines) for line in before.splitlines()
               if not line.startswith("contracts = ["))
    if "\r\n" in before:
        assert "\n" not in after.replace("\r\n", "")


def test_write_refuses_invalid_toml_and_special_files(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool\n")
    with pytest.raises(DiscoverError, match="not valid TOML"):
        write_contract(path, TABLE)
    assert path.read_text() == "[tool\n"
    folder = tmp_path / "dir"
    (folder / "pyproject.toml").mkdir(parents=True)
    with pytest.raises(DiscoverError, match="not a regular file"):
        write_contract(folder / "pyproject.toml", TABLE)


def test_write_failure_is_one_clear_error(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_ssot.atomic

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pytest_ssot.atomic, "write_atomic", denied)
    path = tmp_path / "pyproject.toml"
    path.write_text("")
    with pytest.raises(DiscoverError, match="cannot be written: Permission denied"):
        write_contract(path, TABLE)


def test_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text("[project]\nname = 'p'\n")
    link = tmp_path / "pyproject.toml"
    link.symlink_to(real)
    write_contract(link, TABLE)
    assert link.is_symlink() and "a.b:Thing" in real.read_text()


@pytest.mark.parametrize("attr, name", [("WebSocketManager", "web-socket-manager"),
                                        ("HTTPClient", "http-client"),
                                        ("create_manager", "create-manager"),
                                        ("_Private2", "private2")])
def test_contract_name(attr: str, name: str) -> None:
    assert contract_name(SsotPath("m", attr)) == name
