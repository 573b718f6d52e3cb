"""Rewrite of attribute chains (``wc.WebSocketManager``, ``pkg.legacy.Name``,
``wc.create_websocket_manager``) and of ``getattr(x, "Name")``: the part that reaches the
legacy entry becomes the name ``plan`` bound to the canonical object (or to a factory's
replacement), or the canonical module's dotted path for a plain ``import pkg.legacy``;
``patch.object(legacy, "X")`` (and ``monkeypatch.setattr``) patches the canonical module.
Chains inside string annotations are edited inside the string."""

from __future__ import annotations

from .edits import Text
from .plan import FilePlan

__all__ = ["chain_edits"]


def chain_edits(text: Text, plan: FilePlan) -> None:
    if not plan.chain_new and not plan.arg_new:
        return
    for c in plan.facts.chains:
        key = (c.line, c.text)
        new = plan.chain_new.get(key)
        if new is not None:
            if c.embedded and text.segment(c.span) != c.text:
                raise RuntimeError(f"line {c.line}: the string annotation is not plain")
            text.replace(c.span, new)
        args = plan.arg_new.get(key)
        if args is not None:
            obj, name = args
            text.replace(c.args[0], obj)
            if name is not None:
                quote = text.segment(c.args[1])[-1:]
                text.replace(c.args[1], f"{quote}{name}{quote}")
