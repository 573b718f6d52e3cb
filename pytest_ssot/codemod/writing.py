"""The last step of a fix: write each rewritten file atomically, only over the very bytes
that were read, and list every reference left, at the line it has after the rewrite."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from ..atomic import ChangedSinceRead, not_writable_by_us, write_atomic
from ..scan import Violation
from .faults import Interrupted
from .result import FixResult, Listing, Reason

__all__ = ["definition", "write_results"]


def _not_writable(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot stat: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not st.st_mode & 0o222:
        return f"read-only file (mode {stat.S_IMODE(st.st_mode):04o}): make it writable " \
               "to rewrite it"
    if not os.access(path, os.W_OK):
        return not_writable_by_us(st)  # another user's file: say whose, not "read-only"
    return None


def definition(rel: str, v: Violation, line: int) -> Listing:
    return Listing(rel, line, Reason.DEFINITION,
                   f"{v.path.rpartition(':')[2]}: import {v.fix}", v.path)


def write_results(results: list[tuple], by_file: dict[str, list[Violation]], root: Path,
                  write: bool, out: FixResult) -> None:
    """Write (``write``) and list the outcome of every ``(rel, source, new bytes,
    handled, reasons, moved lines, error)``, in order. Ctrl-C after a file was written:
    ``Interrupted``, saying how far it got."""
    due = sum(1 for r in results if r[6] is None and r[2] != r[1]) if write else 0
    written = 0
    try:
        for rel, source, new_bytes, handled, reasons, moved, error in results:
            if error is not None:
                reason = Reason.INTERNAL if error[1].startswith("internal") else Reason.UNPARSABLE
                out.errors.append(Listing(rel, error[0], reason, error[1]))
                for v in by_file[rel]:
                    out.count(v.kind, False)
                    if v.kind == "definition":
                        out.unsafe.append(definition(rel, v, v.line))
                continue
            changed = new_bytes != source
            if changed and write:
                unwritten, problem = _write_one(root, rel, source, new_bytes)
                if problem is None:
                    written += 1
                else:
                    out.errors.append(Listing(rel, 1, unwritten, problem))
                    changed = False
                    # its references are left for that reason, not for want of a rule
                    reasons = {(v.line, v.path): (unwritten, problem) for v in by_file[rel]}
                    handled = set()
            # lines after the rewrite where it was written; as they are otherwise
            where = (lambda line, path: moved.get((line, path), line)) if changed and write \
                else (lambda line, path: line)
            _list_left(out, rel, by_file[rel], handled, reasons, where)
            if new_bytes != source and (changed or not write):
                out.changed[rel] = (source, new_bytes)
    except KeyboardInterrupt:
        if written:
            raise Interrupted(written, due) from None
        raise


def _write_one(root: Path, rel: str, source: bytes, new_bytes: bytes
               ) -> tuple[str, str | None]:
    """Write one rewritten file: ``(why not, problem)``; problem ``None``: written."""
    problem = _not_writable(root / rel)
    unwritten = Reason.NOT_WRITABLE
    if problem is None:
        try:  # compare-and-swap: only over the very bytes that were read
            write_atomic(root / rel, new_bytes, keep_mode=True, expect=source, within=root)
        except ChangedSinceRead:
            unwritten, problem = Reason.CHANGED, "left untouched"
        except OSError as exc:
            # (WouldNotKeep: its reason; a system error: its strerror)
            problem = f"cannot write: {exc.strerror}" if exc.strerror else str(exc)
    return unwritten, problem


def _list_left(out: FixResult, rel: str, violations: list[Violation], handled: set,
               reasons: dict, where: Callable[[int, str], int]) -> None:
    """Count every reference of one file; list those left (and every definition) with
    their reason, at the line ``where`` gives."""
    for v in violations:
        if v.kind == "definition":
            out.unsafe.append(definition(rel, v, where(v.line, v.path)))
            out.count(v.kind, False)
            continue
        done = (v.line, v.path) in handled
        out.count(v.kind, done)
        out.rewritten += done
        if not done:
            default = ((Reason.FACTORY, v.path) if v.kind == "call"
                       else (Reason.NO_RULE, v.kind))
            reason, detail = reasons.get((v.line, v.path), default)
            out.unsafe.append(Listing(rel, where(v.line, v.path), reason, detail, v.path))
