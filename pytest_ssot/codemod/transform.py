"""One file's rewrite, following its plan: import statements (libcst, one statement at a
time), chains, renamed factory names and strings (edits at ``ast`` positions)."""

from __future__ import annotations

from .calls import rename_edits
from .chains import chain_edits
from .edits import Text
from .identity import Identity
from .imports import import_edits
from .plan import FilePlan
from .strings import string_edits

__all__ = ["rewrite"]


def rewrite(source: bytes, plan: FilePlan, identity: Identity) -> bytes:
    """The new source. Raises ``libcst.ParserSyntaxError``, and ``RuntimeError`` when the
    plan could not be followed whole (then nothing of the file is written)."""
    text = Text(source)
    inserted, removed = import_edits(text, plan, identity)
    missing = set(plan.inserts) - inserted
    if missing:
        raise RuntimeError(f"cannot add an import after line {min(missing)}")
    if plan.remove - removed:
        raise RuntimeError("an import to remove was not found")
    chain_edits(text, plan)
    rename_edits(text, plan)
    string_edits(text, plan, identity)
    return text.apply()
