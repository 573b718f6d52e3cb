"""Syntax facts shared by both passes of the analysis: what an import binds, which
calls take a module's name, the node types that open scopes. Pure: ``ast`` only."""

from __future__ import annotations

import ast

__all__ = ["COMPREHENSIONS", "DEFS", "IMPORT_LIKE", "TRIES", "import_bindings",
           "resolve_relative"]


def resolve_relative(level: int, module: str | None, package: str | None) -> str | None:
    """The absolute module of ``from <level dots><module> import ...`` (None: unresolvable)."""
    if level == 0:
        return module
    if not package:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python refuses it too
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


# Calls whose first argument (or ``name``/``target`` keyword) is an import-like position:
# there a single-identifier module name in a string is a reference.
IMPORT_LIKE = frozenset({"import_module", "__import__", "find_spec", "resolve_name",
                          "import_string", "patch", "setattr", "delattr"})
# ``getattr(x, "n")`` and friends are the expression ``x.n``.
_LITERAL_BARE = frozenset({"getattr", "hasattr", "setattr", "delattr"})
_LITERAL_ANY = frozenset({"object", "setattr", "delattr"})
_SYS_MODULES_METHODS = frozenset({"get", "pop", "setdefault"})
# Logger names (SPEC 13): where a call takes a logger's name, ``(position, keyword)``. A
# logger is named after a module by convention only; its name is no reference to it.
# ``logging.getLogger(name)``, ``unittest``'s ``assertLogs(logger)``/``assertNoLogs``, and
# (called on an object: ``caplog.set_level(level, logger)``) pytest's caplog methods.
_LOGGER_ARGUMENT = {"getLogger": (0, "name"), "assertLogs": (0, "logger"),
                    "assertNoLogs": (0, "logger")}
_LOGGER_METHOD_ARGUMENT = {"set_level": (1, "logger"), "at_level": (1, "logger")}
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CONTEXTS = (ast.Load, ast.Store, ast.Del)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _func_name(func: ast.expr) -> str | None:
    if type(func) is ast.Name:
        return func.id
    if type(func) is ast.Attribute:
        return func.attr
    return None


def _is_sys_modules(node: ast.expr) -> bool:
    return (type(node) is ast.Attribute and node.attr == "modules"
            and type(node.value) is ast.Name and node.value.id == "sys")


def _is_literal(node: ast.expr) -> bool:
    """``Literal`` / ``typing.Literal``: its arguments are strings even in an annotation."""
    return ((type(node) is ast.Name and node.id == "Literal")
            or (type(node) is ast.Attribute and node.attr == "Literal"))


def _is_str(node: ast.AST | None) -> bool:
    return type(node) is ast.Constant and type(node.value) is str  # type: ignore[union-attr]


def logger_names(call: ast.Call) -> list[ast.expr]:
    """The arguments of ``call`` that are a logger's name: a plain string where the call
    takes one (``getLogger("pkg.mod")``). Whatever module it spells, it is no reference:
    the scan does not count it and the codemod does not rewrite it (one rule for both).
    Not applied inside annotations, where strings are code."""
    name = _func_name(call.func)
    if name is None:
        return []
    at, kw = _LOGGER_ARGUMENT.get(name) or (
        _LOGGER_METHOD_ARGUMENT.get(name, (-1, None)) if type(call.func) is ast.Attribute
        else (-1, None))
    out = [a for i, a in enumerate(call.args) if i == at and _is_str(a)]
    return out + [k.value for k in call.keywords
                  if k.arg is not None and k.arg == kw and _is_str(k.value)]


def logger_tables(node: ast.Dict | ast.Call) -> list[ast.Dict]:
    """The ``"loggers"`` tables of a ``logging.config`` dictionary (``{"loggers": {...}}``)
    or of a call (``dict(loggers={...})``): their string keys are logger names."""
    if type(node) is ast.Call:
        return [k.value for k in node.keywords  # type: ignore[misc]
                if k.arg == "loggers" and type(k.value) is ast.Dict]
    return [v for k, v in zip(node.keys, node.values)  # type: ignore[misc]
            if type(v) is ast.Dict and _is_str(k) and k.value == "loggers"]  # type: ignore[union-attr]


_DECLARATIONS = (ast.Global, ast.Nonlocal)
_MODULE_LEVEL_BLOCKS = (ast.If, ast.Try) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def import_bindings(stmt: ast.Import | ast.ImportFrom, package: str | None
                    ) -> list[tuple[str, tuple[str, bool] | None]]:
    """The names an import binds: ``(name, (qualified name, from-import) or None)``.

    ``import a.b`` binds ``a`` to ``a``; ``import a.b as x`` binds ``x`` to ``a.b``;
    ``from P import L as x`` binds ``x`` to ``P.L``. A relative import that cannot be
    resolved binds its names to nothing known. ``from M import *`` binds nothing known.
    """
    out: list[tuple[str, tuple[str, bool] | None]] = []
    if type(stmt) is ast.Import:
        for alias in stmt.names:
            if alias.asname:
                out.append((alias.asname, (alias.name, False)))
            else:
                top = alias.name.partition(".")[0]
                out.append((top, (top, False)))
        return out
    target = resolve_relative(stmt.level, stmt.module, package)  # type: ignore[union-attr]
    for alias in stmt.names:
        if alias.name == "*":
            continue
        bound = alias.asname or alias.name
        out.append((bound, (f"{target}.{alias.name}", True) if target else None))
    return out

TRIES = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
