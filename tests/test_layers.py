"""The direction of imports (STYLE): the pure core never imports pytest, hypothesis or
libcst; the probe server imports nothing of ours. Checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_ssot"
CORE = ["paths.py", "config.py", "runtime.py", "deletion.py", "_atomic.py", "probe", "report",
        "scan"]
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
           or m.lstrip(".").split(".")[0] in {"plugin", "session", "items", "release_gate", "cli"}}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_probe_server_is_standalone() -> None:
    server = PACKAGE / "probe" / "_server.py"
    relative = {m for m in _imports(server) if m.startswith(".") or m.startswith("pytest_ssot")}
    assert not relative, "the server runs as a plain script: stdlib only"


def test_plugin_entry_point_imports_stdlib_and_pytest_only() -> None:
    # module-level imports only: the rest is imported inside hooks, when a feature is on
    tree = ast.parse((PACKAGE / "plugin.py").read_text())
    module_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            module_level.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "typing":
            module_level.add("." * node.level + (node.module or ""))
    assert module_level <= {"__future__", "pytest", "sys"}, module_level


@pytest.mark.parametrize("name", ["__init__.py", "checks.py"])
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


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if p.name != "plugin.py"),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_plugin_module(path: Path) -> None:
    """``plugin`` is pytest's entry point: it imports the rest lazily, and nothing imports
    it back (``session`` and ``plugin`` share ``collection`` instead)."""
    bad = {m for m in _imports(path)
           if m in (".plugin", "..plugin", "pytest_ssot.plugin")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_items_reach_the_session_only_for_type_checking() -> None:
    tree = ast.parse((PACKAGE / "items.py").read_text(encoding="utf-8"))
    runtime = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            runtime.add(node.module)
    assert "session" not in runtime
