"""The layers contract (STYLE, ARCHITECTURE.md), checked statically on the source, as
import-linter checks its own layers: every import of every module (module level,
function level and ``TYPE_CHECKING`` ones) goes down the table below, never sideways or
up; no cycles between components; no private name of another component; pytest, pluggy
and xdist only in the pytest adapter, libcst only in the codemod, hypothesis only in the
isolation checks and the adapter; no module or function over the size limits unless it is
listed here with its reason."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_ssot"
ROOT = "pytest_ssot"

# Lowest first. A component may import its own modules and any component of a LOWER
# layer; components of one layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("pytest_ssot", "errors", "atomic", "parallel"),   # base: public names, errors, writes, pool
    ("domain",),                                        # pure data and rules
    ("config",),                                        # reading the project's configuration
    ("probe",),                                         # fresh-interpreter probes and their client
    ("scan", "census", "isolation"),                    # the engines
    ("history", "codemod"),                             # built on the scan
    ("report",),                                        # documents and formats
    ("services",),                                      # the application layer
    ("plugin", "cli"),                                  # the two entry points (adapters)
]
LAYER = {component: i for i, names in enumerate(LAYERS) for component in names}

# Third-party packages that only some components may import (at any level).
ONLY_IN = {
    # (the root package resolves its public marker names, ``pytest_ssot.golden_path``, to
    # ``pytest.mark`` on first access: a function-level import)
    "pytest": {"plugin", ROOT}, "_pytest": {"plugin"}, "pluggy": {"plugin"}, "xdist": {"plugin"},
    "libcst": {"codemod"},
    "hypothesis": {"isolation", "plugin"},
}

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# Longer than the limits, on purpose: the reason is the exception's whole justification.
LONG_MODULES: dict[str, str] = {}
LONG_FUNCTIONS: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
# Stand-alone scripts run in the project's interpreter by path: never imported.
SCRIPTS = {m for m, p in MODULES.items() if p.parent.name == "probe" and p.name.startswith("_")
           and p.name != "__init__.py"}


def component(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    if parts[1] in LAYER:
        return parts[1]
    return parts[1]  # a top-level module not in the table: test_every_component_has_a_layer


@lru_cache(maxsize=None)
def imports(module: str) -> tuple[tuple[str, tuple[str, ...], int], ...]:
    """(imported module, names imported from it, line) for every import in the module."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, (), node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(a.name for a in node.names)
            # ``from pkg import submodule`` imports the submodule; other names, the module
            modules = [n for n in names if f"{target}.{n}" in MODULES]
            out.extend((f"{target}.{n}", (), node.lineno) for n in modules)
            if len(modules) < len(names):
                out.append((target, tuple(n for n in names if n not in modules), node.lineno))
    return tuple(out)


def ours(target: str) -> bool:
    return target == ROOT or target.startswith(ROOT + ".")


CODE = sorted(set(MODULES) - SCRIPTS)


def test_every_component_has_a_layer() -> None:
    unknown = {component(m) for m in CODE} - set(LAYER)
    assert not unknown, f"add {sorted(unknown)} to LAYERS (and ARCHITECTURE.md)"


@pytest.mark.parametrize("module", CODE)
def test_imports_go_down_the_layers(module: str) -> None:
    mine = component(module)
    bad = []
    for target, _, line in imports(module):
        if not ours(target):
            continue
        theirs = component(target)
        if theirs != mine and LAYER.get(theirs, 99) >= LAYER.get(mine, -1):
            bad.append(f"line {line}: {target} ({theirs}, layer {LAYER.get(theirs)})")
    assert not bad, f"{module} (layer {LAYER.get(mine)}) imports upwards or sideways: {bad}"


