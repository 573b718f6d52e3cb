"""The lower layers (``errors``, ``domain/``, ``config/``, ``probe/``), checked statically.

``domain/`` is the bottom of the package: pure data and rules. Its modules import the
standard library, each other and ``errors`` only (no I/O layer, no third-party module,
not even under TYPE_CHECKING); ``errors`` imports nothing of ours. And each name these
layers define has one import path: the module that defines it (a name reached through
another module's import, ``from pytest_ssot.config import Contract``, is a second path)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pytest_ssot"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").glob("*.py")),
                         ids=lambda p: p.name)
def test_domain_imports_only_the_standard_library_the_domain_and_errors(path: Path) -> None:
    bad = {m for m in _imports(path)
           if not (m == "..errors" or (m.startswith(".") and not m.startswith(".."))
                   or m.split(".")[0] in sys.stdlib_module_names)}
    assert not bad, f"domain/{path.name} imports {sorted(bad)}"


def test_errors_imports_nothing_of_ours() -> None:
    mods = _imports(PACKAGE / "errors.py")
    assert all(not m.startswith(".") and m.split(".")[0] in sys.stdlib_module_names
               for m in mods), mods


def _module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _defined(path: Path) -> set[str]:
    """The names a module binds itself at its top level (not by importing them)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(ROOT).parts[:-1])
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_each_name_of_the_lower_layers_is_imported_from_where_it_is_defined() -> None:
    lower = [PACKAGE / "errors.py", *(PACKAGE / "domain").glob("*.py"),
             *(PACKAGE / "config").glob("*.py"), *(PACKAGE / "probe").glob("*.py")]
    home = {}
    for path in lower:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(
            ".__init__")
        for name in _defined(path):
            if not name.startswith("_"):
                home.setdefault(name, set()).add(module)
    wrong = []
    for path in sorted([*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
                        *(ROOT / "benchmarks").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            module = _absolute(path, node)
            if not module.startswith("pytest_ssot") or _module_file(module) is None:
                continue
            for alias in node.names:
                homes = home.get(alias.name, set())
                if (homes and module not in homes
                        and _module_file(f"{module}.{alias.name}") is None
                        and alias.name not in _defined(_module_file(module))):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} "
                                 f"from {module}, defined in {', '.join(sorted(homes))}")
    assert not wrong, "\n".join(wrong)
