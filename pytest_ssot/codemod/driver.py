"""The driver: scan, read every file's facts, ask every proof question in one batch, ask
the project-wide index, then decide and rewrite each file, check that each rewrite
compiles, write atomically, and list the rest at the lines they have after the rewrite.

Many files are shared by forked processes, each holding its part from start to end
(``shares.Share``): it reads and parses its files once, keeps their plans, searches its
part of the tree for readers, and rewrites its files once the proofs are in. Only
questions, answers and results cross between processes (``workers``); this process
serves a part too, asks the probes while the workers search, keeps the meaning across
files (``meaning``) and writes every file (``writing``)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Sequence

from .. import parallel
from ..domain.contracts import SsotConfig
from ..scan import ScanResult, Violation, scan
from .faults import FixError, Interrupted
from .identity import Identity
from .meaning import keep_meaning
from .result import FixResult, Listing, Reason
from .shares import Context, Share
from .workers import share_rounds
from .writing import definition, write_results

__all__ = ["FixError", "Interrupted", "fix"]

_PARALLEL_MIN = 64
_LINE = re.compile(r"\(line (\d+)\)")


def _error_line(message: str) -> int:
    m = _LINE.search(message)
    return int(m.group(1)) if m else 1


def effective_jobs(jobs: int | None, files: int) -> int:
    """Workers actually used: at most the cores and the files (never less than one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    want = cores if jobs is None else jobs
    return max(1, min(want, cores, files))


def _selected(scanned: ScanResult, root: Path, only: Sequence[Path], out: FixResult
              ) -> dict[str, list[Violation]]:
    """The scan's violations under ``only`` (everything when empty), by file; the scan's
    errors there are listed in ``out.errors``."""
    selected = [Path(p).resolve() for p in only]

    def wanted(rel: str) -> bool:
        if not selected:
            return True
        path = (root / rel).resolve()
        return any(path == s or s in path.parents for s in selected)

    for e in scanned.errors:
        if wanted(e["file"]):
            out.errors.append(Listing(e["file"], _error_line(e["message"]),
                                      Reason.UNPARSABLE, e["message"]))
    by_file: dict[str, list[Violation]] = {}
    for v in scanned.violations:
        if wanted(v.file):
            by_file.setdefault(v.file, []).append(v)
    return by_file


def _to_rewrite(by_file: dict[str, list[Violation]], out: FixResult) -> list[str]:
    """The files with something to rewrite, in order; a file with only definitions is
    listed in ``out`` at once."""
    todo: list[str] = []
    for rel, violations in sorted(by_file.items()):
        if all(v.kind == "definition" for v in violations):
            for v in violations:
                out.unsafe.append(definition(rel, v, v.line))
                out.count(v.kind, False)
            continue
        todo.append(rel)
    return todo


def fix(settings: SsotConfig, root: Path, *, only: Sequence[Path] = (), write: bool = True,
        sys_path: Sequence[str] | None = None, result: ScanResult | None = None,
        jobs: int | None = None) -> FixResult:
    """Rewrite what can be proven; list the rest. ``write=False`` changes nothing."""
    scanned = result if result is not None else scan(settings, root, jobs=jobs)
    out = FixResult()
    by_file = _selected(scanned, root, only, out)
    from .text_fix import fix_text, split_text

    # docs and configuration files: token rewrites of their own (SPEC 13)
    fix_text(settings, root, split_text(by_file), write, out)
    if sys_path is None:
        sys_path = [str(root / "src") if (root / "src").is_dir() else str(root), *sys.path]
    identity = Identity(sys_path, settings.probe_timeout)
    ctx = Context(settings, root, by_file, identity)
    todo = _to_rewrite(by_file, out)

    n_jobs = effective_jobs(jobs, len(todo))
    if n_jobs < 2 or len(todo) < _PARALLEL_MIN or not parallel.can_fork():
        n_jobs = 1
    # Interleaved: neighbouring files are alike (a package of tests, of models), so every
    # share gets some of each kind.
    results, readers = share_rounds([Share(ctx, todo[k::n_jobs]) for k in range(n_jobs)],
                                    identity, out)
    results.sort(key=lambda r: r[0])
    results = keep_meaning(ctx, results, identity, readers, out)
    out.explained = {r[0]: list(r[8]) for r in results if r[8]}
    write_results([r[:7] for r in results], by_file, root, write, out)
    out.unsafe.sort(key=lambda u: (u.file, u.line, u.reason))
    out.errors.sort(key=lambda u: (u.file, u.line))
    return out
