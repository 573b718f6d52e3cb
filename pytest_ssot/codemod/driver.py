"""The driver: scan, read every file's facts, ask every proof question in one batch, ask
the project-wide index, then decide and rewrite each file (forked workers for many files),
check that each rewrite compiles, write atomically, and list the rest at the lines they
have after the rewrite."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .._atomic import write_atomic
from ..config import SsotConfig
from ..scan import ScanResult, Violation, scan
from ..scan.files import module_name
from ..scan.rules import Matcher
from .identity import Identity
from .index import find_readers
from .plan import FilePlan, decide, prepare
from .result import FixResult, Listing, Reason, line_map

__all__ = ["FixError", "fix"]

_PARALLEL_MIN = 64
_LINE = re.compile(r"\(line (\d+)\)")


class FixError(Exception):
    """A fault that stops the whole run (one clear message, never a traceback)."""


def _error_line(message: str) -> int:
    m = _LINE.search(message)
    return int(m.group(1)) if m else 1


_MAP_FN: Callable | None = None


def _call(rel: str) -> tuple:
    assert _MAP_FN is not None
    return _MAP_FN(rel)


def _map(fn: Callable[[str], tuple], rels: list[str], jobs: int) -> Iterable[tuple]:
    """``fn`` over ``rels``; in ``jobs`` forked workers when there are many (fn is
    inherited, nothing is pickled on the way in)."""
    global _MAP_FN
    if jobs < 2 or len(rels) < _PARALLEL_MIN or not hasattr(os, "fork"):
        return map(fn, rels)
    import multiprocessing

    _MAP_FN = fn
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return list(pool.imap(_call, rels, chunksize=8))
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            raise FixError(f"too many open files starting {jobs} workers ({exc.strerror}): "
                           "run with a smaller --jobs or raise the limit (ulimit -n)") from None
        raise
    finally:
        _MAP_FN = None


def effective_jobs(jobs: int | None, files: int) -> int:
    """Workers actually used: at most the cores and the files (never less than one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    want = cores if jobs is None else jobs
    return max(1, min(want, cores, files))


def _not_writable(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot stat: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        return f"read-only file (mode {stat.S_IMODE(st.st_mode):04o}): make it writable " \
               "to rewrite it"
    return None


def _definition(rel: str, v: Violation, line: int) -> Listing:
    return Listing(rel, line, Reason.DEFINITION,
                   f"{v.path.rpartition(':')[2]}: import {v.fix}", v.path)


def _new_lines(rel: str, old: bytes, new: bytes, plan: FilePlan,
               violations: list[Violation], matcher: Matcher) -> dict[tuple[int, str], int]:
    """``(old line, path) -> line after the rewrite`` of the references left: the scan's
    own reading of the new source, matched in order per path (a rewrite never reorders);
    a text diff where the counts disagree."""
    from ..scan.source import analyze

    hits, _error = analyze(new, matcher, plan.module, rel.endswith("__init__.py"))
    now: dict[str, list[int]] = {}
    for h in hits:
        if h.kind == "definition" or h.entry.role != "canonical":
            now.setdefault(str(h.entry.path), []).append(h.line)
    left: dict[str, list[int]] = {}
    for v in violations:
        if (v.line, v.path) not in plan.handled:
            left.setdefault(v.path, []).append(v.line)
    diff = line_map(old, new)
    out: dict[tuple[int, str], int] = {}
    for path, lines in left.items():
        lines.sort()
        after = sorted(now.get(path, ()))
        for i, line in enumerate(lines):
            out[(line, path)] = after[i] if len(after) == len(lines) else diff(line)
    return out


def fix(settings: SsotConfig, root: Path, *, only: Sequence[Path] = (), write: bool = True,
        sys_path: Sequence[str] | None = None, result: ScanResult | None = None,
        jobs: int | None = None) -> FixResult:
    """Rewrite what can be proven; list the rest. ``write=False`` changes nothing."""
    scanned = result if result is not None else scan(settings, root, jobs=jobs)
    out = FixResult()
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
    if sys_path is None:
        sys_path = [str(root / "src") if (root / "src").is_dir() else str(root), *sys.path]
    identity = Identity(sys_path, settings.probe_timeout)
    contracts = {c.name: c for c in settings.contracts}
    matcher = Matcher(settings.contracts)
    src_layout = (root / "src").is_dir()

    plans: dict[str, FilePlan] = {}
    for rel, violations in sorted(by_file.items()):
        if all(v.kind == "definition" for v in violations):
            for v in violations:
                out.unsafe.append(_definition(rel, v, v.line))
                out.count(v.kind, False)
            continue
        module, is_package = module_name(rel, src_layout)
        try:
            plans[rel] = prepare(rel, (root / rel).read_bytes(), module, is_package,
                                 [v for v in violations if v.kind != "definition"],
                                 contracts, matcher)
        except SyntaxError as exc:
            out.errors.append(Listing(rel, exc.lineno or 1, Reason.UNPARSABLE,
                                      f"{type(exc).__name__}: {exc.msg}"))
        except (OSError, ValueError) as exc:
            out.errors.append(Listing(rel, 1, Reason.UNPARSABLE, f"cannot be read: {exc}"))
    identity.ask(q for p in plans.values() for q in p.questions)
    readers = find_readers(settings, root, {w for p in plans.values() for w in p.wants})

    def one(rel: str) -> tuple:
        from .transform import rewrite  # libcst: only in the processes that rewrite

        import libcst as cst

        plan = plans[rel]
        source = (root / rel).read_bytes()
        try:
            decide(plan, identity, readers, matcher)
            new_bytes = rewrite(source, plan, identity)
        except cst.ParserSyntaxError as exc:
            return (rel, source, None, plan.handled, plan.reasons, 0,
                    (exc.raw_line or 1, f"libcst cannot parse it: {exc.message}"))
        except RuntimeError as exc:
            return (rel, source, None, set(), plan.reasons, 0,
                    (1, f"internal: {exc}; left untouched"))
        if new_bytes != source:
            try:
                compile(new_bytes, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:  # our bug: never write a broken file
                return (rel, source, None, set(), plan.reasons, 0,
                        (1, f"internal: the rewrite would not compile ({exc.msg}); "
                            "left untouched"))
        left = any((v.line, v.path) not in plan.handled for v in by_file[rel])
        moved = _new_lines(rel, source, new_bytes, plan, by_file[rel], matcher) \
            if new_bytes != source and left else {}
        return rel, source, new_bytes, plan.handled, plan.reasons, moved, None

    n_jobs = effective_jobs(jobs, len(plans))
    for rel, source, new_bytes, handled, reasons, moved, error in _map(
            one, sorted(plans), n_jobs):
        if error is not None:
            reason = Reason.INTERNAL if error[1].startswith("internal") else Reason.UNPARSABLE
            out.errors.append(Listing(rel, error[0], reason, error[1]))
            for v in by_file[rel]:
                out.count(v.kind, False)
                if v.kind == "definition":
                    out.unsafe.append(_definition(rel, v, v.line))
            continue
        changed = new_bytes != source
        if changed and write:
            problem = _not_writable(root / rel)
            if problem is None:
                try:
                    write_atomic(root / rel, new_bytes, keep_mode=True)
                except OSError as exc:
                    problem = f"cannot write: {exc.strerror or exc}"
            if problem is not None:
                out.errors.append(Listing(rel, 1, Reason.NOT_WRITABLE, problem))
                changed = False
                handled = set()
        # lines after the rewrite where it was written; as they are otherwise
        where = (lambda line, path: moved.get((line, path), line)) if changed and write \
            else (lambda line, path: line)
        for v in by_file[rel]:
            if v.kind == "definition":
                out.unsafe.append(_definition(rel, v, where(v.line, v.path)))
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
        if new_bytes != source and (changed or not write):
            out.changed[rel] = (source, new_bytes)
    out.unsafe.sort(key=lambda u: (u.file, u.line, u.reason))
    out.errors.sort(key=lambda u: (u.file, u.line))
    return out