@pytest.mark.parametrize("module", CODE)
def test_third_party_frameworks_stay_in_their_component(module: str) -> None:
    mine = component(module)
    bad = [f"line {line}: {target}" for target, _, line in imports(module)
           if target.split(".")[0] in ONLY_IN and mine not in ONLY_IN[target.split(".")[0]]]
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", CODE)
def test_no_private_name_of_another_component(module: str) -> None:
    mine = component(module)
    bad = []
    for target, names, line in imports(module):
        if not ours(target) or component(target) == mine:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private or any(p.startswith("_") for p in target.split(".")[1:]):
            bad.append(f"line {line}: {target} {private}")
    assert not bad, f"{module} reaches into another component's private names: {bad}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycles_between_modules() -> None:
    """Not even through ``TYPE_CHECKING`` or function-level imports: a module that needs
    another's type only takes a protocol of its own."""
    graph = {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in CODE}
    assert not _cycles(graph), _cycles(graph)


def test_no_cycles_between_components() -> None:
    graph: dict[str, set[str]] = {}
    for module in CODE:
        for target, _, _ in imports(module):
            if ours(target) and component(target) != component(module):
                graph.setdefault(component(module), set()).add(component(target))
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                raise AssertionError("cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_probe_scripts_are_standalone(script: str) -> None:
    """They run by path in the project's interpreter: the standard library only."""
    relative = [t for t, _, _ in imports(script) if ours(t)]
    assert not relative, relative


def test_production_census_is_standalone() -> None:
    """``pytest_ssot.census`` runs in production services: the standard library only,
    nothing of ours outside census/ (it must import without pytest-ssot's dependencies)."""
    bad = [(m, t) for m in CODE if component(m) == "census"
           for t, _, _ in imports(m) if ours(t) and component(t) != "census"]
    assert not bad, bad


def test_plugin_entry_point_imports_stdlib_and_pytest_only() -> None:
    # module-level imports only: the rest is imported inside hooks, when a feature is on
    tree = ast.parse((PACKAGE / "plugin" / "__init__.py").read_text(encoding="utf-8"))
    module_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            module_level.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "typing":
            module_level.add("." * node.level + (node.module or ""))
    assert module_level <= {"__future__", "pytest", "sys"}, module_level


@pytest.mark.parametrize("module", [m for m in CODE if component(m) == "isolation"])
def test_isolation_core_loads_without_pytest_or_hypothesis(module: str) -> None:
    """conftest.py imports pytest_ssot.isolation: that must not import hypothesis."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top.add(node.module.split(".")[0])
    assert not top & {"pytest", "_pytest", "hypothesis"}, top


@pytest.mark.parametrize("entry", ["pytest_ssot.isolation", "pytest_ssot.plugin",
                                   "pytest_ssot.census", "pytest_ssot"])
def test_importing_a_public_entry_is_cheap(entry: str) -> None:
    """What a conftest.py, pytest's plugin loading and a production service do at start-up:
    no hypothesis, libcst, scanner or HTML library until a feature is used."""
    heavy = ("hypothesis", "libcst", "jinja2", "pygal", "pytest_ssot.scan", "tomlkit")
    code = (f"import sys, {entry}; "
            f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_plugin_and_cli_do_not_import_each_other() -> None:
    bad = [(m, t) for m in CODE for t, _, _ in imports(m)
           if {component(m), component(t)} == {"plugin", "cli"}]
    assert not bad, bad


def test_nothing_imports_the_entry_points_back() -> None:
    """``pytest_ssot.plugin`` (pytest's entry point) and ``pytest_ssot.cli`` (the console
    script) import the rest lazily; nothing outside them imports them."""
    bad = [(m, t) for m in CODE for t, _, _ in imports(m)
           if component(t) in ("plugin", "cli") and component(m) not in ("plugin", "cli")]
    assert not bad, bad


@pytest.mark.parametrize("module", CODE)
def test_module_size(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES or module in LONG_MODULES, (
        f"{module}: {lines} lines; split it, or list it in LONG_MODULES with the reason")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_function_size(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    long = [f"{module}.{n.name}" for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    unexplained = [f for f in long if f not in LONG_FUNCTIONS]
    assert not unexplained, (f"{unexplained}: over {MAX_FUNCTION_LINES} lines; split, or "
                             "list in LONG_FUNCTIONS with the reason")


def test_listed_exceptions_are_still_needed() -> None:
    """An exception that no longer applies is removed, so that the list stays true."""
    stale = [m for m in LONG_MODULES if m not in MODULES
             or len(MODULES[m].read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES]
    assert not stale, stale
