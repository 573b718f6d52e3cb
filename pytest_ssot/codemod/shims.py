"""``pytest-ssot shims``: legacy paths as generated, warning PEP 562 shims (SPEC 13).

Pure core: no pytest; libcst only when a package re-export is merged into an existing
module. Two shapes:

* a legacy **module** with no code of its own (imports, aliases, ``__all__``, a
  docstring, warnings: what ``discover`` calls "no code of its own") is rewritten whole:
  a module ``__getattr__`` serving the names it served, each with a ``DeprecationWarning``
  naming the canonical path (and the deadline), a warning at import, ``__dir__`` and
  ``__all__`` kept so that ``from legacy import *`` works as before;
* a legacy **attribute** ``pkg:Name`` gets a lazy entry merged into ``pkg``: the import
  that bound it is removed, a generated block (between marker comments) serves it, and an
  existing ``__getattr__`` is extended with one line, not replaced.

Both carry an ``if TYPE_CHECKING:`` block declaring the served classes and functions
with PEP 702 ``@deprecated``, which mypy (``--enable-error-code deprecated``) and
pyright/basedpyright (``reportDeprecated``) both honour: the editor flags the import.

Files are written with the compare-and-swap writer: a file changed since it was read is
listed, untouched. What cannot be changed safely is listed with the reason, untouched.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.contracts import Contract, SsotConfig
from ..domain.deadlines import Deadline
from ..domain.paths import SsotPath
from .shim_merge import _merge
from .shim_source import (BEGIN, END, HEADER_PREFIX, _absolute, _due, _generated,
                          _generated_moved, _in_style_of, _is_type_checking, _message,
                          _typing_block, module_file)

__all__ = ["Plan", "Change", "plan", "apply", "HEADER_PREFIX", "BEGIN", "END"]

_SKIP_MODULES = {"__future__", "warnings", "typing", "typing_extensions"}


@dataclass
class Change:
    """One file to write (``new``) or one path left alone (``reason``)."""

    path: str  # the legacy path
    file: Path | None
    old: bytes | None = None
    new: bytes | None = None
    reason: str | None = None

    @property
    def due(self) -> bool:
        return self.new is not None and self.new != self.old


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    @property
    def due(self) -> list[Change]:
        return [c for c in self.changes if c.due]

    @property
    def skipped(self) -> list[Change]:
        return [c for c in self.changes if c.reason]


# --------------------------------------------------------------------------- modules


def _served_names(tree: ast.Module, module: str, is_package: bool
                  ) -> tuple[dict[str, tuple[str, str]], list[str] | None, str | None]:
    """What a module with no code of its own serves: ``(name -> (module, attr),
    __all__ or None, why not)``."""
    served: dict[str, tuple[str, str]] = {}
    all_names: list[str] | None = None
    body = tree.body
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            fn = node.value.func
            if isinstance(fn, ast.Attribute) and fn.attr == "warn":
                continue  # the hand-written deprecation warning the shim replaces
            return served, all_names, f"line {node.lineno}: a call of its own"
        if isinstance(node, ast.Import):
            if all(a.name.split(".")[0] in _SKIP_MODULES for a in node.names):
                continue
            return served, all_names, (f"line {node.lineno}: 'import {node.names[0].name}' "
                                       "binds a module, which a shim does not serve")
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node)
            if source is None:
                return served, all_names, f"line {node.lineno}: a relative import out of range"
            if source.split(".")[0] in _SKIP_MODULES:
                continue
            for a in node.names:
                if a.name == "*":
                    return served, all_names, (f"line {node.lineno}: 'from {source} import *' "
                                               "serves names no shim can list")
                served[a.asname or a.name] = (source, a.name)
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "__all__":
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    return served, all_names, f"line {node.lineno}: __all__ is not a literal"
                if not isinstance(value, (list, tuple)) or not all(
                        isinstance(v, str) for v in value):
                    return served, all_names, f"line {node.lineno}: __all__ is not a list of names"
                all_names = list(value)
                continue
            if isinstance(node.value, ast.Name) and node.value.id in served:
                served[target] = served[node.value.id]
                continue
            if target.startswith("_MOVED") or target in ("_DUE",):
                continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in (
                "__getattr__", "__dir__"):
            return served, all_names, (f"line {node.lineno}: a hand-written {node.name}: what "
                                       "it serves cannot be read; write the shim by hand")
        return served, all_names, (f"line {getattr(node, 'lineno', '?')}: "
                                   f"{type(node).__name__} that a shim cannot reproduce")
    return served, all_names, None


def _docstring(text: str) -> str:
    """The module's docstring as a literal: as written when that is safe, else quoted."""
    if '"""' in text or text.endswith('"') or "\\" in text or "\r" in text:
        return repr(text)
    return f'"""{text}"""'


def _hand_edited(tree: ast.Module) -> str | None:
    """Was a generated shim given code of its own since? Then it is not ours to rewrite."""
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.Call)):
            continue
        if isinstance(node, ast.Assign) and all(
                isinstance(t, ast.Name) and t.id in ("_MOVED", "_DUE", "__all__")
                for t in node.targets):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            continue
        if isinstance(node, ast.FunctionDef) and node.name in ("__getattr__", "__dir__"):
            continue
        return f"line {getattr(node, 'lineno', '?')}"
    return None


