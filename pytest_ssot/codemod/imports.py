"""Rewrite of import statements, each parsed alone with libcst (its layout and comments
kept): ``from legacy import X`` to the canonical module (split
when only some names move), a legacy module bound to a name (``import M as x``,
``from P import L``, ``import M``) moved whole when ``plan`` proved it, factory imports
to their replacement, imports added after the one they replace, imports left unused
removed."""

from __future__ import annotations

import re
from typing import Sequence

import libcst as cst

from ..domain.refkind import RefKind, Role
from ..scan import Violation
from .base import Base, alias_names, dotted, make_alias
from .edits import Text
from .identity import Identity
from .plan import FilePlan
from .result import Reason

__all__ = ["ImportsRewrite", "import_edits"]


class ImportsRewrite(Base):
    def leave_SimpleStatementLine(
            self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine,
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel | cst.RemovalSentinel:
        line = self.line_of(original)
        extra, self._extra = self._extra, []
        for stmt in self.plan.inserts.get(line, ()):
            extra.append(cst.parse_statement(stmt))  # type: ignore[arg-type]
            self.inserted.add(line)
        body = [s for s in updated.body if not isinstance(s, cst.RemovalSentinel)]
        if not body:
            if extra:
                first = extra[0].with_changes(leading_lines=updated.leading_lines)
                return cst.FlattenSentinel([first, *extra[1:]])
            return cst.RemoveFromParent()
        if len(body) != len(updated.body):
            last = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            updated = updated.with_changes(body=[*body[:-1], last])
        if extra:
            return cst.FlattenSentinel([updated, *extra])
        return updated

    def _drop(self, line: int, node: cst.Import | cst.ImportFrom,
              names: Sequence[cst.ImportAlias]) -> list[cst.ImportAlias]:
        """The aliases that stay (``plan.remove`` names the unused ones)."""
        keep = []
        for a in names:
            local = (a.asname.name.value if a.asname  # type: ignore[union-attr]
                     else dotted(a.name).partition(".")[0] if isinstance(node, cst.Import)
                     else dotted(a.name))
            if (line, local) in self.plan.remove:
                self.removed.add((line, local))
                continue
            keep.append(a)
        return keep

    # ------------------------------------------------------------------ from-imports

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom
                         ) -> cst.ImportFrom | cst.RemovalSentinel:
        hits = self.violations(original, RefKind.IMPORT)
        line = self.line_of(original)
        if not hits:
            if not self.plan.remove or isinstance(updated.names, cst.ImportStar):
                return updated
            keep = self._drop(line, original, list(updated.names))
            if not keep:
                return cst.RemoveFromParent()
            if len(keep) == len(updated.names):
                return updated
            return updated.with_changes(
                names=[*keep[:-1], keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        level = len(original.relative)
        target = self.resolve_relative(level, dotted(original.module) or None)
        names = alias_names(original)
        if target is None:
            return updated
        if names is None:
            for v in hits:
                self.plan.refuse(line, v.path, Reason.STAR, f"from {target} import *")
            return updated
        movable = self._movable(line, target, names, hits)
        if movable:
            self._handled(line, names, movable, hits)
        return self._rebuilt(original, updated, line, movable)

    def _movable(self, line: int, target: str, names: list[tuple[str, str]],
                 hits: list[Violation]) -> dict[int, tuple[str, str, str]]:
        """The aliases that move to another module: ``{alias index: (module, name,
        local)}``; each refusal is recorded in the plan."""
        movable: dict[int, tuple[str, str, str]] = {}  # alias -> (module, name, local)
        for i, (name, local) in enumerate(names):
            full = f"{target}.{name}"
            moved = self.plan.factory_alias.get((line, local))
            if moved is not None and moved[0] != target:
                movable[i] = moved
                continue
            for v in hits:
                if v.role != Role.LEGACY:
                    continue
                p = v.path
                if ":" in p:  # an attribute entry: from P import A
                    mod, attr = p.split(":")
                    if (mod, attr) != (target, name):
                        continue
                    got, why = self.same(mod, attr, v, local)
                elif target == p or target.startswith(p + "."):  # from L import X
                    got, why = self.same(target, name, v, local)
                elif full == p:  # from P import L: a legacy module as a name
                    new, reason, detail = self.plan.namespace.get(
                        (line, local), (None, Reason.NO_RULE, ""))
                    if new is None:
                        self.plan.refuse(line, p, reason, detail)
                    else:
                        parent, _, leaf = new.rpartition(".")
                        movable[i] = (parent, leaf,
                                      self.plan.ns_rename.get((line, local), local))
                    break
                else:
                    continue
                if got is not None:
                    movable[i] = (self.canonical(v)[0], got, local)
                    self.plan.explain.append((line, (
                        f"`from {target} import {name}` -> `from {movable[i][0]} import "
                        f"{got}`: `{target}.{name}` is `{movable[i][0]}.{got}` (probe); "
                        f"`{local}` was bound at import and stays so")))
                else:
                    self.plan.refuse(line, p, self.why(why), f"{name}: {why}")
                break
        return movable

    def _handled(self, line: int, names: list[tuple[str, str]],
                 movable: dict[int, tuple[str, str, str]], hits: list[Violation]) -> None:
        """The references of the statement that moving these aliases handles."""
        moved_paths = set()
        for v in hits:
            if v.role == Role.FACTORY and any(
                    (line, names[i][1]) in self.plan.factory_alias for i in movable):
                moved_paths.add(v.path)
        for v in hits:
            if v.role == Role.LEGACY and (line, v.path) not in self.plan.reasons:
                self.plan.handled.add((line, v.path))
            elif v.path in moved_paths:
                self.plan.handled.add((line, v.path))

    def _rebuilt(self, original: cst.ImportFrom, updated: cst.ImportFrom, line: int,
                 movable: dict[int, tuple[str, str, str]]
                 ) -> cst.ImportFrom | cst.RemovalSentinel:
        """The statement without the moved and removed aliases; the moved ones become new
        statements after it (the first one takes its place when nothing stays)."""
        moved: dict[str, list[cst.ImportAlias]] = {}
        for i, (cmod, cname, local) in movable.items():
            moved.setdefault(cmod, []).append(make_alias(cname, local))
        keep = [a for i, a in enumerate(updated.names) if i not in movable]  # type: ignore[arg-type]
        keep = self._drop(line, original, keep)
        new_statements = [cst.ImportFrom(module=cst.parse_expression(m), names=aliases)
                          for m, aliases in moved.items()]
        if not keep:
            if not new_statements:
                return cst.RemoveFromParent()
            first = new_statements.pop(0)
            result = updated.with_changes(module=first.module, relative=[],
                                          names=_reuse(updated, first.names))
        elif len(keep) == len(updated.names):  # type: ignore[arg-type]
            result = updated
        else:
            last = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            result = updated.with_changes(names=[*keep[:-1], last])
        self._extra.extend(cst.SimpleStatementLine(body=[s]) for s in new_statements)
        return result

    # ------------------------------------------------------------------ import M [as x]

    def leave_Import(self, original: cst.Import, updated: cst.Import
                     ) -> cst.Import | cst.RemovalSentinel:
        line = self.line_of(original)
        hits = self.violations(original, RefKind.IMPORT)
        new_names = list(updated.names)
        for i, alias in enumerate(original.names):
            name = dotted(alias.name)
            local = (alias.asname.name.value if alias.asname  # type: ignore[union-attr]
                     else name.partition(".")[0])
            new, reason, detail = self.plan.namespace.get((line, local), (None, "", ""))
            if new is not None and any(v.path == name for v in hits):
                new_names[i] = new_names[i].with_changes(name=cst.parse_expression(new))
        keep = self._drop(line, original, new_names)
        if not keep:
            return cst.RemoveFromParent()
        if len(keep) != len(new_names):
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=keep)


def _reuse(original: cst.ImportFrom, names: Sequence[cst.ImportAlias]
           ) -> Sequence[cst.ImportAlias]:
    """Keep the original aliases' commas and layout where the count is unchanged."""
    old = list(original.names)  # type: ignore[arg-type]
    if len(old) != len(names):
        return names
    return [o.with_changes(name=n.name, asname=n.asname) for o, n in zip(old, names)]


class _Statement(ImportsRewrite):
    """The import rewrite of one statement, parsed alone: the snippet starts with the
    statement, so every node asked for its line (the statement line, the import in it)
    starts on the snippet's first line, and no position table is needed (computing one
    is a code generation of the snippet: a third of libcst's time here)."""

    METADATA_DEPENDENCIES = ()

    def line_of(self, node: cst.CSTNode) -> int:
        return self.offset + 1


# one whole line `from M import a, b as c` with nothing else on it (no brackets, comment,
# continuation or semicolon)
_NAME = r"\w+(?:[ \t]+as[ \t]+\w+)?"
_SIMPLE_FROM = re.compile(rf"([ \t]*)from[ \t]+([\w.]+)[ \t]+import[ \t]+({_NAME}"
                          rf"(?:[ \t]*,[ \t]*{_NAME})*)[ \t]*(\r\n|\r|\n)?\Z")
# a merged line never gets longer than PEP 8's limit (so E501 cannot grow)
MERGE_WIDTH = 79


def _merge_above(text: Text, plan: FilePlan, touched: set[int], span: tuple[int, int],
                 code: str) -> bool:
    """Join the rewritten ``from M import x`` (``code``, lines ``span``) into the
    statement on the line just above when that is ``from M import ...`` of the same module,
    as a maintainer (and isort) writes it. Sound because nothing runs between two adjacent
    statements of one block: ``M`` is imported by the first either way, and each name is
    bound to the same object of it. Only whole simple lines at the same indentation, names
    not already bound there, the result within ``MERGE_WIDTH``. True when merged."""
    l1, l2 = span
    new = _SIMPLE_FROM.match(code)
    above = l1 - 1
    if new is None or above < 1 or above in touched:
        return False
    found = plan.facts.imports.get(above)
    old = _SIMPLE_FROM.match(text.lines[above - 1])
    if (found is None or found[0][2] != above or old is None
            or (old.group(1), old.group(2)) != (new.group(1), new.group(2))):
        return False
    names = [" ".join(n.split()) for n in new.group(3).split(",")]
    if {n.split()[-1] for n in old.group(3).split(",")} & {n.split()[-1] for n in names}:
        return False
    first = text.lines[above - 1]
    ending = old.group(4) or ""
    kept = [" ".join(n.split()) for n in old.group(3).split(",")]
    if (all(n == n.lower() for n in kept + names)
            and kept == sorted(kept, key=lambda n: n.split()[0])):
        # a sorted list (isort's order for lower-case names) stays sorted
        merged = first[:old.start(3)] + ", ".join(
            sorted(kept + names, key=lambda n: n.split()[0]))
    else:
        merged = first[:len(first) - len(ending)].rstrip() + ", " + ", ".join(names)
    if len(merged) > MERGE_WIDTH:
        return False
    text.replace_lines(above, above, merged + ending)
    text.replace_lines(l1, l2, "")
    plan.explain.append((l1, f"merged into the `from {new.group(2)} import` on line {above} "
                             "just above: nothing runs between the two statements"))
    return True


def import_edits(text: Text, plan: FilePlan, identity: Identity) -> tuple[set[int], set]:
    """Rewrite, with libcst, each import statement the plan touches, one statement at a
    time (a few lines to parse, not the file). ``(lines with inserts done, removals done)``.
    Raises ``RuntimeError`` for a statement that shares its line with another one."""
    touched = {line for line, _local in plan.remove} | set(plan.inserts)
    touched |= {line for line, vs in plan.lines.items() if any(v.kind == RefKind.IMPORT for v in vs)}
    inserted: set[int] = set()
    removed: set = set()
    for line in sorted(touched):
        found = plan.facts.imports.get(line)
        if found is None:
            continue  # not an import statement (the scan's import inside a string, ...)
        (l1, c1, l2, c2), alone = found
        first = text.lines[l1 - 1]
        start, end = text.col(l1, c1), text.col(l2, c2)
        head, tail = first[:start], text.lines[l2 - 1][end:]
        if head.strip() or (tail.strip() and not tail.strip().startswith("#")):
            if line in plan.inserts or any(k[0] == line for k in plan.remove):
                raise RuntimeError(f"the import at line {line} shares its line")
            continue  # `if x: import y` or `a; import y`: left as it is (listed)
        snippet = first[start:] + "".join(text.lines[l1:l2])
        module = cst.parse_module(snippet)
        rewriter = _Statement(plan, identity, offset=l1 - 1)
        new = module.visit(rewriter)
        inserted |= rewriter.inserted
        removed |= rewriter.removed
        # The code of each statement, generated once: joined, it is the new module's
        # code when nothing else is in it; and the parsed snippet's code is the snippet
        # (libcst's round trip), so an unchanged statement is told without generating
        # either module's code.
        parts = [new.code_for_node(stmt) for stmt in new.body]
        if parts and not new.header and not new.footer and new.has_trailing_newline:
            unchanged = "".join(parts) == snippet
        else:
            unchanged = new.code == snippet
        if unchanged:
            continue
        code = "".join(head + part for part in parts)
        if not code:
            newline = "\r\n" if snippet.endswith("\r\n") else "\n"
            code = f"{head}pass{newline}" if alone else ""
        elif not snippet.endswith(("\n", "\r")):
            code = code.rstrip("\r\n")
        if (len(parts) == 1 and not alone and line not in plan.inserts
                and _merge_above(text, plan, touched, (l1, l2), code)):
            continue
        text.replace_lines(l1, l2, code)
    return inserted, removed
