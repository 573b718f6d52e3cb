"""Rewrite of patch-target strings: ``"legacy.X.send"`` becomes ``"canonical.X.send"``
when ``legacy.X`` is the canonical object. A string that names the legacy module, or a
name in its namespace (``"legacy.X"``), is listed: patching it there is not patching the
canonical module."""

from __future__ import annotations

import libcst as cst

from ..paths import SsotPath
from .base import Base
from .result import Reason

__all__ = ["StringsRewrite"]


class StringsRewrite(Base):
    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString
                           ) -> cst.SimpleString:
        hits = self.violations(original, "string")
        if not hits:
            return updated
        line = self.line_of(original)
        try:
            value = original.evaluated_value
        except Exception:  # noqa: BLE001 - strange literal: leave it
            return updated
        if not isinstance(value, str):
            return updated
        for v in hits:
            if v.role == "factory":
                self.plan.refuse(line, v.path, Reason.STRING_FACTORY, repr(value))
                continue
            legacy = SsotPath(*v.path.split(":")) if ":" in v.path else SsotPath(v.path)
            head = legacy.dotted
            if not value.startswith(head):
                continue  # another string on the same line
            rest = value[len(head):]
            parts = rest.lstrip(".").split(".") if rest else []
            if legacy.attr is None:
                # "L.X.more": the object L.X must be proven, and something must follow it
                if len(parts) < 2:
                    self.plan.refuse(line, v.path, Reason.STRING_NAMESPACE, repr(value))
                    continue
                obj_module, obj_attr, tail = legacy.module, parts[0], parts[1:]
            else:
                if not parts:
                    self.plan.refuse(line, v.path, Reason.STRING_NAMESPACE, repr(value))
                    continue
                obj_module, obj_attr, tail = legacy.module, legacy.attr, parts
            got, why = self.same(obj_module, obj_attr, v, obj_attr)
            if got is None:
                self.plan.refuse(line, v.path, self.why(why), why)
                continue
            if original.value != f"{original.prefix}{original.quote}{value}{original.quote}":
                self.plan.refuse(line, v.path, Reason.ESCAPES, repr(value))
                continue
            cmod = self.canonical(v)[0]
            new_value = ".".join([cmod, got, *tail])
            self.plan.handled.add((line, v.path))
            self.rewritten += 1
            return updated.with_changes(
                value=f"{original.prefix}{original.quote}{new_value}{original.quote}")
        return updated
