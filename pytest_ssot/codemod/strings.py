"""Rewrite of patch-target strings: ``"legacy.X.send"`` becomes ``"canonical.X.send"``
when ``legacy.X`` is the canonical object, and ``"legacy.X"`` (a name in the legacy
namespace) becomes ``"canonical.X"``, as ``patch.object`` does, unless a late read of that
name stays elsewhere (``plan.blocked``). A string naming the legacy module is listed."""

from __future__ import annotations

import re

from ..domain.paths import SsotPath
from ..domain.refkind import RefKind, Role
from .edits import Text
from .identity import Identity
from .plan import FilePlan
from .result import Reason

__all__ = ["string_edits"]

_PLAIN = re.compile(r"([rRuU]?)('''|\"\"\"|'|\")(.*)\2\Z", re.S)


def string_edits(text: Text, plan: FilePlan, identity: Identity) -> None:
    for s, value in plan.facts.strings:
        line = s[0]
        hits = [v for v in plan.lines.get(line, ()) if v.kind == RefKind.STRING]
        for v in hits:
            if (line, v.path) in plan.handled:
                continue
            if v.role == Role.FACTORY:
                plan.refuse(line, v.path, Reason.STRING_FACTORY, repr(value))
                continue
            legacy = SsotPath(*v.path.split(":")) if ":" in v.path else SsotPath(v.path)
            head = legacy.dotted
            if value != head and not value.startswith(head + "."):
                continue  # another string on the same line
            rest = value[len(head):]
            parts = rest.lstrip(".").split(".") if rest else []
            if legacy.attr is None:
                # "L.X.more": the object L.X must be proven; "L.X" names the binding in
                # the legacy namespace: the patch moves to the canonical module, as
                # ``patch.object`` does, unless a late read of it elsewhere stays
                if not parts or not parts[0]:
                    plan.refuse(line, v.path, Reason.STRING_NAMESPACE, repr(value))
                    continue
                obj_attr, tail = parts[0], parts[1:]
            else:
                obj_attr, tail = legacy.attr, parts
            if not tail and (legacy.module, obj_attr) in plan.blocked:
                plan.refuse(line, v.path, Reason.PATCH_SPLIT,
                            f"{value!r}: {plan.blocked[(legacy.module, obj_attr)]}")
                continue
            c = plan.contracts[v.contract].canonical
            cmod, cname = c.module, (c.attr or c.module.rpartition(".")[2])
            got, why = identity.same(legacy.module, obj_attr, cmod,
                                     prefer=[obj_attr, cname])
            if got is None:
                plan.refuse(line, v.path, Reason.NOT_SAME if "is not any object" in why
                            else Reason.UNRESOLVED, why)
                continue
            m = _PLAIN.match(text.segment(s))
            if m is None or m.group(3) != value or "\\" in m.group(3):
                plan.refuse(line, v.path, Reason.ESCAPES, repr(value))
                continue
            new_value = ".".join([cmod, got, *tail])
            text.replace(s, f"{m.group(1)}{m.group(2)}{new_value}{m.group(2)}")
            plan.handled.add((line, v.path))
            break