def _module_shim(root: Path, contract: Contract, legacy: SsotPath,
                 moved: dict[str, tuple[str, str]], all_names: list[str] | None,
                 deadline: Deadline | None, docstring: str | None,
                 subs: dict[str, str] | None = None) -> str:
    canonical = contract.canonical
    target = canonical.module
    # A name bound to the package's own submodule (``from . import sub``) cannot be served
    # by __getattr__ (it would look itself up); and ``from .sub import f`` bound ``sub``
    # too. Both are imported at import time, as the package did.
    subs, moved = dict(subs or {}), dict(moved)
    implied: set[str] = set()  # the package's submodules the names came from
    prefix = legacy.module + "."
    for n, (m, a) in list(moved.items()):
        if m in (legacy.module, ""):  # ("" : read back from a generated shim)
            subs[n] = a
            del moved[n]
        elif m.startswith(prefix):
            implied.add(m[len(prefix):])
    # (``from .sub import sub``: the name wins over the submodule, as it did)
    implied = {i for i in implied if i.split(".")[0] not in moved}
    export = all_names if all_names is not None else sorted(
        {n for n in [*moved, *subs, *(i.split(".")[0] for i in implied)]
         if not n.startswith("_")})
    entries = [(n, m, a, _message(f"{legacy.module}.{n}", m, a, deadline))
               for n, (m, a) in moved.items()]
    table = "\n".join(f"    {n!r}: ({m!r}, {a!r})," for n, (m, a) in moved.items())
    due = _due(deadline)
    lines = [
        f"{HEADER_PREFIX} '{contract.name}' ({contract.source}); edit the contract, not "
        "this file.",
        _docstring(docstring or f"Deprecated: {legacy.module} moved to {target}."),
        "",
        "import importlib as _importlib",
        "import warnings as _warnings",
        "from typing import TYPE_CHECKING",
        "",
        "# name served here -> (module, attribute) it comes from",
        "_MOVED = {",
        table,
        "}",
        f"_DUE = {due!r}",
        f"__all__ = {export!r}",
        "",
        f"_warnings.warn({f'{legacy.module} is deprecated; use {canonical}{due}'!r}, "
        "DeprecationWarning, stacklevel=2)",
        "",
        "",
        "def __getattr__(name: str) -> object:",
        "    try:",
        "        module, attr = _MOVED[name]",
        "    except KeyError:",
        "        raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\") "
        "from None",
        "    # stacklevel 2: the warning points at the line that imports or uses the name",
        "    _warnings.warn(f\"{__name__}.{name} is deprecated; use {module}.{attr}{_DUE}\",",
        "                   DeprecationWarning, stacklevel=2)",
        "    try:",
        "        return getattr(_importlib.import_module(module), attr)",
        "    except AttributeError:  # a submodule not imported yet, as 'from x import y' finds it",
        "        return _importlib.import_module(f\"{module}.{attr}\")",
        "",
        "",
        "def __dir__() -> list[str]:",
        "    return sorted({*globals(), *_MOVED})",
        "",
        "",
        *(["# submodules the package imported (and bound) before: still imported, still bound"]
          + [f"from . import {sub} as {bound}" for bound, sub in sorted(subs.items())]
          + [f"_importlib.import_module(__name__ + {'.' + i!r})" for i in sorted(implied)]
          + ["", ""] if subs or implied else []),
        *_typing_block(root, entries),
        "",
    ]
    return "\n".join(lines)


def _plan_module(root: Path, contract: Contract, legacy: SsotPath,
                 redirect: dict[tuple[str, str], tuple[str, str]] | None = None) -> Change:
    f = module_file(root, legacy.module)
    if f is None:
        return Change(str(legacy), None, reason="no source file in the project (absent, or "
                      "not the project's): nothing to generate")
    old = f.read_bytes()
    try:
        tree = ast.parse(old)
    except (SyntaxError, ValueError) as exc:
        return Change(str(legacy), f, old, reason=f"cannot be parsed: {exc}")
    importer = _canonical_importing(root, contract, legacy.module)
    if importer is not None:
        return Change(str(legacy), f, old, reason=f"the canonical module {importer} imports "
                      "it: as a shim it would make the canonical warn; import from where the "
                      "names live, then run again")
    deadline = contract.deadline(legacy)
    docstring = ast.get_docstring(tree, clean=False)
    if _generated(old):
        edited = _hand_edited(tree)
        if edited:
            return Change(str(legacy), f, old, reason=f"a generated shim edited by hand "
                          f"({edited}): left as it is; move that code elsewhere or delete "
                          "the file to regenerate it")
        try:
            moved, all_names = _generated_moved(tree)
        except (ValueError, TypeError, IndexError, AttributeError):
            return Change(str(legacy), f, old, reason="a generated shim whose _MOVED table "
                          "was edited by hand: left as it is")
    else:
        is_package = f.name == "__init__.py"
        moved, all_names, why = _served_names(tree, legacy.module, is_package)
        if why:
            return Change(str(legacy), f, old, reason=f"has code of its own ({why}): left "
                          "as it is")
        if not moved:
            return Change(str(legacy), f, old, reason="serves no name: nothing to generate")
    # A name this module took from another legacy path (``from pkg import Thing`` where
    # ``pkg:Thing`` is legacy too) is served from that path's canonical: else the shim
    # itself would trigger the other warning, attributed to the shim, not to the importer.
    moved = {n: (redirect or {}).get(v, v) for n, v in moved.items()}
    new = _module_shim(root, contract, legacy, moved, all_names, deadline, docstring)
    return Change(str(legacy), f, old, _in_style_of(old, new.encode()))


