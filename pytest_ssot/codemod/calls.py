"""Rewrite of factory calls through a name: ``create_websocket_manager(user)`` becomes
``get_websocket_manager(user)`` with the same arguments, when the contract declares the
replacement and the name is bound once in the file, by the import ``imports`` rewrites."""

from __future__ import annotations

import libcst as cst

from .base import Base

__all__ = ["CallsRewrite"]


class CallsRewrite(Base):
    _not_a_name_use = 0  # inside an attribute's name, a keyword, an import: not a use

    def visit_Attribute_attr(self, node: cst.Attribute) -> None:
        self._not_a_name_use += 1

    def leave_Attribute_attr(self, node: cst.Attribute) -> None:
        self._not_a_name_use -= 1

    def visit_Arg_keyword(self, node: cst.Arg) -> None:
        self._not_a_name_use += 1

    def leave_Arg_keyword(self, node: cst.Arg) -> None:
        self._not_a_name_use -= 1

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False  # the import is rewritten by ``imports``

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if self._not_a_name_use or not self.plan.renames:
            return updated
        new = self.plan.renames.get(original.value)
        return updated.with_changes(value=new) if new else updated
