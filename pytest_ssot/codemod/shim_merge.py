"""A legacy attribute ``pkg:Name`` served lazily by ``pkg`` (``pytest-ssot shims``): the
import that bound it removed, a generated block (between marker comments) serving it
with a ``DeprecationWarning``, an existing ``__getattr__`` extended with one line, and a
stub-only companion module holding the PEP 702 declarations. libcst, imported when a
merge is planned."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from ..domain.contracts import Contract
from ..domain.paths import SsotPath
from .shim_source import (BEGIN, END, HEADER_PREFIX, _absolute, _generated_moved,
                          _in_style_of, _message, _typing_block)

def companion(module: str, file: Path) -> tuple[str, Path]:
    """The stub-only module (``.pyi``, no ``.py``) holding a module's PEP 702 declarations."""
    if file.name == "__init__.py":
        return f"{module}._ssot_deprecated", file.with_name("_ssot_deprecated.pyi")
    stem = module.rpartition(".")
    name = f"_ssot_deprecated_{stem[2]}"
    return (f"{stem[0]}.{name}" if stem[0] else name), file.with_name(name + ".pyi")


def companion_text(root: Path, names: list[str], module: str,
                   entries: dict[str, tuple[str, str, str]]) -> str:
    lines = [f"{HEADER_PREFIX} {', '.join(repr(n) for n in names)}: the PEP 702 "
             f"declarations of {module}'s deprecated names, for type checkers only.",
             *_typing_block(root, [(n, m, a, msg) for n, (m, a, msg) in
                                   sorted(entries.items())])[1:]]
    return "\n".join(line[4:] if line.startswith("    ") else line for line in lines) + "\n"


def _block(root: Path, names: list[str], entries: dict[str, tuple[str, str, str]],
           define_getattr: bool, define_dir: bool, companion: str,
           define_all: bool = False) -> str:
    table = "\n".join(f"    {n!r}: ({m!r}, {a!r}, {msg!r}),"
                      for n, (m, a, msg) in sorted(entries.items()))
    lines = [f"{BEGIN} {', '.join(repr(n) for n in names)}; regenerate with "
             "`pytest-ssot shims --write` ---",
             "_SSOT_MOVED = {", table, "}", "", "",
             "def _ssot_moved(name):",
             "    import importlib",
             "    import warnings",
             "",
             "    module, attr, message = _SSOT_MOVED[name]",
             "    # stacklevel 3: past this helper and __getattr__, at the importer",
             "    warnings.warn(message, DeprecationWarning, stacklevel=3)",
             "    try:",
             "        return getattr(importlib.import_module(module), attr)",
             "    except AttributeError:  # a submodule, as 'from x import y' finds it",
             "        return importlib.import_module(f\"{module}.{attr}\")"]
    if define_getattr:
        lines += ["", "", "def __getattr__(name):",
                  "    if name in _SSOT_MOVED:",
                  "        return _ssot_moved(name)",
                  "    raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\")"]
    if define_dir:
        lines += ["", "", "def __dir__():", "    return sorted({*globals(), *_SSOT_MOVED})"]
    # The PEP 702 declarations live in a stub-only companion module: a class named like
    # the canonical in this module's source would be a second definition to the scan.
    lines += ["", "", "import typing as _ssot_typing", "",
              "if _ssot_typing.TYPE_CHECKING:",
              # (its own import of a deprecated name is no use to report)
              *(f"    from {companion} import {n} as {n}  # type: ignore[deprecated]  "
                "# pyright: ignore[reportDeprecated]" for n in sorted(entries))]
    if define_all:
        # Without __all__, `from pkg import *` served every public global, these names too;
        # they are no longer globals. (Hidden from type checkers: their view is unchanged.)
        lines += ["else:",
                  "    __all__ = sorted({*(n for n in globals() if not n.startswith('_')), "
                  "*_SSOT_MOVED})  # pyright: ignore[reportUnreachable]"]
    lines.append(END)
    return "\n".join(lines) + "\n"


