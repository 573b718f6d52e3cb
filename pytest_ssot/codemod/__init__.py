"""``pytest-ssot fix``: rewrite references to legacy paths into the canonical path.

Only what can be proven equivalent is rewritten, and the proof is the probes' identity
facts, never a guess by name: ``from legacy import X`` becomes ``from canonical_module
import Y as X`` only when, in a fresh interpreter, ``legacy.X is canonical_module.Y``.
Everything else the scan reports is listed, untouched, with the reason.

The scan decides *where* (its violations, so pragmas and exclusions agree); libcst does
the rewriting, so every untouched byte stays as it was. Imported only by the command.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .._atomic import write_atomic
from ..config import Contract, SsotConfig
from ..paths import SsotPath
from ..probe import run_tasks
from ..scan import ScanResult, Violation, scan
from ..scan.files import module_name
from ..scan.source import _resolve_relative

__all__ = ["FixResult", "Unsafe", "fix"]


@dataclass(frozen=True)
class Unsafe:
    file: str
    line: int
    reason: str


@dataclass
class FixResult:
    changed: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # rel: (old, new)
    unsafe: list[Unsafe] = field(default_factory=list)
    errors: list[Unsafe] = field(default_factory=list)
    rewritten: int = 0

    def diff(self) -> str:
        out = []
        for rel, (old, new) in sorted(self.changed.items()):
            out.extend(difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{rel}", tofile=f"b/{rel}"))
        return "".join(out)


class _Identity:
    """Answers "which names of the canonical module are the object ``M.X``?" in batches."""

    def __init__(self, sys_path: Sequence[str], timeout: float) -> None:
        self.sys_path = list(sys_path)
        self.timeout = timeout
        self.answers: dict[tuple[str, str, str], list[str] | str] = {}

    def ask(self, queries: Iterable[tuple[str, str, str]]) -> None:
        todo = sorted({q for q in queries if q not in self.answers})
        tasks = [{"kind": "same", "module": m, "attr": a, "target": t, "preimport": ""}
                 for m, a, t in todo]
        for q, answer in zip(todo, run_tasks(tasks, sys_path=self.sys_path,
                                              timeout=self.timeout)):
            if "died" in answer:
                self.answers[q] = answer["died"]
            elif "error" in answer:
                self.answers[q] = answer["error"]
            else:
                self.answers[q] = answer["names"]

    def same(self, module: str, attr: str, target: str, prefer: Sequence[str]
             ) -> tuple[str | None, str]:
        """``(name in target, "")`` or ``(None, why not)``."""
        got = self.answers.get((module, attr, target))
        if got is None:
            return None, f"internal: no identity fact for {module}.{attr}"
        if isinstance(got, str):
            return None, f"{module}.{attr} does not resolve to a comparable object: {got}"
        if not got:
            return None, f"{module}.{attr} is not any object of {target}"
        for name in prefer:
            if name in got:
                return name, ""
        return got[0], ""


def _dotted(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise ValueError(node)


def _alias_names(node: cst.ImportFrom) -> list[tuple[str, str]] | None:
    if isinstance(node.names, cst.ImportStar):
        return None
    out = []
    for alias in node.names:
        name = _dotted(alias.name)
        local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
        out.append((name, local))
    return out


def _alias(name: str, local: str) -> cst.ImportAlias:
    if name == local:
        return cst.ImportAlias(name=cst.Name(name))
    return cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(name=cst.Name(local)))


class _Plan:
    """What to do with one file: decided first (needs identity answers), applied second."""

    def __init__(self, rel: str, module: str | None, is_package: bool,
                 violations: list[Violation], contracts: dict[str, Contract]) -> None:
        self.rel = rel
        self.package = module if is_package else (module.rpartition(".")[0] if module else None)
        self.lines = {}
        for v in violations:
            self.lines.setdefault(v.line, []).append(v)
        self.contracts = contracts


class _Rewriter(cst.CSTTransformer):
    """Applies the proven rewrites at the scan's violation lines; records the rest."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, plan: _Plan, identity: _Identity,
                 uses: dict[str, set[str] | None]) -> None:
        super().__init__()
        self.plan = plan
        self.identity = identity
        self.unsafe: list[Unsafe] = []
        self.rewritten = 0
        self.handled: set[tuple[int, str]] = set()
        self._uses = uses
        self._extra: list[cst.SimpleStatementLine] = []
        self._function_depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef
                          ) -> cst.FunctionDef:
        self._function_depth -= 1
        return updated

    # ------------------------------------------------------------------ helpers

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _violations(self, node: cst.CSTNode, kind: str) -> list[Violation]:
        """The scan's violations of this kind at the line where ``node`` starts."""
        return [v for v in self.plan.lines.get(self._line(node), []) if v.kind == kind]

    def _flag(self, line: int, reason: str, path: str) -> None:
        if (line, path) in self.handled:
            return
        self.handled.add((line, path))
        self.unsafe.append(Unsafe(self.plan.rel, line, reason))

    def _canonical_module(self, v: Violation) -> tuple[str, str]:
        c = self.plan.contracts[v.contract].canonical
        return c.module, (c.attr or c.module.rpartition(".")[2])

    def _resolve(self, module: str, attr: str, v: Violation, local: str
                 ) -> tuple[str | None, str]:
        cmod, cname = self._canonical_module(v)
        return self.identity.same(module, attr, cmod, prefer=[attr, cname, local])

    # ------------------------------------------------------------------ from-imports

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine
                                  ) -> cst.SimpleStatementLine | cst.FlattenSentinel:
        if self._extra:
            extra, self._extra = self._extra, []
            return cst.FlattenSentinel([updated, *extra])
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom
                         ) -> cst.ImportFrom:
        hits = self._violations(original, "import")
        if not hits:
            return updated
        line = self._line(original)
        level = len(original.relative)
        target = _resolve_relative(level, _dotted(original.module) or None, self.plan.package)
        names = _alias_names(original)
        if target is None:
            return updated
        if names is None:
            for v in hits:
                self._flag(line, f"`from {target} import *` of a legacy path: list the names "
                                 "you need from the canonical module by hand", v.path)
            return updated
        factories = [v for v in hits if v.role == "factory"]
        for v in factories:
            self._flag(line, f"{v.path} is a deprecated factory: its calls must be replaced "
                             f"by hand (a factory is not {v.fix})", v.path)
        movable: dict[int, tuple[str, str]] = {}  # alias index -> (canonical module, name)
        blocked: list[str] = []
        for i, (name, local) in enumerate(names):
            full = f"{target}.{name}"
            for v in hits:
                if v.role != "legacy":
                    continue
                p = v.path
                if ":" in p:  # an attribute entry: from P import A
                    mod, attr = p.split(":")
                    if (mod, attr) != (target, name):
                        continue
                    got, why = self._resolve(mod, attr, v, local)
                elif target == p or target.startswith(p + "."):  # from L import X
                    got, why = self._resolve(target, name, v, local)
                elif full == p:  # from P import L: a legacy module as a name
                    got, why = self._namespace(original, p, local, v)
                    if got is not None:
                        movable[i] = got  # type: ignore[assignment]
                    else:
                        blocked.append(f"{name}: {why}")
                    break
                else:
                    continue
                if got is not None:
                    movable[i] = (self._canonical_module(v)[0], got)
                else:
                    blocked.append(f"{name}: {why}")
                break
        if blocked:
            self._flag(line, f"cannot prove equivalent ({'; '.join(blocked)})",
                       ",".join(v.path for v in hits))
            self.handled.update((line, v.path) for v in hits if v.role == "legacy")
        if not movable:
            return updated
        for v in hits:
            self.handled.add((line, v.path))
        self.rewritten += len(movable)
        moved: dict[str, list[cst.ImportAlias]] = {}
        for i, (cmod, cname) in movable.items():
            moved.setdefault(cmod, []).append(_alias(cname, names[i][1]))
        keep = [a for i, a in enumerate(updated.names) if i not in movable]  # type: ignore
        new_statements = [cst.ImportFrom(module=cst.parse_expression(m), names=aliases)
                          for m, aliases in moved.items()]
        if not keep:
            first = new_statements.pop(0)
            result = updated.with_changes(module=first.module, relative=[],
                                          names=self._reuse(updated, first.names))
        else:
            last = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            result = updated.with_changes(names=[*keep[:-1], last])
        self._extra.extend(cst.SimpleStatementLine(body=[s]) for s in new_statements)
        return result

    @staticmethod
    def _reuse(original: cst.ImportFrom, names: Sequence[cst.ImportAlias]
               ) -> Sequence[cst.ImportAlias]:
        """Keep the original aliases' commas and layout where the count is unchanged."""
        old = list(original.names)  # type: ignore[arg-type]
        if len(old) != len(names):
            return names
        return [o.with_changes(name=n.name, asname=n.asname) for o, n in zip(old, names)]

    # ------------------------------------------------------------------ namespace modules

    def _namespace(self, node: cst.CSTNode, legacy_module: str, local: str, v: Violation
                   ) -> tuple[tuple[str, str] | None, str]:
        """A legacy module bound to ``local``: movable when every use is ``local.X`` and
        every such X is the same object in the canonical module."""
        if self._function_depth == 0:
            return None, (f"module {legacy_module} is bound to `{local}` in the module's (or "
                          "a class's) namespace: importers may read other names through it")
        if local in self._uses and self._uses[local] is None:
            return None, f"module {legacy_module} is used other than as `{local}.<name>`"
        uses = self._uses.get(local) or set()  # never used: nothing to prove
        cmod, _ = self._canonical_module(v)
        for a in sorted(uses):
            got, why = self.identity.same(legacy_module, a, cmod, prefer=[a])
            if got != a:
                return None, (f"`{local}.{a}`: " + (why or f"named {got} in {cmod}"))
        parent, _, leaf = cmod.rpartition(".")
        if not parent:
            return None, f"the canonical module {cmod} is top-level: rewrite by hand"
        return (parent, leaf), ""

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        hits = self._violations(original, "import")
        if not hits:
            return updated
        line = self._line(original)
        new_names = list(updated.names)
        changed = False
        for i, alias in enumerate(original.names):
            dotted = _dotted(alias.name)
            for v in hits:
                if v.role != "legacy" or ":" in v.path or dotted != v.path:
                    continue
                if alias.asname is None:
                    self._flag(line, f"`import {dotted}` binds the package path: rewrite its "
                                     f"uses to {v.fix} by hand", v.path)
                    continue
                local = alias.asname.name.value  # type: ignore[union-attr]
                got, why = self._namespace(original, dotted, local, v)
                if got is None:
                    self._flag(line, f"cannot prove equivalent: {why}", v.path)
                    continue
                parent, leaf = got
                new_names[i] = new_names[i].with_changes(
                    name=cst.parse_expression(f"{parent}.{leaf}"))
                self.handled.add((line, v.path))
                self.rewritten += 1
                changed = True
            for v in hits:
                if v.role == "factory" and dotted == v.path:
                    self._flag(line, f"{v.path} is a deprecated factory module: replace its "
                                     "uses by hand", v.path)
        return updated.with_changes(names=new_names) if changed else updated

    # ------------------------------------------------------------------ strings

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString
                           ) -> cst.SimpleString:
        hits = self._violations(original, "string")
        if not hits:
            return updated
        line = self._line(original)
        try:
            value = original.evaluated_value
        except Exception:  # noqa: BLE001 - strange literal: leave it
            return updated
        if not isinstance(value, str):
            return updated
        for v in hits:
            if v.role == "factory":
                self._flag(line, f"a string naming the factory {v.path}: replace by hand",
                           v.path)
                continue
            legacy = SsotPath(*v.path.split(":")) if ":" in v.path else SsotPath(v.path)
            head = legacy.dotted
            if not value.startswith(head):
                continue  # another string on the same line
            rest = value[len(head):]
            if legacy.attr is None:
                # "L.X.more": the object L.X must be proven, and something must follow it
                parts = rest.lstrip(".").split(".")
                if not rest or len(parts) < 2:
                    self._flag(line, f"the string {value!r} names the legacy module or a name "
                                     "in its namespace: patching it there is not the same as "
                                     "patching the canonical module", v.path)
                    continue
                obj_module, obj_attr, tail = legacy.module, parts[0], parts[1:]
            else:
                parts = rest.lstrip(".").split(".") if rest else []
                if not parts:
                    self._flag(line, f"the string {value!r} names a name in a legacy "
                                     "namespace: patching it there is not the same as "
                                     "patching the canonical module", v.path)
                    continue
                obj_module, obj_attr, tail = legacy.module, legacy.attr, parts
            got, why = self._resolve(obj_module, obj_attr, v, obj_attr)
            if got is None:
                self._flag(line, f"cannot prove equivalent: {why}", v.path)
                continue
            if original.value != f"{original.prefix}{original.quote}{value}{original.quote}":
                self._flag(line, "the string uses escapes: rewrite it by hand", v.path)
                continue
            cmod = self._canonical_module(v)[0]
            new_value = ".".join([cmod, got, *tail])
            self.handled.add((line, v.path))
            self.rewritten += 1
            return updated.with_changes(
                value=f"{original.prefix}{original.quote}{new_value}{original.quote}")
        return updated


