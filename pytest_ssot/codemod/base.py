"""What the libcst rewrite of an import statement needs: the plan, the identity answers,
the line of a node in the file, the scan's violations at a line, and a few helpers."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from ..scan import Violation
from ..scan.analysis import resolve_relative
from .identity import Identity
from .plan import FilePlan
from .result import Reason

__all__ = ["Base", "alias_names", "dotted", "make_alias"]


def dotted(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


def alias_names(node: cst.ImportFrom) -> list[tuple[str, str]] | None:
    if isinstance(node.names, cst.ImportStar):
        return None
    out = []
    for alias in node.names:
        name = dotted(alias.name)
        local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
        out.append((name, local))
    return out


def make_alias(name: str, local: str) -> cst.ImportAlias:
    if name == local:
        return cst.ImportAlias(name=cst.Name(name))
    return cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(name=cst.Name(local)))


class Base(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, plan: FilePlan, identity: Identity, offset: int = 0) -> None:
        super().__init__()
        self.offset = offset  # the statement rewritten alone starts at line offset + 1
        self.plan = plan
        self.identity = identity
        self.inserted: set[int] = set()
        self.removed: set[tuple[int, str]] = set()
        self._extra: list[cst.SimpleStatementLine] = []

    def line_of(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line + self.offset

    def violations(self, node: cst.CSTNode, kind: str) -> list[Violation]:
        """The scan's violations of this kind at the line where ``node`` starts."""
        return [v for v in self.plan.lines.get(self.line_of(node), []) if v.kind == kind]

    def resolve_relative(self, level: int, module: str | None) -> str | None:
        return resolve_relative(level, module, self.plan.package)

    def canonical(self, v: Violation) -> tuple[str, str]:
        c = self.plan.contracts[v.contract].canonical
        return c.module, (c.attr or c.module.rpartition(".")[2])

    def same(self, module: str, attr: str, v: Violation, local: str
             ) -> tuple[str | None, str]:
        cmod, cname = self.canonical(v)
        return self.identity.same(module, attr, cmod, prefer=[attr, cname, local])

    @staticmethod
    def why(why: str) -> str:
        return Reason.NOT_SAME if "is not any object" in why else Reason.UNRESOLVED
