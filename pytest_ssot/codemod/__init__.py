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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from ..config import Contract, SsotConfig
from ..paths import SsotPath
from ..probe import run_tasks
from ..scan import ScanResult, Violation, scan
from ..scan.files import module_name
from ..scan.rules import Matcher
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
        if isinstance(got, str):
            return None, got
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
                 violations: list[Violation], matcher: Matcher,
                 contracts: dict[str, Contract]) -> None:
        self.rel = rel
        self.package = module if is_package else (module.rpartition(".")[0] if module else None)
        self.lines = {}
        for v in violations:
            self.lines.setdefault(v.line, []).append(v)
        self.matcher = matcher
        self.contracts = contracts


class _Rewriter(cst.CSTTransformer):
    """Applies the proven rewrites at the scan's violation lines; records the rest."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, plan: _Plan, identity: _Identity, wrapper: MetadataWrapper,
                 collect_only: bool) -> None:
        super().__init__()
        self.plan = plan
        self.identity = identity
        self.collect_only = collect_only
        self.queries: set[tuple[str, str, str]] = set()
        self.unsafe: list[Unsafe] = []
        self.rewritten = 0
        self.handled: set[tuple[int, str]] = set()
        self._uses: dict[str, list[cst.Name]] = {}
        self._wrapper = wrapper
        self._extra: list[cst.SimpleStatementLine] = []

    # ------------------------------------------------------------------ helpers

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _violations(self, node: cst.CSTNode) -> list[Violation]:
        return self.plan.lines.get(self._line(node), [])

    def _flag(self, line: int, reason: str, path: str) -> None:
        if (line, path) in self.handled:
            return
        self.handled.add((line, path))
        if not self.collect_only:
            self.unsafe.append(Unsafe(self.plan.rel, line, reason))

    def _canonical_module(self, v: Violation) -> tuple[str, str]:
        c = self.plan.contracts[v.contract].canonical
        return c.module, (c.attr or c.module.rpartition(".")[2])

    def _resolve(self, module: str, attr: str, v: Violation, local: str
                 ) -> tuple[str | None, str]:
        cmod, cname = self._canonical_module(v)
        q = (module, attr, cmod)
        if self.collect_only:
            self.queries.add(q)
            return None, ""
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
        hits = [v for v in self._violations(original) if v.kind == "import"]
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
                        break
                    if not self.collect_only:
                        blocked.append(f"{name}: {why}")
                    break
                else:
                    continue
                if got is not None:
                    movable[i] = (self._canonical_module(v)[0], got)
                elif not self.collect_only:
                    blocked.append(f"{name}: {why}")
                break
        if self.collect_only:
            return updated
        if blocked:
            self._flag(line, f"cannot prove equivalent ({'; '.join(blocked)})",
                       ",".join(v.path for v in hits))
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
        uses = self._uses.get(local)
        if uses is None:
            return None, f"module {legacy_module} is used other than as `{local}.<name>`"
        cmod, _ = self._canonical_module(v)
        attrs = sorted({u for u in uses})  # type: ignore[misc]
        if self.collect_only:
            for a in attrs:
                self.queries.add((legacy_module, a, cmod))
            return None, ""
        for a in attrs:
            got, why = self.identity.same(legacy_module, a, cmod, prefer=[a])
            if got != a:
                return None, (f"`{local}.{a}`: " + (why or f"named {got} in {cmod}"))
        parent, _, leaf = cmod.rpartition(".")
        if not parent:
            return None, f"the canonical module {cmod} is top-level: rewrite by hand"
        return (parent, leaf), ""

    def visit_Module(self, node: cst.Module) -> None:
        # Bare uses of every name: only `name.attr` uses allow moving a namespace import.
        collector = _UseCollector()
        self._wrapper.module.visit(collector)
        self._uses = collector.attribute_only()

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        hits = [v for v in self._violations(original) if v.kind == "import"]
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
                if self.collect_only:
                    continue
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
        hits = [v for v in self._violations(original) if v.kind == "string"]
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
            if self.collect_only:
                continue
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


class _UseCollector(cst.CSTVisitor):
    """For each name: the attributes read through it, or None once it is used bare."""

    METADATA_DEPENDENCIES = ()

    def __init__(self) -> None:
        super().__init__()
        self.uses: dict[str, list[str] | None] = {}
        self._skip: set[int] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))  # `x.name`: `name` is not a use of a local `name`
        if isinstance(node.value, cst.Name):
            got = self.uses.setdefault(node.value.value, [])
            if got is not None:
                got.append(node.attr.value)
            self._skip.add(id(node.value))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._skip:
            return
        self.uses[node.value] = None

    def attribute_only(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.uses.items() if v is not None}


def _collect(source: bytes, plan: _Plan, identity: _Identity
             ) -> tuple[set[tuple[str, str, str]], MetadataWrapper]:
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module)
    probe = _Rewriter(plan, identity, wrapper, collect_only=True)
    wrapper.visit(probe)
    return probe.queries, wrapper


def _write_atomic(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
    matcher = Matcher(settings.contracts)
    contracts = {c.name: c for c in settings.contracts}
    src_layout = (root / "src").is_dir()

    plans: dict[str, tuple[bytes, _Plan, MetadataWrapper]] = {}
    queries: set[tuple[str, str, str]] = set()
    for rel, violations in sorted(by_file.items()):
        for v in violations:
            if v.kind == "definition":
                out.unsafe.append(Unsafe(rel, v.line, f"a second implementation of "
                                                      f"{v.path.rpartition(':')[2]}: delete it "
                                                      f"and import {v.fix}"))
        if all(v.kind == "definition" for v in violations):
            continue
        source = (root / rel).read_bytes()
        module, is_package = module_name(rel, src_layout)
        plan = _Plan(rel, module, is_package, violations, matcher, contracts)
        try:
            asked, wrapper = _collect(source, plan, identity)
        except cst.ParserSyntaxError as exc:
            out.errors.append(Unsafe(rel, exc.raw_line, f"libcst cannot parse it: "
                                                        f"{exc.message}"))
            continue
        queries |= asked
        plans[rel] = (source, plan, wrapper)
    identity.ask(queries)

    for rel, (source, plan, wrapper) in plans.items():
        rewriter = _Rewriter(plan, identity, wrapper, collect_only=False)
        new = wrapper.visit(rewriter)
        out.unsafe.extend(rewriter.unsafe)
        for v in by_file[rel]:
            if v.kind != "definition" and (v.line, v.path) not in rewriter.handled:
                out.unsafe.append(Unsafe(rel, v.line, f"{v.path}: no rewrite applies to this "
                                                      "form"))
        out.rewritten += rewriter.rewritten
        new_bytes = new.bytes
        if new_bytes != source:
            try:
                compile(new_bytes, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:  # our bug: never write a broken file
                out.errors.append(Unsafe(rel, exc.lineno or 0, f"internal: the rewrite would "
                                                               f"not compile ({exc.msg}); "
                                                               "left untouched"))
                continue
            out.changed[rel] = (source, new_bytes)
            if write:
                _write_atomic(root / rel, new_bytes)
    out.unsafe.sort(key=lambda u: (u.file, u.line, u.reason))
    return out
