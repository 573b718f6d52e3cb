"""One file's rewrite: the rewrites of every form, composed into one libcst pass (one
parse, one position table), following the plan."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from .calls import CallsRewrite
from .chains import ChainsRewrite
from .identity import Identity
from .imports import ImportsRewrite
from .plan import FilePlan
from .strings import StringsRewrite

__all__ = ["rewrite"]


class _FileRewrite(ImportsRewrite, ChainsRewrite, CallsRewrite, StringsRewrite):
    """Every rewrite at once."""


def rewrite(source: bytes, plan: FilePlan, identity: Identity) -> tuple[bytes, int]:
    """``(new source, references rewritten)``. Raises ``libcst.ParserSyntaxError``, and
    ``RuntimeError`` when the plan could not be followed whole (an import to add after a
    statement that is not on a line of its own)."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # parsed here, shared with nobody
    rewriter = _FileRewrite(plan, identity)
    new = wrapper.visit(rewriter)
    missing = set(plan.inserts) - rewriter.inserted
    if missing:
        raise RuntimeError(f"cannot add an import after line {min(missing)}")
    if plan.remove - rewriter.removed:
        raise RuntimeError("an import to remove was not found")
    return new.bytes, rewriter.rewritten
