"""Rewrite of attribute chains (``wc.WebSocketManager``, ``pkg.legacy.Name``,
``wc.create_websocket_manager``) and of ``getattr(x, "Name")``: the part that reaches the
legacy entry becomes the name ``plan`` bound to the canonical object (or to a factory's
replacement), or the canonical module's dotted path for a plain ``import pkg.legacy``."""

from __future__ import annotations

import libcst as cst

from .base import Base, dotted

__all__ = ["ChainsRewrite"]


class ChainsRewrite(Base):
    _in_import = 0  # an import's dotted names are not chains

    def visit_Import_names(self, node: cst.Import) -> None:
        self._in_import += 1

    def leave_Import_names(self, node: cst.Import) -> None:
        self._in_import -= 1

    def visit_ImportFrom_module(self, node: cst.ImportFrom) -> None:
        self._in_import += 1

    def leave_ImportFrom_module(self, node: cst.ImportFrom) -> None:
        self._in_import -= 1

    def _new(self, original: cst.CSTNode, text: str) -> cst.BaseExpression | None:
        if not self.plan.chain_new or self._in_import:
            return None
        new = self.plan.chain_new.get((self.line_of(original), text))
        return cst.parse_expression(new) if new is not None else None

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute
                        ) -> cst.BaseExpression:
        text = dotted(original)
        if not text:
            return updated
        new = self._new(original, text)
        if new is None:
            return updated
        self.rewritten += 1
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.plan.chain_new or len(original.args) < 2:
            return updated
        fname = dotted(original.func).rpartition(".")[2]
        if fname != "getattr":
            return updated
        first, second = original.args[0].value, original.args[1].value
        if not isinstance(second, cst.SimpleString):
            return updated
        value = second.evaluated_value
        text = f"getattr({dotted(first)},{value})"
        new = self._new(original, text)
        if new is None:
            return updated
        self.rewritten += 1
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)