def _canonical_importing(root: Path, contract: Contract, legacy: str) -> str | None:
    """The canonical module (or its package's ``__init__``), when it imports ``legacy`` at
    its top level: importing the canonical would then emit the legacy path's warning."""
    names = [contract.canonical.module]
    if "." in names[0]:
        names.append(names[0].rpartition(".")[0])
    for module in names:
        f = module_file(root, module)
        if f is None:
            continue
        try:
            tree = ast.parse(f.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, f.name == "__init__.py", node)
                if source:
                    targets = [source, *(f"{source}.{a.name}" for a in node.names)]
            if any(t == legacy or t.startswith(legacy + ".") for t in targets):
                return module
    return None


# --------------------------------------------------------------------------- plan


def plan(settings: SsotConfig, root: Path) -> Plan:
    """What ``shims --write`` would write, and what it leaves alone (and why)."""
    out = Plan()
    attrs: dict[str, list[tuple[Contract, SsotPath]]] = {}
    redirect = {(p.module, p.attr): (c.canonical.module, c.canonical.attr)
                for c in settings.contracts if c.canonical.attr is not None
                for p in c.legacy if p.attr is not None}
    for contract in settings.contracts:
        for legacy in contract.legacy:
            if legacy.attr is None:
                out.changes.append(_plan_module(root, contract, legacy, redirect))
            else:
                attrs.setdefault(legacy.module, []).append((contract, legacy))
    whole = {c.path.partition(":")[0] for c in out.changes if c.new is not None}
    for module, items in sorted(attrs.items()):
        f = module_file(root, module)
        if module in whole:
            continue  # the whole module's shim serves these names already
        if f is None:
            out.changes.extend(Change(str(p), None, reason="no source file in the project")
                               for _, p in items)
            continue
        old = f.read_bytes()
        if _generated(old):
            continue
        try:
            new, skipped, stub = _merge(root, f, old, items, module)
        except UnicodeDecodeError:
            new, skipped, stub = None, [(p, "not UTF-8") for _, p in items], None
        for p, why in skipped:
            out.changes.append(Change(str(p), f, old, reason=why))
        if new is not None and stub is not None:
            served = ", ".join(str(p) for _, p in items
                               if str(p) not in {str(s) for s, _ in skipped})
            stub_file, stub_text = stub
            stub_old = stub_file.read_bytes() if stub_file.is_file() else None
            if stub_old is not None and not stub_old.startswith(HEADER_PREFIX.encode()):
                out.changes.append(Change(served, f, old, reason=f"{stub_file.name} exists "
                                          "and is not generated by pytest-ssot"))
                continue
            # the stub's twin: a module of that name exists (pyright reports a stub
            # without source), and holds no class the scan would count as a definition
            twin = stub_file.with_suffix(".py")
            twin_old = twin.read_bytes() if twin.is_file() else None
            contracts = ", ".join(repr(n) for n in sorted({c.name for c, _ in items}))
            twin_text = (f"{HEADER_PREFIX} {contracts}: the type declarations are in "
                         f"{stub_file.name}; never imported at run time.\n").encode()
            if twin_old is not None and not twin_old.startswith(HEADER_PREFIX.encode()):
                out.changes.append(Change(served, f, old, reason=f"{twin.name} exists "
                                          "and is not generated by pytest-ssot"))
                continue
            out.changes.append(Change(served, f, old, new))
            out.changes.append(Change(served, stub_file, stub_old, stub_text))
            out.changes.append(Change(served, twin, twin_old, twin_text))
    return out


def apply(p: Plan) -> list[tuple[Change, str]]:
    """Write every due change (compare-and-swap); ``(change, why)`` for those not written."""
    from ..atomic import ChangedSinceRead, NotWritableTarget, WouldNotKeep, write_atomic

    failed = []
    for change in p.due:
        assert change.file is not None and change.new is not None
        try:
            if change.old is None and change.file.exists():
                raise ChangedSinceRead(f"{change.file} was created meanwhile")
            write_atomic(change.file, change.new, expect=change.old)
        except (ChangedSinceRead, WouldNotKeep, NotWritableTarget) as exc:
            failed.append((change, f"left untouched: {exc}"))
        except OSError as exc:
            failed.append((change, f"cannot be written: {exc.strerror or exc}"))
    return failed
