"""What one file says, read with the stdlib parser (fast): its import bindings with
Python's scoping, the attribute chains that reach a declared entry through them, and the
names it uses. Plain data: the decisions (``plan``) and the rewrite (libcst) use it.

Scoping is flow-insensitive and therefore stricter than SPEC 5: a name that has any other
binding in its scope (an assignment, a parameter, a second import of something else) is
not resolved, so a chain through it is never rewritten (the scan still lists it).

Why a scope model of its own and not the scan's (``scan.analysis.Bindings``): the scan asks
"which imports can reach this use" (flow-sensitive, a set of values, for listing
references); the rewrite needs "the one import binding (its statement, its scope) this
name always is" so that the import and every use can move together. The scan's answer is
the wider one: where this model resolves a name to an import, the scan sees that import
and no other value there (``tests/test_scope_models.py`` pins it on a table and on
generated programs), and a chain is rewritten only where the scan lists it or its import.
Known places where this model is not yet the stricter one (pinned there as expected
failures): a walrus target in a comprehension, a class-body use before the class's own
binding, a ``nonlocal`` rebinding seen from a nested scope, and a ``global`` declaration
seen from a scope nested in its function.
"""

from __future__ import annotations

import ast
import re

from ..domain.refkind import Role
from ..scan.rules import Entry, Matcher
from ..scan.analysis import logger_names, logger_tables, resolve_relative
from .file_facts import Binding, Chain, Facts, span

__all__ = ["read_facts"]

# Calls that read or write ``x.n`` given as ``f(x, "n", ...)`` (SPEC 5 Chains).
_READ_BY_NAME = {"getattr"}
_WRITE_BY_NAME = {"setattr", "delattr", "hasattr", "object"}


class _Scope:
    __slots__ = ("kind", "parent", "names", "globals")

    def __init__(self, kind: str, parent: "_Scope | None") -> None:
        self.kind = kind
        self.parent = parent
        self.names: dict[str, list[Binding | None]] = {}  # None: a binding that is no import
        self.globals: set[str] = set()