_HOOK = "if {param} in _SSOT_MOVED:\n    return _ssot_moved({param})\n"


def _merge(root: Path, file: Path, old: bytes, legacy: list[tuple[Contract, SsotPath]],
           module: str) -> tuple[bytes | None, list[tuple[SsotPath, str]],
                                  tuple[Path, bytes] | None]:
    """The module with its legacy attributes served lazily; and what was left alone."""
    import libcst as cst

    text = old.decode("utf-8")
    if old.count(b"\r\n") == old.count(b"\n"):  # a CRLF file: worked on as LF, written back
        text = text.replace("\r\n", "\n")     # as CRLF (``_in_style_of``)
    prior: dict[str, tuple[str, str]] = {}
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        end = text.index(END) + len(END)
        block = text[start:end]
        try:
            prior, _ = _generated_moved(ast.parse(block.rpartition("\nimport typing")[0]))
        except (SyntaxError, ValueError):
            return None, [(p, "its generated block was edited by hand: restore or delete "
                              "it") for _, p in legacy], None
        text = text[:start].rstrip("\n") + "\n" + text[end:].lstrip("\n")
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return None, [(p, f"cannot be parsed: {exc}") for _, p in legacy], None
    names_used, bound, getattr_fn, has_dir, star = _module_facts(
        tree, module, file.name == "__init__.py")
    if star is not None:  # it may bind the name again: __getattr__ would never be asked
        return None, [(p, f"{module} has '{star}', which may bind {p.attr} again (the lazy "
                          "entry would never warn): left as it is") for _, p in legacy], None
    entries, remove, skipped = _lazy_entries(tree, module, legacy, prior, names_used, bound)
    if not entries:
        return None, skipped, None
    param = None
    if getattr_fn is not None:
        params = getattr_fn.params
        if (len(params.params) != 1 or params.star_arg not in (cst.MaybeSentinel.DEFAULT, None)
                or params.kwonly_params or params.posonly_params):
            for name in list(entries):
                skipped.append((next(p for _, p in legacy if p.attr == name),
                                f"{module}.__getattr__ has an unusual signature: extend it "
                                "by hand"))
            return None, skipped, None
        param = params.params[0].name.value
    new_tree = tree.visit(_edit(tree, remove, getattr_fn, param))
    kept = new_tree.code.rstrip("\n")
    code = kept + "\n\n\n" if kept.strip() else ""
    everything = {**{n: (*prior[n], _message(f"{module}.{n}", *prior[n], None))
                     for n in prior if n not in entries}, **entries}
    names = sorted({c.name for c, _ in legacy})
    stub_module, stub_file = companion(module, file)
    # (an existing __getattr__ without __dir__: dir() must still list the moved names)
    code += _block(root, names, everything, getattr_fn is None, not has_dir, stub_module,
                   define_all=not _binds_all(tree))
    stub = companion_text(root, names, module, everything)
    return _in_style_of(old, code.encode()), skipped, (stub_file, stub.encode())


