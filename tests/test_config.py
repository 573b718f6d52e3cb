"""Path syntax and [tool.pytest-ssot] validation (pure core)."""

from __future__ import annotations

import keyword
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_ssot.config import load_config
from pytest_ssot.domain.paths import PathSyntaxError, SsotPath, parse_path
from pytest_ssot.errors import ConfigError

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s))
modules = st.lists(identifiers, min_size=1, max_size=5).map(".".join)


@given(modules, st.none() | identifiers)
def test_path_round_trip(module: str, attr: str | None) -> None:
    text = module if attr is None else f"{module}:{attr}"
    p = parse_path(text)
    assert p == SsotPath(module, attr)
    assert str(p) == text
    assert p.dotted == text.replace(":", ".")


@pytest.mark.parametrize("bad", ["", "a..b", ".a", "a.", "a:b:c", "a:b.c", "a:", "1a",
                                 "a-b", "a b", "class.x", "a:def", " a", "a:b "])
def test_bad_paths(bad: str) -> None:
    with pytest.raises(PathSyntaxError, match="not a valid path|one identifier"):
        parse_path(bad)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_cleanly(text: str) -> None:
    try:
        p = parse_path(text)
    except PathSyntaxError:
        return
    assert str(p) == text


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(body), encoding="utf-8")
    return tmp_path


