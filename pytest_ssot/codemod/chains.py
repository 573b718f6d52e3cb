"""Rewrite of attribute chains (``wc.WebSocketManager``, ``pkg.legacy.Name``,
``wc.create_websocket_manager``) and of ``getattr(x, "Name")``: the part that reaches the
legacy entry becomes the name ``plan`` bound to the canonical object (or to a factory's
replacement), or the canonical module's dotted path for a plain ``import pkg.legacy``;
``patch.object(legacy, "X")`` (and ``monkeypatch.setattr``) patches the canonical module.
Chains inside string annotations are edited inside the string."""

from __future__ import annotations

import io
import tokenize

from .edits import Text
from .plan import FilePlan

__all__ = ["chain_edits"]


def _realign(text: Text, span: tuple[int, int, int, int], delta: int) -> None:
    """Continuation lines aligned under the bracket that follows a chain made shorter or
    longer by ``delta`` characters move with it (what a maintainer's editor does)."""
    l1, _c1, l2, c2 = span
    if l1 != l2 or delta == 0:
        return
    line = text.lines[l1 - 1]
    end = text.col(l1, c2)
    if line[end:end + 1] not in ("(", "[", "{"):
        return
    column = end + 1  # where the old first argument started
    tail = "".join(text.lines[l1 - 1:])
    depth = 0
    starts: list[int] = []
    seen_line = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(tail[end:]).readline):
            row = tok.start[0] + l1 - 1
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                continue
            if row != seen_line and row > l1 and depth == 1:
                starts.append(row)
            seen_line = row
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if depth == 0:
                    break
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return
    lines = [r for r in starts if len(text.lines[r - 1]) - len(text.lines[r - 1].lstrip(" "))
             == column]
    if not lines or column + delta < 1:
        return
    for r in lines:
        text.replace((r, 0, r, column), " " * (column + delta))


def chain_edits(text: Text, plan: FilePlan) -> None:
    if not plan.chain_new and not plan.arg_new:
        return
    for c in plan.facts.chains:
        key = (c.line, c.text)
        new = plan.chain_new.get(key)
        if new is not None:
            if c.embedded and text.segment(c.span) != c.text:
                raise RuntimeError(f"line {c.line}: the string annotation is not plain")
            old = text.segment(c.span)
            text.replace(c.span, new)
            if not c.embedded and sum(1 for k in plan.chain_new if k[0] == c.line) == 1:
                _realign(text, c.span, len(new) - len(old))
        args = plan.arg_new.get(key)
        if args is not None:
            obj, name = args
            text.replace(c.args[0], obj)
            if name is not None:
                quote = text.segment(c.args[1])[-1:]
                text.replace(c.args[1], f"{quote}{name}{quote}")