def _dotted_parts(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return parts


class _Reader(ast.NodeVisitor):
    def __init__(self, package: str | None) -> None:
        self.package = package
        self.module_scope = _Scope("module", None)
        self.scope = self.module_scope
        self.uses: list[tuple[_Scope, ast.AST]] = []  # attribute chains and name calls
        self.facts = Facts()
        self.binding_count: dict[str, int] = {}
        self.alone: set[int] = set()  # statements that are the whole body of a block
        self.names: list[tuple[int, str]] = []  # every Name node: (id, name)
        self.top: set[int] = set()  # the module body's own statements
        self.code_string = 0  # inside an annotation: strings are code
        self.embedded: tuple[int, int] | None = None  # (line, column) of the string's code
        self.embedded_at: dict[int, tuple[int, int]] = {}
        self.embedded_text: dict[tuple[int, int], str] = {}
        self.source_lines: list[bytes] = []
        self.kept: list[ast.AST] = []  # the trees of string annotations, while ids count
        self.logger_names: set[int] = set()  # logger names: no reference (``_loggers``)

    # ------------------------------------------------------------------ bindings

    def _bind(self, name: str, binding: Binding | None, scope: _Scope | None = None) -> None:
        scope = scope or self.scope
        if name in scope.globals:
            scope = self.module_scope
        scope.names.setdefault(name, []).append(binding)
        self.facts.identifiers.add(name)
        self.binding_count[name] = self.binding_count.get(name, 0) + 1

    def _scope_kind(self) -> str:
        return self.scope.kind if self.scope.kind != "comprehension" else "function"

    def visit_Import(self, node: ast.Import) -> None:
        self.facts.imports[node.lineno] = (span(node), id(node) in self.alone)
        for alias in node.names:
            if alias.asname:
                b = Binding(alias.asname, alias.name, node.lineno, self._scope_kind(),
                            scope_id=id(self.scope), toplevel=id(node) in self.top)
            else:
                top = alias.name.partition(".")[0]
                b = Binding(top, top, node.lineno, self._scope_kind(),
                            plain=alias.name if "." in alias.name else None,
                            scope_id=id(self.scope), toplevel=id(node) in self.top)
            self._bind(b.local, b)
            self.facts.bindings.append(b)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.facts.imports[node.lineno] = (span(node), id(node) in self.alone)
        self.facts.from_imports.append((node.lineno, node.level, node.module,
                                        [a.name for a in node.names]))
        target = resolve_relative(node.level, node.module, self.package)
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            if target is None:
                self._bind(local, None)
                continue
            b = Binding(local, f"{target}.{alias.name}", node.lineno, self._scope_kind(),
                        from_import=True, scope_id=id(self.scope),
                        toplevel=id(node) in self.top)
            self._bind(local, b)
            self.facts.bindings.append(b)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)
        self.facts.identifiers.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for name in node.names:
            self._bind(name, None)

    def visit_Name(self, node: ast.Name) -> None:
        self.names.append((id(node), node.id))
        self.facts.identifiers.add(node.id)
        if isinstance(node.ctx, ast.Load):
            self.facts.loads[node.id] = self.facts.loads.get(node.id, 0) + 1
            if self.embedded is None:
                self.facts.name_spans.setdefault(node.id, []).append(span(node))
            else:  # a use inside a string: a rename would not reach it
                self.facts.in_strings.add(node.id)
        else:
            self._bind(node.id, None)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or id(node) in self.logger_names:
            return
        if self.code_string and self.embedded is None:
            self._embedded(node)
        elif self.embedded is None:
            self.facts.strings.append((span(node), node.value))

    # ------------------------------------------------------------------ code in strings

    def _code(self, node: ast.AST) -> None:
        """An annotation (or ``cast``'s type, a ``TypeVar`` bound): its strings are code."""
        self.code_string += 1
        self.visit(node)
        self.code_string -= 1

    def _embedded(self, node: ast.Constant) -> None:
        """A plain one-line string of code (``"wct.WebSocketManager"``): its chains are
        read in this scope, at their place inside the string."""
        if node.lineno != node.end_lineno or not self.source_lines:
            return
        line = self.source_lines[node.lineno - 1]
        raw = line[node.col_offset:node.end_col_offset]
        value = node.value
        if (len(raw) < 2 or raw[:1] not in (b"'", b'"') or raw[-1:] != raw[:1]
                or raw[1:-1] != value.encode("utf-8") or value != value.strip()):
            return
        try:
            expr = ast.parse(value, mode="eval")
        except (SyntaxError, ValueError):
            return
        # kept: the facts name nodes by ``id``, and a freed node's id is soon another's
        self.kept.append(expr)
        self.embedded = (node.lineno, node.col_offset + 1)
        self.embedded_text[self.embedded] = value
        self.visit(expr.body)
        self.embedded = None

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        self._code(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for v in node.values:  # its literal parts are not string literals of their own
            if isinstance(v, ast.FormattedValue):
                self.visit(v)

    def _function(self, node: ast.AST, name: str | None, args: ast.arguments,
                  body: list[ast.stmt] | ast.expr) -> None:
        for d in getattr(node, "decorator_list", ()):
            self.visit(d)
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.visit(default)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self._code(a.annotation)
        returns = getattr(node, "returns", None)
        if returns is not None:
            self._code(returns)
        if name is not None:
            self._bind(name, None)
        outer, self.scope = self.scope, _Scope("function", self.scope)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                self._bind(a.arg, None)
        for stmt in (body if isinstance(body, list) else [body]):
            self.visit(stmt)
        self.scope = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name, node.args, node.body)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node, node.name, node.args, node.body)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, None, node.args, node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for d in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(d)
        self._bind(node.name, None)
        outer, self.scope = self.scope, _Scope("class", self.scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scope = outer

    def _comprehension(self, node: ast.AST, elts: list[ast.expr]) -> None:
        gens = node.generators  # type: ignore[attr-defined]
        self.visit(gens[0].iter)
        outer, self.scope = self.scope, _Scope("comprehension", self.scope)
        for i, g in enumerate(gens):
            if i:
                self.visit(g.iter)
            self.visit(g.target)
            for cond in g.ifs:
                self.visit(cond)
        for e in elts:
            self.visit(e)
        self.scope = outer

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp  # type: ignore[assignment]
    visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        """PEP 572: a walrus target binds in the nearest scope that is no comprehension."""
        self.visit(node.value)
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        self.names.append((id(node.target), node.target.id))
        self._bind(node.target.id, None, scope)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name, None)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._bind(node.name, None)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._bind(node.name, None)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self._bind(node.rest, None)
        self.generic_visit(node)

    # ------------------------------------------------------------------ uses

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.uses.append((self.scope, node))
        if self.embedded is not None:
            self.embedded_at[id(node)] = self.embedded
        self.generic_visit(node)

    def _loggers(self, node: ast.Dict | ast.Call) -> None:
        """Strings that name a logger (the scan's rule, ``scan.analysis.logger_names``):
        no reference, never rewritten, whatever module they spell. Not in annotations."""
        if not self.code_string:
            calls = logger_names(node) if isinstance(node, ast.Call) else []
            keys = [k for table in logger_tables(node) for k in table.keys]
            self.logger_names.update(id(n) for n in (*calls, *keys))

    def visit_Dict(self, node: ast.Dict) -> None:
        self._loggers(node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if self.embedded is None:
            self.uses.append((self.scope, node))
        self._loggers(node)
        fname = (node.func.id if isinstance(node.func, ast.Name)
                 else node.func.attr if isinstance(node.func, ast.Attribute) else "")
        if fname == "cast" and node.args:
            self.visit(node.func)
            self._code(node.args[0])
            for a in (*node.args[1:], *node.keywords):
                self.visit(a)
            return
        if fname == "TypeVar":
            self.visit(node.func)
            for a in node.args:
                self.visit(a)
            for k in node.keywords:
                self._code(k.value) if k.arg == "bound" else self.visit(k)
            return
        self.generic_visit(node)


def _alone(body: list[ast.stmt], out: set[int], top: bool = False) -> None:
    """Statements that are a block's whole body (removing one must leave a ``pass``)."""
    if len(body) == 1 and not top:
        out.add(id(body[0]))
    for stmt in body:
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                _alone(inner, out)
        for h in getattr(stmt, "handlers", ()):
            _alone(h.body, out)
        for case in getattr(stmt, "cases", ()):
            _alone(case.body, out)


def _resolve(name: str, scope: _Scope, module_scope: _Scope) -> Binding | None:
    s: _Scope | None = module_scope if name in scope.globals else scope
    first = True
    while s is not None:
        if s.kind == "class" and not first:
            s = s.parent
            continue
        first = False
        found = s.names.get(name)
        if found:
            if len(found) == 1 and found[0] is not None:
                return found[0]
            imports = [b for b in found if b is not None]
            # ``import a.b`` and ``import a.c`` both bind ``a``: the same object
            if len(imports) == len(found) and all(
                    b.qualified == imports[0].qualified for b in imports):
                return imports[0]
            return None
        s = s.parent
    return None


def _qualified(parts: list[str], b: Binding) -> list[str]:
    return [*b.qualified.split("."), *parts[1:]]


def _entry(matcher: Matcher, qparts: list[str], minimum: int
           ) -> tuple[Entry, int, bool] | None:
    """The longest prefix of ``qparts`` (at least ``minimum`` parts) that is a declared
    entry: ``(entry, parts, is attribute entry)``; canonical entries end the search."""
    for n in range(len(qparts), minimum - 1, -1):
        dotted = ".".join(qparts[:n])
        for e in matcher.attr_entries.get(dotted, ()):
            return (e, n, True)
        for e in matcher.module_entries.get(dotted, ()):
            return (e, n, False)
    return None


def _own(matcher: Matcher, qparts: list[str], base: int) -> tuple[Entry, int, bool] | None:
    """The binding itself names a legacy module (``import a.legacy as x``): a chain
    ``x.N`` reaches ``a.legacy.N`` (``None`` otherwise)."""
    if base < 1 or base >= len(qparts):
        return None
    for e in matcher.module_entries.get(".".join(qparts[:base]), ()):
        if e.role == Role.LEGACY:
            return (e, base, False)
    return None


def read_facts(tree: ast.Module, matcher: Matcher, package: str | None,
               source: bytes = b"") -> Facts:
    """The facts of one parsed file (``source``: its bytes, to read string annotations;
    only UTF-8 sources, where ``ast``'s columns are the bytes' own)."""
    reader = _Reader(package)
    if source and (source.isascii() or not re.search(rb"coding[:=]", source[:300])):
        reader.source_lines = re.findall(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", source)
    _alone(tree.body, reader.alone, top=True)
    reader.top = {id(stmt) for stmt in tree.body}
    reader.visit(tree)
    facts = reader.facts

    facts.counts = reader.binding_count
    # names bound once in the whole file, by an import (safe to rename everywhere)
    for b in facts.bindings:
        if reader.binding_count.get(b.local) == 1:
            facts.sole[b.local] = b

    # only the outermost attribute of a chain is analysed (it holds the inner ones)
    inner = {id(n.value) for _s, n in reader.uses if isinstance(n, ast.Attribute)}
    stores = {id(n) for _s, n in reader.uses
              if isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load)}
    call_funcs = {id(n.func) for _s, n in reader.uses if isinstance(n, ast.Call)}
    # the literal-name forms first (their object is part of their reference)
    as_args, arg_names = _literal_name_chains(reader, matcher)
    _name_uses(reader, arg_names)
    _attribute_chains(reader, matcher, inner, stores, call_funcs, as_args)
    facts.chains.sort(key=lambda c: (c.span, c.line))
    return facts


def _literal_name_chains(reader: _Reader, matcher: Matcher
                         ) -> tuple[set[int], dict[int, tuple[str, str]]]:
    """The literal-name forms (``getattr(x, "N")``, ``setattr``, ``patch.object``...) as
    chains: ``(ids of their object nodes, {id of a bare name object: (it, literal)})``."""
    facts = reader.facts
    module_scope = reader.module_scope
    # their object (``setattr(a.legacy, "X", v)``) is part of that reference, not a
    # chain of its own
    as_args: set[int] = set()
    arg_names: dict[int, tuple[str, str]] = {}  # id of a bare name object -> (it, literal)
    for scope, node in reader.uses:
        if isinstance(node, ast.Call):
            fname = (node.func.id if isinstance(node.func, ast.Name)
                     else node.func.attr if isinstance(node.func, ast.Attribute) else None)
            if fname not in _READ_BY_NAME | _WRITE_BY_NAME or len(node.args) < 2:
                continue
            if isinstance(node.func, ast.Name) and _resolve(fname, scope, module_scope):
                continue  # a local getattr: not the builtin
            obj, name = node.args[0], node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)
                    and name.value.isidentifier()):
                continue
            parts = _dotted_parts(obj)
            if parts is None:
                continue
            b = _resolve(parts[0], scope, module_scope)
            if b is None:
                continue
            q = [*_qualified(parts, b), name.value]
            base = len(q) - len(parts)  # parts of q that the binding stands for
            found = _entry(matcher, q, base + 1) or _own(matcher, q, base)
            if found is None or found[0].role == Role.CANONICAL:
                continue
            entry, n, is_attr = found
            # the entry must end at the literal name or right before it; one inside the
            # object (``patch.object(x.A, "send")``) is the chain ``x.A``'s own reference
            if is_attr:
                if n != len(q):
                    continue
                module, attr = ".".join(q[: n - 1]), q[n - 1]
            elif n == len(q):
                module, attr = ".".join(q), None
            elif n == len(q) - 1:
                module, attr = ".".join(q[:n]), q[n]
            else:
                continue
            if fname in _READ_BY_NAME:
                form = "getattr"
            elif fname in ("object", "setattr") and isinstance(node.func, ast.Attribute):
                form = "patch"  # patch.object / monkeypatch.setattr: restored after the test
            else:
                form = "namespace-write"
            text = f"{fname}({'.'.join(parts)},{name.value})"
            facts.chains.append(Chain(node.lineno, text, form, False, entry, module, attr, b,
                                      span=span(node), args=(span(obj), span(name))))
            as_args.add(id(obj))
            if isinstance(obj, ast.Name):
                arg_names[id(obj)] = (obj.id, name.value)
    return as_args, arg_names


