"""Rewrite of attribute chains (``wc.WebSocketManager``, ``pkg.legacy.Name``,
``wc.create_websocket_manager``) and of ``getattr(x, "Name")``: the part that reaches the
legacy entry becomes the name ``plan`` bound to the canonical object (or to a factory's
replacement), or the canonical module's dotted path for a plain ``import pkg.legacy``."""

from __future__ import annotations

from .edits import Text
from .plan import FilePlan

__all__ = ["chain_edits"]


def chain_edits(text: Text, plan: FilePlan) -> None:
    if not plan.chain_new:
        return
    for c in plan.facts.chains:
        new = plan.chain_new.get((c.line, c.text))
        if new is not None:
            text.replace(c.span, new)