def _questions(source: bytes, plan: _Plan) -> tuple[set[tuple[str, str, str]],
                                                    dict[str, set[str] | None]]:
    """With the stdlib parser (fast): every identity question the rewrite may ask (a
    superset), and for each local name the attributes read through it, for names that are
    only ever used as ``name.attr``."""
    import ast

    tree = ast.parse(source)
    attrs: dict[str, set[str]] = {}
    inside: set[int] = set()
    bare: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attrs.setdefault(node.value.id, set()).add(node.attr)
            inside.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in inside:
            bare.add(node.id)
    # name -> attributes read through it; None: used bare (passed, assigned, called)
    uses: dict[str, set[str] | None] = {k: v for k, v in attrs.items() if k not in bare}
    for name in bare:
        uses[name] = None
    questions: set[tuple[str, str, str]] = set()
    contracts = plan.contracts
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        found = plan.lines.get(line) if line is not None else None
        if not found:
            continue
        for v in found:
            if v.role != "legacy":
                continue
            cmod = contracts[v.contract].canonical.module
            legacy = v.path.replace(":", ".")
            mod, _, attr = v.path.partition(":")
            if isinstance(node, ast.ImportFrom):
                target = _resolve_relative(node.level, node.module, plan.package)
                for alias in node.names:
                    local = alias.asname or alias.name
                    if target and (target == mod or target.startswith(mod + ".")) and not attr:
                        questions.add((target, alias.name, cmod))
                    if attr:
                        questions.add((mod, attr, cmod))
                    if target and f"{target}.{alias.name}" == legacy:
                        questions.update((legacy, a, cmod) for a in uses.get(local) or ())
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == legacy and alias.asname:
                        questions.update((legacy, a, cmod)
                                         for a in uses.get(alias.asname) or ())
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                rest = node.value[len(legacy):].lstrip(".").split(".")
                if node.value.startswith(legacy) and rest and rest[0]:
                    questions.add((mod, rest[0], cmod) if not attr else (mod, attr, cmod))
    return questions, uses


