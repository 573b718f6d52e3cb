"""The direction of imports (STYLE): the pure core never imports pytest, hypothesis or
libcst; the probe server imports nothing of ours. Checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_ssot"
CORE = ["atomic.py", "domain", "config", "probe", "report", "scan", "history", "census",
        "services"]
FORBIDDEN_IN_CORE = {"pytest", "_pytest", "pluggy", "hypothesis", "libcst", "xdist"}


def _files(entry: str) -> list[Path]:
    path = PACKAGE / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


@pytest.mark.parametrize("path", [f for e in CORE for f in _files(e)],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_does_not_import_the_pytest_layer(path: Path) -> None:
    bad = {m for m in _imports(path)
           if m.split(".")[0] in FORBIDDEN_IN_CORE
           or m.lstrip(".").split(".")[0] in {"plugin", "cli"}}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("census"), ids=lambda p: p.name)
def test_production_census_is_standalone(path: Path) -> None:
    """``pytest_ssot.census`` runs in services: the standard library only, nothing of ours
    outside census/ (it must import without the rest of pytest-ssot's dependencies)."""
    ours = {m for m in _imports(path) if m.startswith("..") or m.startswith("pytest_ssot")}
    assert not ours, ours


@pytest.mark.parametrize("script", ["_server.py", "_server_tasks.py", "_discover.py"])
def test_probe_scripts_are_standalone(script: str) -> None:
    server = PACKAGE / "probe" / script
    relative = {m for m in _imports(server) if m.startswith(".") or m.startswith("pytest_ssot")}
    assert not relative, "the probe scripts run as plain scripts: stdlib only"


def test_plugin_entry_point_imports_stdlib_and_pytest_only() -> None:
    # module-level imports only: the rest is imported inside hooks, when a feature is on
    tree = ast.parse((PACKAGE / "plugin" / "__init__.py").read_text())
    module_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            module_level.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "typing":
            module_level.add("." * node.level + (node.module or ""))
    assert module_level <= {"__future__", "pytest", "sys"}, module_level


@pytest.mark.parametrize("name", sorted(str(p.relative_to(PACKAGE / "isolation"))
                                        for p in (PACKAGE / "isolation").rglob("*.py")))
def test_isolation_core_loads_without_pytest_or_hypothesis(name: str) -> None:
    """conftest.py imports pytest_ssot.isolation: that must not import hypothesis."""
    tree = ast.parse((PACKAGE / "isolation" / name).read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top.add(node.module.split(".")[0])
    assert not top & {"pytest", "_pytest", "hypothesis"}, top


def test_importing_the_isolation_spec_api_does_not_import_hypothesis() -> None:
    """What a conftest.py does at start-up; hypothesis waits until an isolation item runs."""
    import subprocess
    import sys

    code = ("import sys, pytest_ssot.isolation; "
            "print(sorted(m for m in ('hypothesis', 'pytest') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if "plugin" not in p.relative_to(PACKAGE).parts),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_plugin_module(path: Path) -> None:
    """``plugin`` is pytest's entry point: it imports the rest lazily, and nothing imports
    it back (``session`` and ``plugin`` share ``collection`` instead)."""
    bad = {m for m in _imports(path)
           if m in (".plugin", "..plugin", "pytest_ssot.plugin")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_command_line_module(path: Path) -> None:
    """``cli`` is the console entry point: it imports each command's module when that
    command runs, and nothing imports it back (they share ``command_setup`` instead)."""
    bad = {m for m in _imports(path) if m in (".cli", "..cli", "pytest_ssot.cli")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_items_reach_the_session_only_for_type_checking() -> None:
    tree = ast.parse((PACKAGE / "plugin" / "items.py").read_text(encoding="utf-8"))
    runtime = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            runtime.add(node.module)
    assert "session" not in runtime