def _module_facts(tree: Any, module: str, is_package: bool
                  ) -> tuple[dict[str, int], dict[str, tuple[str, str]], Any, bool, str | None]:
    """(how often each name is used, name -> (module, attr) its top-level ``from ...
    import`` binds, the module's ``__getattr__``, whether it has ``__dir__``, its first
    ``from ... import *`` or None)."""
    import libcst as cst

    names_used: dict[str, int] = {}

    class Count(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names_used[node.value] = names_used.get(node.value, 0) + 1

    tree.visit(Count())
    bound: dict[str, tuple[str, str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names,
                                                                          cst.ImportStar):
                    node = ast.parse(tree.code_for_node(small).strip()).body[0]
                    assert isinstance(node, ast.ImportFrom)
                    source = _absolute(module, is_package, node)
                    for a in node.names:
                        if source:
                            bound[a.asname or a.name] = (source, a.name)
    getattr_fn = None
    has_dir = False
    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__getattr__":
            getattr_fn = stmt
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__dir__":
            has_dir = True
    star = next((tree.code_for_node(small).strip() for stmt in tree.body
                 if isinstance(stmt, cst.SimpleStatementLine) for small in stmt.body
                 if isinstance(small, cst.ImportFrom) and isinstance(small.names,
                                                                      cst.ImportStar)), None)
    return names_used, bound, getattr_fn, has_dir, star


def _lazy_entries(tree: Any, module: str, legacy: list[tuple[Contract, SsotPath]],
                  prior: dict[str, tuple[str, str]], names_used: dict[str, int],
                  bound: dict[str, tuple[str, str]]
                  ) -> tuple[dict[str, tuple[str, str, str]], set[str],
                             list[tuple[SsotPath, str]]]:
    """(name -> (module, attr, message) served lazily, the names whose import goes, the
    paths left alone and why)."""
    skipped: list[tuple[SsotPath, str]] = []
    entries: dict[str, tuple[str, str, str]] = {}
    remove: set[str] = set()
    for contract, p in legacy:
        name = p.attr
        assert name is not None
        deadline = contract.deadline(p)
        if name in prior and name not in bound:
            m, a = prior[name]
        elif name in bound:
            m, a = bound[name]
            # the import's own alias name counts once (twice with 'X as X')
            own = 1 + (1 if _binds_as_itself(tree, name) else 0)
            if names_used.get(name, 0) > own:
                skipped.append((p, f"{module} uses {name} itself (not only re-exports it): "
                                   "it cannot become lazy without changing the module"))
                continue
            remove.add(name)
        else:
            skipped.append((p, f"{module} binds {name} otherwise than by a top-level "
                               "'from ... import': left as it is"))
            continue
        entries[name] = (m, a, _message(f"{module}.{name}", m, a, deadline))
    return entries, remove, skipped


def _edit(tree: Any, remove: set[str], getattr_fn: Any, param: str | None) -> Any:
    """The transformer: the imports of ``remove`` go; ``__getattr__`` asks the generated
    block first (one line, added once)."""
    import libcst as cst

    class Edit(cst.CSTTransformer):
        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom
                             ) -> cst.ImportFrom | cst.RemovalSentinel:
            if isinstance(updated.names, cst.ImportStar):
                return updated
            keep = [a for a in updated.names
                    if (a.asname.name.value if a.asname and isinstance(a.asname.name, cst.Name)
                        else a.name.value if isinstance(a.name, cst.Name) else None)
                    not in remove]
            if len(keep) == len(updated.names):
                return updated
            if not keep:
                return cst.RemoveFromParent()
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=keep)

        def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef
                              ) -> cst.FunctionDef:
            if original is not getattr_fn or param is None:
                return updated
            hook = cst.parse_module(_HOOK.format(param=param)).body[0]
            body = list(updated.body.body)
            if body and tree.code_for_node(body[0]).strip() == tree.code_for_node(hook).strip():
                return updated
            return updated.with_changes(body=updated.body.with_changes(body=[hook, *body]))

    return Edit()


def _binds_all(tree: object) -> bool:
    """Does the module bind ``__all__`` at its top level?"""
    import libcst as cst

    for stmt in tree.body:  # type: ignore[attr-defined]
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = ([t.target for t in small.targets] if isinstance(small, cst.Assign)
                           else [small.target] if isinstance(small, (cst.AnnAssign,
                                                                     cst.AugAssign))
                           else [])
                if any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                    return True
    return False


def _binds_as_itself(tree: object, name: str) -> bool:
    import libcst as cst

    found = False

    class V(cst.CSTVisitor):
        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            nonlocal found
            if (node.asname and isinstance(node.asname.name, cst.Name)
                    and node.asname.name.value == name and isinstance(node.name, cst.Name)
                    and node.name.value == name):
                found = True

    tree.visit(V())  # type: ignore[attr-defined]
    return found
