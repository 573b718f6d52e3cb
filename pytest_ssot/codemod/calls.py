"""Rewrite of factory calls through a name: ``create_websocket_manager(user)`` becomes
``get_websocket_manager(user)`` with the same arguments, when the contract declares the
replacement and the name is bound once in the file, by the import ``imports`` rewrites
(``plan.renames``). Every use of the name is renamed, so a factory passed along follows."""

from __future__ import annotations

from .edits import Text
from .plan import FilePlan

__all__ = ["rename_edits"]


def rename_edits(text: Text, plan: FilePlan) -> None:
    for old, new in plan.renames.items():
        for s in plan.facts.name_spans.get(old, ()):
            text.replace(s, new)