def _rewrite(source: bytes, plan: _Plan, identity: _Identity,
             uses: dict[str, set[str] | None]
             ) -> tuple[bytes, list[Unsafe], set[tuple[int, str]], int]:
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # parsed here, shared with nobody
    rewriter = _Rewriter(plan, identity, uses)
    new = wrapper.visit(rewriter)
    return new.bytes, rewriter.unsafe, rewriter.handled, rewriter.rewritten


_PARALLEL_MIN = 64
_MAP_FN = None


def _call(rel: str) -> tuple:
    assert _MAP_FN is not None
    return _MAP_FN(rel)


def _map(fn, rels: list[str]) -> Iterable[tuple]:
    """``fn`` over ``rels``; in forked workers when there are many (fn is inherited)."""
    global _MAP_FN
    n = os.cpu_count() or 1
    if n < 2 or len(rels) < _PARALLEL_MIN or not hasattr(os, "fork"):
        return map(fn, rels)
    import multiprocessing

    _MAP_FN = fn
    with multiprocessing.get_context("fork").Pool(n) as pool:
        return list(pool.imap(_call, rels, chunksize=8))


def fix(settings: SsotConfig, root: Path, *, only: Sequence[Path] = (), write: bool = True,
        sys_path: Sequence[str] | None = None, result: ScanResult | None = None) -> FixResult:
    """Rewrite what can be proven; list the rest. ``write=False`` changes nothing."""
    scanned = result if result is not None else scan(settings, root)
    out = FixResult()
    for e in scanned.errors:
        out.errors.append(Unsafe(e["file"], 0, e["message"]))
    selected = [Path(p).resolve() for p in only]

    def wanted(rel: str) -> bool:
        if not selected:
            return True
        path = (root / rel).resolve()
        return any(path == s or s in path.parents for s in selected)

    by_file: dict[str, list[Violation]] = {}
    for v in scanned.violations:
        if wanted(v.file):
            by_file.setdefault(v.file, []).append(v)
    if sys_path is None:
        sys_path = [str(root / "src") if (root / "src").is_dir() else str(root), *sys.path]
    identity = _Identity(sys_path, settings.probe_timeout)
    contracts = {c.name: c for c in settings.contracts}
    src_layout = (root / "src").is_dir()

    plans: dict[str, tuple[_Plan, dict[str, set[str] | None]]] = {}
    queries: set[tuple[str, str, str]] = set()
    for rel, violations in sorted(by_file.items()):
        for v in violations:
            if v.kind == "definition":
                out.unsafe.append(Unsafe(rel, v.line, f"a second implementation of "
                                                      f"{v.path.rpartition(':')[2]}: delete it "
                                                      f"and import {v.fix}"))
        if all(v.kind == "definition" for v in violations):
            continue
        module, is_package = module_name(rel, src_layout)
        plan = _Plan(rel, module, is_package, violations, contracts)
        try:
            asked, uses = _questions((root / rel).read_bytes(), plan)
        except (OSError, SyntaxError, ValueError) as exc:
            out.errors.append(Unsafe(rel, 0, f"cannot be read or parsed: {exc}"))
            continue
        queries |= asked
        plans[rel] = (plan, uses)
    identity.ask(queries)

    def one(rel: str) -> tuple:
        plan, uses = plans[rel]
        source = (root / rel).read_bytes()
        try:
            new_bytes, unsafe, handled, rewritten = _rewrite(source, plan, identity, uses)
        except cst.ParserSyntaxError as exc:
            return rel, source, None, [], set(), 0, f"libcst cannot parse it: {exc.message}"
        if new_bytes != source:
            try:
                compile(new_bytes, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:  # our bug: never write a broken file
                return rel, source, None, unsafe, handled, 0, (
                    f"internal: the rewrite would not compile ({exc.msg}); left untouched")
        return rel, source, new_bytes, unsafe, handled, rewritten, None

    for rel, source, new_bytes, unsafe, handled, rewritten, error in _map(one, sorted(plans)):
        if error is not None:
            out.errors.append(Unsafe(rel, 0, error))
            continue
        out.unsafe.extend(unsafe)
        for v in by_file[rel]:
            if v.kind != "definition" and (v.line, v.path) not in handled:
                out.unsafe.append(Unsafe(rel, v.line, f"{v.path}: no rewrite applies to this "
                                                      "form"))
        out.rewritten += rewritten
        if new_bytes != source:
            out.changed[rel] = (source, new_bytes)
            if write:
                write_atomic(root / rel, new_bytes, keep_mode=True)
    out.unsafe.sort(key=lambda u: (u.file, u.line, u.reason))
    return out