def test_no_table_means_no_config(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[tool.other]\nx = 1\n")) is None
    assert load_config(tmp_path / "nowhere") is None


def test_defaults_and_full_contract(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
        [tool.pytest-ssot]
        [tool.pytest-ssot.areas]
        "chat/app/routes/" = "P0"
        [[tool.pytest-ssot.contracts]]
        name = "ws-manager"
        canonical = "chat.ws.websocket_manager:WebSocketManager"
        legacy = ["chat.ws.unified_manager", "chat.ws:WebSocketManager"]
        factories = ["chat.ws:create_websocket_manager"]
        deprecation_warnings = ["chat.warn:MovedWarning"]
        max_import_ms = 250
        [tool.pytest-ssot.golden-path]
        required = ["tests/test_a.py::test_b"]
        min_tests = 2
    """), with_entry_points=False)
    assert cfg is not None
    assert cfg.paths == (".",) and cfg.strict is False and cfg.probe_timeout == 30
    assert cfg.baseline == ".ssot-baseline.json"
    assert cfg.areas == (("chat/app/routes", "P0"),)
    (c,) = cfg.contracts
    assert c.canonical == SsotPath("chat.ws.websocket_manager", "WebSocketManager")
    assert c.legacy[1] == SsotPath("chat.ws", "WebSocketManager")
    assert c.effective_alias_scope == ("chat.ws",)
    assert c.max_import_ms == 250
    assert cfg.golden_path.required == ("tests/test_a.py::test_b",)
    assert cfg.golden_path.min_tests == 2


CONTRACT = '[[tool.pytest-ssot.contracts]]\nname = "c"\ncanonical = "a.b:C"\n'


@pytest.mark.parametrize("body, message", [
    ("[tool.pytest-ssot]\npaths = \"chat\"\n", "key 'paths': expected an array of strings"),
    ("[tool.pytest-ssot]\nstrict = \"yes\"\n", "key 'strict': expected true or false"),
    ("[tool.pytest-ssot]\nprobe_timeout = 0\n", "key 'probe_timeout': expected a number > 0"),
    ("[tool.pytest-ssot]\nprobe_timout = 3\n", "unknown key 'probe_timout'; valid keys:"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "legacy = [\"a.b:C\"]\n",
     "[contract 'c'] key 'legacy': 'a.b:C' is listed twice (also in 'canonical')"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "legacy = [\"x\", \"x\"]\n", "'x' is listed twice"),
    ("[tool.pytest-ssot]\n" + CONTRACT + CONTRACT, "contract 'c' is defined twice"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "legasy = []\n", "[contract 'c'] unknown key 'legasy'"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "factories = [\"a:b:c\"]\n", "key 'factories'"),
    ("[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = \"Bad Name\"\ncanonical = "
     "\"a:B\"\n", "not a valid contract name"),
    ("[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = \"x\"\n",
     "key 'canonical' is missing"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "deprecation_warnings = [\"pkg.mod\"]\n",
     "must name a class as 'module:Class'"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "max_import_ms = true\n",
     "key 'max_import_ms': expected a number"),
    ("[tool.pytest-ssot]\n" + CONTRACT + "alias_scope = [\"a-b\"]\n", "not a module name"),
    ("[tool.pytest-ssot.golden-path]\nmin_tests = -1\n", "key 'min_tests'"),
    ("[tool.pytest-ssot.golden-path]\nrequire = []\n", "unknown key 'require'"),
    ("[tool.pytest-ssot]\nareas = [1]\n", "key 'areas'"),
    ("[tool.pytest-ssot]\ncontracts = {}\n", "key 'contracts'"),
    ("[tool.pytest-ssot\n", "not valid TOML"),
])
def test_config_errors_name_file_table_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, body), with_entry_points=False)
    text = str(err.value)
    assert message in text
    assert "pyproject.toml" in text
    assert "[tool.pytest-ssot" in text or "TOML" in text


FACTORY_CONTRACT = CONTRACT + 'factories = ["pkg:make", "pkg.factory"]\n'


def test_replacements_are_read(tmp_path: Path) -> None:
    body = ("[tool.pytest-ssot]\n" + FACTORY_CONTRACT
            + 'replacements = {"pkg:make" = "pkg.registry:get", "pkg.factory:build" = "x:Y"}\n')
    contract = load_config(write(tmp_path, body), with_entry_points=False).contracts[0]
    assert contract.replacements == ((SsotPath("pkg", "make"), SsotPath("pkg.registry", "get")),
                                     (SsotPath("pkg.factory", "build"), SsotPath("x", "Y")))


@pytest.mark.parametrize("value, message", [
    ('["pkg:make"]', "expected a table of factory path"),
    ('{"pkg:other" = "a:b"}', "'pkg:other' is not a factory of this contract"),
    ('{"pkg.factory" = "a:b"}', "is a module: name the function"),
    ('{"pkg:make" = "a.b"}', "must name a callable as 'module:callable'"),
    ('{"pkg:make" = "a:b:c"}', "not a valid path"),
    ('{"pkg:make" = 1}', "expected a 'module:callable' string"),
    ('{"pkg::make" = "a:b"}', "not a valid path"),
])
def test_bad_replacements(tmp_path: Path, value: str, message: str) -> None:
    body = "[tool.pytest-ssot]\n" + FACTORY_CONTRACT + f"replacements = {value}\n"
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, body), with_entry_points=False)
    assert message in str(err.value) and "key 'replacements'" in str(err.value)


# --------------------------------------------------------------------------- entry points

_SHOW = """
import sys
from pathlib import Path
from pytest_ssot.config import load_config
cfg = load_config(Path(sys.argv[1]))
print([c.name for c in cfg.contracts], "importlib.metadata" in sys.modules)
"""


def _contracts_seen(project: Path, site: Path) -> str:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", _SHOW, str(project)], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("layout", ["dist-info", "egg-info", "egg", "upper-case"])
def test_entry_point_contracts_outside_pytest(tmp_path: Path, layout: str) -> None:
    """`pytest-ssot scan` reads shipped contracts as pytest does, however the distribution
    holds its metadata; without one it does not import importlib.metadata at all."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "own"\n'
        'canonical = "pkg.canon:Canon"\n')
    site = tmp_path / "site"
    site.mkdir()
    assert _contracts_seen(project, site) == "['own'] False"
    meta = {"dist-info": site / "shipped-1.0.dist-info",
            "egg-info": site / "shipped.egg-info",
            "egg": site / "shipped-1.0.egg" / "EGG-INFO",
            "upper-case": site / "Shipped-1.0.DIST-INFO"}[layout]
    meta.mkdir(parents=True)
    (meta / "METADATA" if layout != "egg" else meta / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: shipped\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(
        "[pytest_ssot.contracts]\nshipped = shipped_contracts:contracts\n")
    code = site / "shipped-1.0.egg" if layout == "egg" else site
    (code / "shipped_contracts.py").write_text(
        "def contracts():\n    return [{'name': 'shipped', 'canonical': 'pkg.canon:Other'}]\n")
    if layout == "egg":
        site = code  # an egg folder is itself on sys.path
    assert _contracts_seen(project, site) == "['own', 'shipped'] True"