def _name_uses(reader: _Reader, arg_names: dict[int, tuple[str, str]]) -> None:
    """``facts.uses``: per local name, the attributes read through it (``None``: also
    used bare)."""
    facts = reader.facts
    # crude per-name uses (whole file, no scoping): what `import M as x` may keep
    attrs: dict[str, set[str]] = {}
    named: set[int] = set()
    for obj_id, (local, literal) in arg_names.items():  # setattr(x, "n", v): x.n
        attrs.setdefault(local, set()).add(literal)
        named.add(obj_id)
    for _scope, node in reader.uses:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attrs.setdefault(node.value.id, set()).add(node.attr)
            named.add(id(node.value))
    bare = {name for nid, name in reader.names if nid not in named}
    facts.uses = {k: v for k, v in attrs.items() if k not in bare}
    for name in bare:
        facts.uses[name] = None


def _attribute_chains(reader: _Reader, matcher: Matcher, inner: set[int], stores: set[int],
                      call_funcs: set[int], as_args: set[int]) -> None:
    """The outermost attribute chains that reach a declared non-canonical entry."""
    facts = reader.facts
    module_scope = reader.module_scope
    for scope, node in reader.uses:
        if isinstance(node, ast.Attribute):
            parts = _dotted_parts(node)
            if parts is None or id(node) in inner or id(node) in as_args:
                continue
            b = _resolve(parts[0], scope, module_scope)
            if b is None:
                continue
            q = _qualified(parts, b)
            base = len(q) - (len(parts) - 1)  # parts of q that the binding stands for
            found = _entry(matcher, q, base + 1) or _own(matcher, q, base)
            if found is None:
                continue
            entry, n, is_attr = found
            if entry.role == Role.CANONICAL:
                continue
            if is_attr:
                cut, attr = n, q[n - 1]
                module = ".".join(q[: n - 1])
            elif n < len(q):
                cut, attr, module = n + 1, q[n], ".".join(q[:n])
            else:
                cut, attr, module = n, None, ".".join(q[:n])
            keep = cut - base  # attributes of the source chain inside the replaced part
            text = ".".join(parts[: keep + 1])
            target = node
            for _ in range(len(parts) - 1 - keep):
                target = target.value  # type: ignore[assignment]
            where = span(target)
            embedded = reader.embedded_at.get(id(node))
            if embedded is not None:
                if target.lineno != 1 or target.end_lineno != 1:  # type: ignore[attr-defined]
                    continue
                inside = reader.embedded_text.get(embedded, "")
                if inside[target.col_offset:target.end_col_offset] != text:  # type: ignore[attr-defined]
                    continue  # ``"wct . X"``: not edited inside the string
                where = (embedded[0], embedded[1] + target.col_offset, embedded[0],
                         embedded[1] + target.end_col_offset)  # type: ignore[attr-defined]
            facts.chains.append(Chain(embedded[0] if embedded else node.lineno, text,
                                      "chain", id(target) in stores, entry, module, attr, b,
                                      called=id(target) in call_funcs, span=where,
                                      embedded=embedded is not None))
