"""``domain/`` is the bottom of the package: pure data and rules. Its modules import the
standard library, each other and ``errors`` only (no I/O layer, no third-party module,
not even under TYPE_CHECKING); ``errors`` imports nothing of ours. Checked statically."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_ssot"


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
