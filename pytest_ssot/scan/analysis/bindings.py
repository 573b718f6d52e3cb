"""Pass 2 of the analysis: Python's scoping, as the public scope model (``Scope``,
``Bindings``): which import bindings of some names can be in effect at each use."""

from __future__ import annotations

import ast
from typing import Any, Callable

from .names import COMPREHENSIONS, DEFS, TRIES, import_bindings

__all__ = ["Bindings", "Scope", "reaching"]

_UNBOUND = "<unbound>"


class Scope:
    """One scope of the file: its local names (among the tracked ones), those it declares
    ``global`` or ``nonlocal``, and every value each local name is ever bound to."""

    __slots__ = ("kind", "parent", "locals", "globals", "nonlocals", "every")

    def __init__(self, kind: str, parent: "Scope | None") -> None:
        self.kind = kind  # module | function | class | comprehension
        self.parent = parent
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.every: dict[str, set] = {}  # every value each local name is ever bound to


class Bindings:
    """Pass 2: which import bindings of the tracked names can be in effect at each use.

    Python's scoping, as ruff's semantic model follows it: in the use's own scope, the
    bindings that reach it on some path (both branches of an ``if``, the ``try`` and the
    ``except`` of a ``try``, a loop's body again); a name not bound in its own scope is
    looked up in the enclosing function scopes and the module, where any binding counts;
    class bodies are skipped by the scopes nested in them (methods, comprehensions but
    their first iterable). A value is ``(qualified name, from-import)`` for an import,
    ``None`` for any other binding.
    """

    def __init__(self, tracked: set[str], package: str | None, inner: dict[int, ast.expr],
                 needed: set[int] | None) -> None:
        """``needed``: the defs and classes to walk (those around a use that matters, or
        declaring a name global or nonlocal); any other one binds only its own names."""
        self.tracked = tracked
        self.needed = needed
        self.skip: Callable[[ast.stmt], bool] | None = None
        self.package = package
        self.inner = inner
        self.seen: dict[int, set] = {}
        self.pending: list[tuple[ast.AST, Scope]] = []
        self.module: Scope | None = None

    # ------------------------------------------------------------------ scopes

    def run(self, tree: ast.Module) -> None:
        scope = Scope("module", None)
        self.module = scope
        self.declare(scope, tree.body)
        self.block(tree.body, {}, scope)
        done: set[int] = set()
        while self.pending:
            node, parent = self.pending.pop(0)
            if id(node) in done:
                continue
            done.add(id(node))
            self.enter(node, parent)

    def enter(self, node: ast.AST, parent: Scope) -> None:
        """Walk a deferred scope: a function, a lambda, a class body, a comprehension."""
        t = type(node)
        if t is ast.ClassDef:
            scope = Scope("class", parent)
            self.declare(scope, node.body)  # type: ignore[attr-defined]
            self.block(node.body, {}, scope)  # type: ignore[attr-defined]
            return
        if t in COMPREHENSIONS:
            scope = Scope("comprehension", parent)
            gens = node.generators  # type: ignore[attr-defined]
            for g in gens:
                self.declare_target(scope, g.target)
            state: dict[str, set] = {}
            for i, g in enumerate(gens):
                if i > 0:
                    self.expr(g.iter, state, scope)
                self.target(g.target, state, scope)
                for cond in g.ifs:
                    self.expr(cond, state, scope)
            if t is ast.DictComp:
                self.expr(node.key, state, scope)  # type: ignore[attr-defined]
                self.expr(node.value, state, scope)  # type: ignore[attr-defined]
            else:
                self.expr(node.elt, state, scope)  # type: ignore[attr-defined]
            return
        scope = Scope("function", parent)
        args = node.args  # type: ignore[attr-defined]
        params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                  args.vararg, args.kwarg) if a is not None]
        body = node.body if t is not ast.Lambda else [ast.Expr(node.body)]  # type: ignore[attr-defined]
        self.declare(scope, body)
        state = {}
        for p in params:
            if p in self.tracked:
                scope.locals.add(p)
                self.bind(p, None, state, scope)
        self.block(body, state, scope)

    def declare(self, scope: Scope, body: list[ast.stmt]) -> None:
        """The scope's local names among the tracked ones, and its global/nonlocal ones.
        A statement that spells no tracked name binds none (``skip``)."""
        tracked = self.tracked
        skip = self.skip
        stack: list[ast.AST] = list(body) if skip is None else [
            st for st in body if not skip(st)]
        while stack:
            n = stack.pop()
            t = type(n)
            if t is ast.Name:
                if n.id in tracked and type(n.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    scope.locals.add(n.id)  # type: ignore[attr-defined]
                continue
            if t is ast.Global or t is ast.Nonlocal:
                for name in n.names:  # type: ignore[attr-defined]
                    (scope.globals if t is ast.Global else scope.nonlocals).add(name)
                continue
            if t is ast.Import or t is ast.ImportFrom:
                for name, _v in import_bindings(n, self.package):  # type: ignore[arg-type]
                    if name in tracked:
                        scope.locals.add(name)
                continue
            if t in DEFS:
                if n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
                stack.extend(n.decorator_list)  # type: ignore[attr-defined]
                if t is ast.ClassDef:
                    stack.extend(n.bases)  # type: ignore[attr-defined]
                    stack.extend(k.value for k in n.keywords)  # type: ignore[attr-defined]
                else:
                    stack.append(n.args)  # type: ignore[attr-defined]
                    if n.returns is not None:  # type: ignore[attr-defined]
                        stack.append(n.returns)  # type: ignore[attr-defined]
                continue
            if t is ast.arguments:  # of a def seen above: defaults and annotations
                stack.extend(d for d in (*n.defaults, *n.kw_defaults) if d is not None)  # type: ignore[attr-defined]
                continue
            if t is ast.Lambda:
                stack.append(n.args)  # type: ignore[attr-defined]
                continue
            if t in COMPREHENSIONS:
                stack.append(n.generators[0].iter)  # type: ignore[attr-defined]
                for w in ast.walk(n):  # a walrus inside binds in this scope
                    if type(w) is ast.NamedExpr and w.target.id in tracked:  # type: ignore[attr-defined]
                        scope.locals.add(w.target.id)  # type: ignore[attr-defined]
                continue
            if t is ast.ExceptHandler:
                if n.name and n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
            elif t is ast.MatchAs or t is ast.MatchStar:
                if n.name and n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping:
                if n.rest and n.rest in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.rest)  # type: ignore[attr-defined]
            stack.extend(ast.iter_child_nodes(n))
        scope.locals -= scope.globals | scope.nonlocals

    def declare_target(self, scope: Scope, target: ast.AST) -> None:
        for n in ast.walk(target):
            if type(n) is ast.Name and n.id in self.tracked:
                scope.locals.add(n.id)

    # ------------------------------------------------------------------ bindings

    def owner(self, name: str, scope: Scope) -> Scope | None:
        """The scope a binding of ``name`` in ``scope`` binds in."""
        if name in scope.globals:
            return self.module
        if name in scope.nonlocals:
            s = scope.parent
            while s is not None and (s.kind == "class" or name not in s.locals):
                s = s.parent
            return s
        return scope

    def bind(self, name: str, value: Any, state: dict[str, set], scope: Scope) -> None:
        if name not in self.tracked:
            return
        owner = self.owner(name, scope)
        if owner is None:
            return
        owner.every.setdefault(name, set()).add(value)
        if owner is scope:
            state[name] = {value}

    def lookup(self, name: str, state: dict[str, set], scope: Scope) -> set:
        if name in scope.globals:
            return self.module.every.get(name, set())  # type: ignore[union-attr]
        if name in scope.nonlocals:
            return self.enclosing(name, scope.parent)
        if name in scope.locals:
            values = state.get(name, {_UNBOUND})
            if _UNBOUND in values:
                values = values - {_UNBOUND}
                if scope.kind == "class":  # a class body falls back to the module
                    values = values | self.enclosing(name, scope.parent)
            return values
        if scope.kind == "module":
            return set()
        return self.enclosing(name, scope.parent)

    def enclosing(self, name: str, scope: Scope | None) -> set:
        while scope is not None:
            if scope.kind != "class":
                if name in scope.globals:
                    return self.module.every.get(name, set())  # type: ignore[union-attr]
                if name in scope.locals or scope.kind == "module":
                    return scope.every.get(name, set())
            scope = scope.parent
        return set()

    # ------------------------------------------------------------------ flow

    def block(self, body: list[ast.stmt], state: dict[str, set], scope: Scope
              ) -> dict[str, set]:
        skip = self.skip
        for stmt in body:
            if skip is not None and skip(stmt):
                continue  # binds and uses none of the tracked names
            state = self.stmt(stmt, state, scope)
        return state

    @staticmethod
    def join(*states: dict[str, set]) -> dict[str, set]:
        out: dict[str, set] = {}
        names = set().union(*states)
        for name in names:
            merged: set = set()
            for s in states:
                merged |= s.get(name, {_UNBOUND})
            out[name] = merged
        return out

    def stmt(self, stmt: ast.stmt, state: dict[str, set], scope: Scope) -> dict[str, set]:
        t = type(stmt)
        if t is ast.Import or t is ast.ImportFrom:
            for name, value in import_bindings(stmt, self.package):  # type: ignore[arg-type]
                self.bind(name, value, state, scope)
            return state
        if t in DEFS:
            return self.definition(stmt, t, state, scope)
        if t is ast.Assign:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            for target in stmt.targets:  # type: ignore[attr-defined]
                self.target(target, state, scope)
            return state
        if t is ast.AugAssign:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            self.expr(stmt.target, state, scope)  # type: ignore[attr-defined]
            self.target(stmt.target, state, scope)  # type: ignore[attr-defined]
            return state
        if t is ast.AnnAssign:
            self.expr(stmt.annotation, state, scope)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
                self.target(stmt.target, state, scope)  # type: ignore[attr-defined]
            elif type(stmt.target) is not ast.Name:  # type: ignore[attr-defined]
                self.expr(stmt.target, state, scope)  # type: ignore[attr-defined]
            return state
        if t is ast.If:
            self.expr(stmt.test, state, scope)  # type: ignore[attr-defined]
            a = self.block(stmt.body, dict(state), scope)  # type: ignore[attr-defined]
            b = self.block(stmt.orelse, dict(state), scope)  # type: ignore[attr-defined]
            return self.join(a, b)
        if t is ast.For or t is ast.AsyncFor or t is ast.While:
            return self.loop(stmt, t, state, scope)
        if t is ast.With or t is ast.AsyncWith:
            for item in stmt.items:  # type: ignore[attr-defined]
                self.expr(item.context_expr, state, scope)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, state, scope)
            return self.block(stmt.body, state, scope)  # type: ignore[attr-defined]
        if t in TRIES:
            return self.attempt(stmt, state, scope)
        if t is ast.Match:
            return self.match(stmt, state, scope)
        if t is ast.Delete:
            return self.delete(stmt, state, scope)
        if t is ast.Global or t is ast.Nonlocal:
            return state
        if getattr(ast, "TypeAlias", None) is t:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            self.target(stmt.name, state, scope)  # type: ignore[attr-defined]
            return state
        for child in ast.iter_child_nodes(stmt):
            self.expr(child, state, scope)
        return state

    def definition(self, stmt: ast.stmt, t: type, state: dict[str, set], scope: Scope
                   ) -> dict[str, set]:
        """A def or a class: its header is evaluated here, its body later (``pending``)."""
        for d in stmt.decorator_list:  # type: ignore[attr-defined]
            self.expr(d, state, scope)
        if t is ast.ClassDef:
            for b in stmt.bases:  # type: ignore[attr-defined]
                self.expr(b, state, scope)
            for k in stmt.keywords:  # type: ignore[attr-defined]
                self.expr(k.value, state, scope)
        else:
            self.signature(stmt.args, state, scope)  # type: ignore[attr-defined]
            if stmt.returns is not None:  # type: ignore[attr-defined]
                self.expr(stmt.returns, state, scope)  # type: ignore[attr-defined]
        if self.needed is None or id(stmt) in self.needed:
            self.pending.append((stmt, scope))
        self.bind(stmt.name, None, state, scope)  # type: ignore[attr-defined]
        return state

    def loop(self, stmt: ast.stmt, t: type, state: dict[str, set], scope: Scope
             ) -> dict[str, set]:
        """``for``, ``async for``, ``while``: the body twice, then the ``else``."""
        if t is not ast.While:
            self.expr(stmt.iter, state, scope)  # type: ignore[attr-defined]
        head = state
        for _pass in range(2):  # the second pass sees what the body binds for the next
            if t is ast.While:
                self.expr(stmt.test, head, scope)  # type: ignore[attr-defined]
            inner = dict(head)
            if t is not ast.While:
                self.target(stmt.target, inner, scope)  # type: ignore[attr-defined]
            end = self.block(stmt.body, inner, scope)  # type: ignore[attr-defined]
            head = self.join(state, end)
        return self.block(stmt.orelse, head, scope)  # type: ignore[attr-defined]

    def attempt(self, stmt: ast.stmt, state: dict[str, set], scope: Scope) -> dict[str, set]:
        """``try``: a handler may start after any statement of the body."""
        seen = dict(state)
        current = dict(state)
        for s in stmt.body:  # type: ignore[attr-defined]
            current = self.stmt(s, current, scope)
            seen = self.join(seen, current)
        ends = [self.block(stmt.orelse, current, scope)]  # type: ignore[attr-defined]
        for h in stmt.handlers:  # type: ignore[attr-defined]
            hs = dict(seen)
            if h.type is not None:
                self.expr(h.type, hs, scope)
            if h.name:
                self.bind(h.name, None, hs, scope)
            hs = self.block(h.body, hs, scope)
            if h.name and h.name in self.tracked and self.owner(h.name, scope) is scope:
                hs[h.name] = {_UNBOUND}  # deleted at the handler's end
            ends.append(hs)
        after = self.join(*ends)
        if stmt.finalbody:  # type: ignore[attr-defined]
            after = self.block(stmt.finalbody, self.join(after, seen), scope)  # type: ignore[attr-defined]
        return after

    def match(self, stmt: ast.stmt, state: dict[str, set], scope: Scope) -> dict[str, set]:
        self.expr(stmt.subject, state, scope)  # type: ignore[attr-defined]
        ends = [state]
        for case in stmt.cases:  # type: ignore[attr-defined]
            cs = dict(state)
            self.pattern(case.pattern, cs, scope)
            if case.guard is not None:
                self.expr(case.guard, cs, scope)
            ends.append(self.block(case.body, cs, scope))
        return self.join(*ends)

    def delete(self, stmt: ast.stmt, state: dict[str, set], scope: Scope) -> dict[str, set]:
        for target in stmt.targets:  # type: ignore[attr-defined]
            if type(target) is ast.Name:
                if target.id in self.tracked and self.owner(target.id, scope) is scope:
                    state[target.id] = {_UNBOUND}
            else:
                self.expr(target, state, scope)
        return state

    def signature(self, args: ast.arguments, state: dict[str, set], scope: Scope) -> None:
        for d in (*args.defaults, *args.kw_defaults):
            if d is not None:
                self.expr(d, state, scope)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self.expr(a.annotation, state, scope)

    def target(self, node: ast.AST, state: dict[str, set], scope: Scope) -> None:
        """An assignment target: names are bound (to no module), the rest is evaluated."""
        t = type(node)
        if t is ast.Name:
            self.bind(node.id, None, state, scope)  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            for e in node.elts:  # type: ignore[attr-defined]
                self.target(e, state, scope)
        elif t is ast.Starred:
            self.target(node.value, state, scope)  # type: ignore[attr-defined]
        else:
            self.expr(node, state, scope)

    def pattern(self, node: ast.AST, state: dict[str, set], scope: Scope) -> None:
        for n in ast.walk(node):
            t = type(n)
            if (t is ast.MatchAs or t is ast.MatchStar) and n.name:  # type: ignore[attr-defined]
                self.bind(n.name, None, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping and n.rest:  # type: ignore[attr-defined]
                self.bind(n.rest, None, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchValue or t is ast.MatchClass:
                self.expr(n.value if t is ast.MatchValue else n.cls, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping:
                for k in n.keys:  # type: ignore[attr-defined]
                    self.expr(k, state, scope)

    def expr(self, node: ast.AST, state: dict[str, set], scope: Scope) -> None:
        stack = [node]
        tracked = self.tracked
        while stack:
            n = stack.pop()
            t = type(n)
            if t is ast.Name:
                if n.id in tracked and type(n.ctx) is ast.Load:  # type: ignore[attr-defined]
                    self.seen.setdefault(id(n), set()).update(self.lookup(n.id, state, scope))  # type: ignore[attr-defined]
                continue
            if t is ast.Constant:
                inner = self.inner.get(id(n))
                if inner is not None:
                    stack.append(inner)
                continue
            if t is ast.NamedExpr:
                self.expr(n.value, state, scope)  # type: ignore[attr-defined]
                self.bind(n.target.id, None, state, scope)  # type: ignore[attr-defined]
                continue
            if t is ast.Lambda:
                self.signature(n.args, state, scope)  # type: ignore[attr-defined]
                self.pending.append((n, scope))
                continue
            if t in COMPREHENSIONS:
                self.expr(n.generators[0].iter, state, scope)  # type: ignore[attr-defined]
                for w in ast.walk(n):  # a walrus inside binds in this scope
                    if type(w) is ast.NamedExpr:
                        self.bind(w.target.id, None, state, scope)  # type: ignore[attr-defined]
                self.pending.append((n, scope))
                continue
            stack.extend(ast.iter_child_nodes(n))


def reaching(tree: ast.Module, names: set[str], package: str | None
             ) -> dict[int, set]:
    """The scope model's answer for a whole file: ``{id(Name load): values}`` for every
    load of one of ``names``, each value ``(qualified name, from-import)`` for an import
    binding that can be in effect there, ``None`` for any other binding. (String
    annotations are not read here; the scan's ``Reader`` hands them over as ``inner``.)"""
    bindings = Bindings(set(names), package, {}, None)
    bindings.run(tree)
    return bindings.seen
