"""``pytest-ssot fix``: rewrite references to legacy paths into the canonical path.

Only what can be proven equivalent is rewritten, and the proof is facts, never a guess by
name: the probes' identity answers (``from legacy import X`` becomes ``from canonical
import Y as X`` only when, in a fresh interpreter, ``legacy.X is canonical.Y``), the
file's own bindings, the project-wide index of who reads a module-level binding, and the
contract's declared ``replacements`` for factories. Everything else the scan reports is
listed, untouched, with the reason, at the line it has after the rewrite.

Laid out as LibCST's codemods are: one module per rewrite (``imports``, ``chains``,
``calls``, ``strings``), the facts and decisions apart (``facts`` reads ``file_facts``;
``plan``, ``index``),
the proof questions apart (``identity``), and a small ``driver`` whose steps have a
module each: one process's files (``shares``), the forked workers' rounds (``workers``),
keeping the meaning across files (``meaning``), writing and listing (``writing``).
Imported only by the command.
"""

from __future__ import annotations

from .driver import FixError, effective_jobs, fix
from .result import FixResult, Listing, Reason

__all__ = ["FixError", "FixResult", "Listing", "Reason", "effective_jobs", "fix"]
