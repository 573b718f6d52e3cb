"""Pass 1 of the analysis of one file: imports, strings, definitions, and the chains and
calls whose meaning depends on their leftmost name's bindings (pass 2: ``bindings``)."""

from __future__ import annotations

import ast
from typing import Callable

from ...domain.refkind import RefKind
from ..rules import Hit, Matcher
from .names import (DEFS, _CONTEXTS, _DECLARATIONS, IMPORT_LIKE, _LITERAL_ANY, _LITERAL_BARE,
                    _MODULE_LEVEL_BLOCKS, _SYS_MODULES_METHODS, _func_name, _is_literal,
                    _is_str, _is_sys_modules, import_bindings, logger_names, logger_tables,
                    resolve_relative)
from .segments import Segments, Text

__all__ = ["Reader"]


class Reader:
    """Pass 1 over one file: imports, strings, definitions, and the chains and calls whose
    meaning depends on what their leftmost name is bound to (pass 2, ``Bindings``)."""

    def __init__(self, source: bytes, matcher: Matcher, module: str | None,
                 package: str | None) -> None:
        self.matcher = matcher
        self.words = matcher.words
        self.module = module
        self.package = package
        self.file_text = Text(Segments(source))
        self.hits: list[Hit] = []
        # names some import binds to a module or object a chain or a call can reach from
        self.relevant: set[str] = set()
        # (leftmost Name, [(attribute name, node reported)], statement line, Text)
        self.chains: list[tuple[ast.Name, list[tuple[str, ast.AST]], int, Text]] = []
        # (called Name, Call, statement line, Text, the defs and classes around it)
        self.calls: list[tuple[ast.Name, ast.Call, int, Text, tuple[int, ...]]] = []
        # id(string annotation) -> the expression inside it
        self.inner: dict[int, ast.expr] = {}
        # the defs and classes around the current statement, and those that hold a chain,
        # a call or a global/nonlocal declaration: pass 2 walks only those
        self.scopes: list[int] = []
        self.needed: set[int] = set()
        # statements that provably hold nothing of interest (see ``Skipper``)
        self.skip: Callable[[ast.stmt], bool] | None = None

    # ------------------------------------------------------------------ statements

    def body(self, stmts: list[ast.stmt], has_doc: bool, defs: bool) -> None:
        skip = self.skip
        for index, stmt in enumerate(stmts):
            if (index == 0 and has_doc and type(stmt) is ast.Expr and _is_str(stmt.value)):
                continue  # a docstring
            if skip is not None and type(stmt) not in _DECLARATIONS and skip(stmt):
                continue  # (a ``global`` or ``nonlocal`` is never skipped: see ``stmt``)
            self.stmt(stmt, defs)

    def import_values(self, stmt: ast.Import | ast.ImportFrom
                      ) -> list[tuple[str, tuple[str, bool] | None]]:
        """``(bound name, (qualified name, is a from-import) or None)`` per alias."""
        return import_bindings(stmt, self.package)

    def stmt(self, stmt: ast.stmt, defs: bool) -> None:
        t = type(stmt)
        line = stmt.lineno
        text = self.file_text
        if t is ast.Import or t is ast.ImportFrom:
            if t is ast.Import:
                found = [e for alias in stmt.names  # type: ignore[attr-defined]
                         for e in self.matcher.for_module(alias.name)]
            else:
                target = resolve_relative(stmt.level, stmt.module, self.package)  # type: ignore[attr-defined]
                found = (self.matcher.for_from(target, [a.name for a in stmt.names])  # type: ignore[attr-defined]
                         if target else [])
            if found:
                source = text.text(stmt)
                for e in found:
                    self.hits.append(Hit(e, RefKind.IMPORT, line, line, source))
            for name, value in self.import_values(stmt):  # type: ignore[arg-type]
                if value is not None and self.matcher.binds(*value):
                    self.relevant.add(name)
            return
        if t in DEFS:
            first = min([d.lineno for d in stmt.decorator_list] + [line])  # type: ignore[attr-defined]
            if defs:
                for e in self.matcher.for_definition(stmt.name, self.module):  # type: ignore[attr-defined]
                    header = "class" if t is ast.ClassDef else "def"
                    self.hits.append(Hit(e, RefKind.DEFINITION, line, first,
                                         f"{header} {stmt.name}"))  # type: ignore[attr-defined]
            for d in stmt.decorator_list:  # type: ignore[attr-defined]
                self.expr(d, first, False, text)
            if t is ast.ClassDef:
                for b in stmt.bases:  # type: ignore[attr-defined]
                    self.expr(b, first, False, text)
                for k in stmt.keywords:  # type: ignore[attr-defined]
                    self.expr(k.value, first, False, text)
            else:
                self.arguments(stmt.args, first, text)  # type: ignore[attr-defined]
                if stmt.returns is not None:  # type: ignore[attr-defined]
                    self.expr(stmt.returns, first, True, text)  # type: ignore[attr-defined]
            for tp in getattr(stmt, "type_params", ()) or ():
                self.expr(tp, first, True, text)
            self.scopes.append(id(stmt))
            self.body(stmt.body, True, False)  # type: ignore[attr-defined]
            self.scopes.pop()
            return
        if t is ast.Global or t is ast.Nonlocal:
            self.needed.update(self.scopes)
            return
        if t is ast.AnnAssign:
            self.expr(stmt.target, line, False, text)  # type: ignore[attr-defined]
            self.expr(stmt.annotation, line, True, text)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                self.expr(stmt.value, line, False, text)  # type: ignore[attr-defined]
            return
        nested_defs = defs and t in _MODULE_LEVEL_BLOCKS
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody"):
                self.body(value, False, nested_defs)
            elif name == "handlers":
                for h in value:
                    if h.type is not None:
                        self.expr(h.type, line, False, text)
                    self.body(h.body, False, nested_defs)
            elif name == "cases":
                for case in value:
                    self.expr(case.pattern, line, False, text)
                    if case.guard is not None:
                        self.expr(case.guard, line, False, text)
                    self.body(case.body, False, False)
            elif name == "items":  # with
                for item in value:
                    self.expr(item.context_expr, line, False, text)
                    if item.optional_vars is not None:
                        self.expr(item.optional_vars, line, False, text)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        self.expr(v, line, False, text)
            elif isinstance(value, ast.AST):
                self.expr(value, line, False, text)

    def arguments(self, args: ast.arguments, line: int, text: Text) -> None:
        for d in (*args.defaults, *args.kw_defaults):
            if d is not None:
                self.expr(d, line, False, text)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self.expr(a.annotation, line, True, text)

    # ------------------------------------------------------------------ expressions

    def expr(self, node: ast.AST, line: int, ann: bool, text: Text) -> None:
        """``ann``: inside an annotation (a string there is code)."""
        t = type(node)
        if t is ast.Constant:
            if type(node.value) is str:  # type: ignore[attr-defined]
                if ann:
                    self.annotation(node, line, text)  # type: ignore[arg-type]
                else:
                    self.string(node, line, False, text)
            return
        if t is ast.Name or t in _CONTEXTS:
            return
        if t is ast.Attribute:
            parts = []
            n = node
            while type(n) is ast.Attribute:
                parts.append(n)
                n = n.value  # type: ignore[attr-defined]
            if type(n) is ast.Name:
                if any(p.attr in self.words for p in parts):
                    parts.reverse()
                    self.chains.append((n, [(p.attr, p) for p in parts], line, text))  # type: ignore[misc]
                    self.needed.update(self.scopes)
            else:
                self.expr(n, line, ann, text)
            return
        if t is ast.JoinedStr:  # an f-string's text never counts; its expressions do
            for v in node.values:  # type: ignore[attr-defined]
                if type(v) is ast.FormattedValue:
                    self.expr(v.value, line, ann, text)
                    if v.format_spec is not None:
                        self.expr(v.format_spec, line, ann, text)
            return
        if t is ast.Call:
            self.call(node, line, ann, text)  # type: ignore[arg-type]
            return
        if t is ast.Dict and not ann:
            tables = {id(d) for d in logger_tables(node)}  # type: ignore[arg-type]
            for k, v in zip(node.keys, node.values):  # type: ignore[attr-defined]
                if k is not None:
                    self.expr(k, line, ann, text)
                if id(v) in tables:
                    self.logger_keys(v, line, text)  # type: ignore[arg-type]
                else:
                    self.expr(v, line, ann, text)
            return
        if t is ast.Subscript:
            value, index = node.value, node.slice  # type: ignore[attr-defined]
            self.expr(value, line, ann, text)
            if _is_sys_modules(value) and _is_str(index):
                self.string(index, line, True, text)
            elif ann and _is_literal(value):
                self.expr(index, line, False, text)
            else:
                self.expr(index, line, ann, text)
            return
        for child in ast.iter_child_nodes(node):
            self.expr(child, line, ann, text)

    def call(self, node: ast.Call, line: int, ann: bool, text: Text) -> None:
        func, args, keywords = node.func, node.args, node.keywords
        name = _func_name(func)
        skip_first = False
        if name is not None:
            if type(func) is ast.Name:
                self.calls.append((func, node, line, text, tuple(self.scopes)))
            if ((name in _LITERAL_ANY or (name in _LITERAL_BARE and type(func) is ast.Name))
                    and len(args) >= 2 and _is_str(args[1])
                    and args[1].value.isidentifier()):  # type: ignore[attr-defined]
                # ``getattr(x, "n")`` is the chain ``x.n``, one reference at its longest part
                parts = []
                n: ast.expr = args[0]
                while type(n) is ast.Attribute:
                    parts.append(n)
                    n = n.value  # type: ignore[attr-defined]
                if type(n) is ast.Name:
                    parts.reverse()
                    chain = [(p.attr, p) for p in parts] + [(args[1].value, node)]  # type: ignore[attr-defined]
                    if any(a in self.words for a, _ in chain):
                        self.chains.append((n, chain, line, text))  # type: ignore[arg-type]
                        self.needed.update(self.scopes)
                    skip_first = True
            if name in IMPORT_LIKE:
                if args and _is_str(args[0]):
                    self.string(args[0], line, True, text)
                    skip_first = True
                for k in keywords:
                    if k.arg in ("name", "target") and _is_str(k.value):
                        self.string(k.value, line, True, text)
            elif (name in _SYS_MODULES_METHODS and type(func) is ast.Attribute
                  and _is_sys_modules(func.value) and args and _is_str(args[0])):
                self.string(args[0], line, True, text)
                skip_first = True
            if name == "cast" and args:
                self.expr(func, line, ann, text)
                self.expr(args[0], line, True, text)
                for a in args[1:]:
                    self.expr(a, line, ann, text)
                for k in keywords:
                    self.expr(k.value, line, ann, text)
                return
            if name == "TypeVar":
                self.expr(func, line, ann, text)
                for a in args:
                    self.expr(a, line, ann, text)
                for k in keywords:
                    self.expr(k.value, line, ann or k.arg == "bound", text)
                return
        loggers = set() if ann else {id(n) for n in logger_names(node)}
        self.expr(func, line, ann, text)
        for i, a in enumerate(args):
            if i == 0 and skip_first:
                continue
            if id(a) in loggers:
                continue  # a logger's name
            self.expr(a, line, ann, text)
        for k in keywords:
            if k.arg in ("name", "target") and name in IMPORT_LIKE and _is_str(k.value):
                continue
            if id(k.value) in loggers:
                continue
            if k.arg == "loggers" and type(k.value) is ast.Dict and not ann:
                self.logger_keys(k.value, line, text)  # dict(loggers={...})
                continue
            self.expr(k.value, line, ann, text)

    def logger_keys(self, node: ast.Dict, line: int, text: Text) -> None:
        """The ``"loggers"`` table of a ``logging.config`` dictionary: its string keys are
        logger names; its values are read as any code."""
        for k, v in zip(node.keys, node.values):
            if k is not None and not _is_str(k):
                self.expr(k, line, False, text)
            self.expr(v, line, False, text)

    def string(self, node: ast.Constant, line: int, import_like: bool, text: Text) -> None:
        for e in self.matcher.for_string(node.value, import_like):
            self.hits.append(Hit(e, RefKind.STRING, text.line(node), line, text.text(node)))

    def annotation(self, node: ast.Constant, line: int, text: Text) -> None:
        """A string annotation, ``cast("...")`` or ``bound="..."``: the code inside."""
        code = node.value
        if not code.strip() or len(code) > 10_000:
            return
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # not code: not a reference either (an annotation is never a string)
        self.inner[id(node)] = tree.body
        inner = Text(Segments(code.strip().encode("utf-8", "surrogatepass")),
                      text.line(node))
        self.expr(tree.body, line, True, inner)
