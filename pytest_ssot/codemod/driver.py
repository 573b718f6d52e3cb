"""The driver: scan, read every file's facts, ask every proof question in one batch, ask
the project-wide index, then decide and rewrite each file, check that each rewrite
compiles, write atomically, and list the rest at the lines they have after the rewrite.

Many files are shared by forked processes, each holding its part from start to end
(``_Share``): it reads and parses its files once, keeps their plans, searches its part
of the tree for readers, and rewrites its files once the proofs are in. Only questions,
answers and results cross between processes; this process serves a part too, asks the
probes while the workers search, and writes every file."""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import sys
from pathlib import Path
from typing import Any, Sequence

from .._atomic import ChangedSinceRead, write_atomic
from ..config import SsotConfig
from ..scan import ScanResult, Violation, scan, walk
from ..scan.files import module_name
from ..scan.rules import Matcher
from .identity import Identity, Question
from .index import Readers, merge_readers, readers_part
from .plan import FilePlan, decide, prepare
from .result import FixResult, Listing, Reason, line_map

__all__ = ["FixError", "Interrupted", "fix"]

_PARALLEL_MIN = 64
_LINE = re.compile(r"\(line (\d+)\)")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while rewritten files were being written: how far it got. Each file is
    written atomically, so each holds its old text or its new one."""

    def __init__(self, written: int, due: int) -> None:
        super().__init__(written, due)
        self.written, self.due = written, due

    def __str__(self) -> str:
        return (f"after rewriting {self.written} of {self.due} file(s); each file holds its "
                "old text or its new one: run `pytest-ssot fix` again to finish")


class FixError(Exception):
    """A fault that stops the whole run (one clear message, never a traceback)."""


def _error_line(message: str) -> int:
    m = _LINE.search(message)
    return int(m.group(1)) if m else 1


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


class _Context:
    """What every part of the work needs; built before forking, so workers inherit it."""

    def __init__(self, settings: SsotConfig, root: Path, by_file: dict[str, list[Violation]],
                 identity: Identity) -> None:
        self.settings = settings
        self.root = root
        self.by_file = by_file
        self.identity = identity
        self.contracts = {c.name: c for c in settings.contracts}
        self.matcher = Matcher(settings.contracts)
        self.src_layout = (root / "src").is_dir()


class _Share:
    """One process's part of the files, from their facts to their rewrite: each file is
    read and parsed once, and its plan stays in the process that will rewrite it."""

    def __init__(self, ctx: _Context, rels: list[str]) -> None:
        self.ctx = ctx
        self.rels = rels  # sorted
        self.plans: dict[str, FilePlan] = {}
        self.sources: dict[str, bytes] = {}
        self.prepared = False

    def prepare(self) -> tuple[set[Question], set[tuple[str, str]], list[tuple[str, Listing]]]:
        """Read each file's facts: ``(the proof questions, the readers asked for, the
        files that could not be read or parsed)``."""
        ctx = self.ctx
        errors: list[tuple[str, Listing]] = []
        for rel in self.rels:
            module, is_package = module_name(rel, ctx.src_layout)
            try:
                source = (ctx.root / rel).read_bytes()
                plan = prepare(rel, source, module, is_package,
                               [v for v in ctx.by_file[rel] if v.kind != "definition"],
                               ctx.contracts, ctx.matcher)
            except SyntaxError as exc:
                errors.append((rel, Listing(rel, exc.lineno or 1, Reason.UNPARSABLE,
                                            f"{type(exc).__name__}: {exc.msg}")))
                continue
            except (OSError, ValueError) as exc:
                errors.append((rel, Listing(rel, 1, Reason.UNPARSABLE,
                                            f"cannot be read: {exc}")))
                continue
            self.plans[rel] = plan
            self.sources[rel] = source
        self.prepared = True
        questions = {q for p in self.plans.values() for q in p.questions}
        wants = {w for p in self.plans.values() for w in p.wants}
        return questions, wants, errors

    def readers(self, wanted: set[tuple[str, str]], share: int, shares: int) -> dict:
        """This process's part of the readers search (every ``shares``-th file of the
        tree, not only its own files)."""
        return readers_part(self.ctx.settings, self.ctx.root, wanted, share, shares)

    def rewrite(self, identity: Identity, readers: Readers) -> list[tuple]:
        """Decide and rewrite each file: ``_rewrite_one``'s tuples, in file order."""
        if not self.prepared:  # a worker died: its part is done again here
            self.prepare()
        return [self._rewrite_one(rel, identity, readers) for rel in self.rels
                if rel in self.plans]

    def _rewrite_one(self, rel: str, identity: Identity, readers: Readers) -> tuple:
        """``(rel, old bytes, new bytes or None, handled, reasons, moved lines, error)``."""
        from .transform import rewrite  # libcst: only in the processes that rewrite

        import libcst as cst

        ctx = self.ctx
        plan = self.plans[rel]
        source = self.sources[rel]
        violations = ctx.by_file[rel]
        try:
            decide(plan, identity, readers, ctx.matcher)
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
        left = any((v.line, v.path) not in plan.handled for v in violations)
        moved = _new_lines(rel, source, new_bytes, plan, violations, ctx.matcher) \
            if new_bytes != source and left else {}
        return rel, source, new_bytes, plan.handled, plan.reasons, moved, None


def _channel() -> tuple[Any, Any]:
    """The two ends of a worker's connection."""
    import multiprocessing

    return multiprocessing.Pipe(duplex=True)


class _WorkerTraceback(Exception):
    """Where a fix worker raised: its traceback, as text (shown above the error)."""

    def __str__(self) -> str:
        return "in a fix worker:\n" + str(self.args[0])


class _Workers:
    """``len(shares) - 1`` forked workers, each serving one share through three rounds
    (facts, readers, rewrite); this process serves the last share itself. A worker that
    dies (the OOM killer, a stray signal) costs only time: its share is done here. A bug
    in a worker is raised here, as in one process."""

    def __init__(self, shares: list[_Share]) -> None:
        self.shares = shares
        self.conns: dict[int, Any] = {}  # share index -> connection of a live worker
        self.pids: dict[int, int] = {}

    def start(self) -> None:
        for i, share in enumerate(self.shares[:-1]):
            try:
                parent_end, child_end = _channel()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    raise FixError(f"too many open files starting {len(self.shares)} "
                                   f"workers ({exc.strerror}): run with a smaller --jobs or "
                                   "raise the limit (ulimit -n)") from None
                raise
            try:
                pid = os.fork()
            except OSError:
                # No more processes (EAGAIN) or memory: the shares without a worker are
                # done here, as a dead worker's are.
                parent_end.close()
                child_end.close()
                break
            if pid == 0:  # worker
                parent_end.close()
                for other in self.conns.values():  # the earlier workers' ends
                    other.close()
                _serve(share, child_end)  # never returns
            child_end.close()
            self.conns[i] = parent_end
            self.pids[i] = pid

    def send(self, i: int, command: tuple) -> None:
        """Send ``command`` to worker ``i`` (nothing when it is gone)."""
        conn = self.conns.get(i)
        if conn is None:
            return
        try:
            conn.send(command)
        except OSError:
            self._bury(i)

    def recv(self, i: int) -> Any:
        """Worker ``i``'s answer to the current round; ``_DIED`` when it is gone."""
        conn = self.conns.get(i)
        if conn is None:
            return _DIED
        try:
            status, value = conn.recv()
        except (EOFError, OSError):
            self._bury(i)
            return _DIED
        except Exception as exc:  # noqa: BLE001 - an answer that does not unpickle: our bug
            raise RuntimeError(f"a fix worker's answer could not be read: {exc!r}") from None
        if status == "bug":
            error, where = value
            # The worker's own traceback, which the exception does not carry across.
            raise error from _WorkerTraceback(where)
        return value

    def _bury(self, i: int) -> None:
        conn = self.conns.pop(i, None)
        if conn is not None:
            conn.close()
        pid = self.pids.pop(i, None)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass

    def stop(self) -> None:
        """End every worker (also on Ctrl-C or an error here: none outlives this run)."""
        for i in list(self.conns):
            self._bury(i)


_DIED = object()


def _serve(share: _Share, conn: Any) -> None:
    """A worker's life: its share's facts, then its part of the readers search, then the
    rewrite of its files, each answered to the parent; then ``os._exit``."""
    code = 0
    try:
        try:
            conn.send(("ok", share.prepare()))
            while True:
                command, args = conn.recv()
                if command == "readers":
                    conn.send(("ok", share.readers(*args)))
                elif command == "rewrite":
                    answers, readers = args
                    identity = Identity(share.ctx.identity.sys_path,
                                        share.ctx.identity.timeout)
                    identity.answers = answers
                    conn.send(("ok", share.rewrite(identity, readers)))
                else:
                    break
        except Exception as exc:  # noqa: BLE001 - our bug: raised in the parent, as in one process
            import traceback

            code = 70
            tb = traceback.format_exc()
            try:
                conn.send(("bug", (exc, tb)))
            except Exception:  # noqa: BLE001 - not picklable: its traceback then
                conn.send(("bug", (RuntimeError("a fix worker failed"), tb)))
    except BaseException:  # noqa: BLE001 - Ctrl-C, a broken pipe: the parent decides
        code = 70
    finally:
        os._exit(code)


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
    from .text_fix import fix_text, split_text

    # docs and configuration files: token rewrites of their own (SPEC 13)
    fix_text(settings, root, split_text(by_file), write, out)
    if sys_path is None:
        sys_path = [str(root / "src") if (root / "src").is_dir() else str(root), *sys.path]
    identity = Identity(sys_path, settings.probe_timeout)
    ctx = _Context(settings, root, by_file, identity)

    todo: list[str] = []
    for rel, violations in sorted(by_file.items()):
        if all(v.kind == "definition" for v in violations):
            for v in violations:
                out.unsafe.append(_definition(rel, v, v.line))
                out.count(v.kind, False)
            continue
        todo.append(rel)

    n_jobs = effective_jobs(jobs, len(todo))
    if n_jobs < 2 or len(todo) < _PARALLEL_MIN or not walk.can_fork():
        n_jobs = 1
    # Interleaved: neighbouring files are alike (a package of tests, of models), so every
    # share gets some of each kind.
    shares = [_Share(ctx, todo[k::n_jobs]) for k in range(n_jobs)]
    workers = _Workers(shares)
    try:
        workers.start()
        own = shares[-1]
        firsts = [None] * n_jobs
        firsts[-1] = own.prepare()
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            firsts[i] = shares[i].prepare() if got is _DIED else got
        questions: set[Question] = set()
        wants: set[tuple[str, str]] = set()
        failed: list[tuple[str, Listing]] = []
        for q, w, errors in firsts:  # type: ignore[misc]
            questions |= q
            wants |= w
            failed += errors
        for _rel, listing in sorted(failed, key=lambda t: t[0]):
            out.errors.append(listing)

        # the workers search for readers while this process asks the probes
        for i in range(n_jobs - 1):
            workers.send(i, ("readers", (wants, i, n_jobs)))
        identity.ask(questions)
        parts = [own.readers(wants, n_jobs - 1, n_jobs)]
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            parts.append(shares[i].readers(wants, i, n_jobs) if got is _DIED else got)
        readers = merge_readers(wants, parts)

        for i in range(n_jobs - 1):
            workers.send(i, ("rewrite", (identity.answers, readers)))
        results = own.rewrite(identity, readers)
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            results += shares[i].rewrite(identity, readers) if got is _DIED else got
    finally:
        workers.stop()
    results.sort(key=lambda r: r[0])

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
                        out.unsafe.append(_definition(rel, v, v.line))
                continue
            changed = new_bytes != source
            if changed and write:
                problem = _not_writable(root / rel)
                unwritten = Reason.NOT_WRITABLE
                if problem is None:
                    try:  # compare-and-swap: only over the very bytes that were read
                        write_atomic(root / rel, new_bytes, keep_mode=True, expect=source)
                        written += 1
                    except ChangedSinceRead:
                        unwritten, problem = Reason.CHANGED, "left untouched"
                    except OSError as exc:
                        # (WouldNotKeep: its reason; a system error: its strerror)
                        problem = f"cannot write: {exc.strerror}" if exc.strerror else str(exc)
                if problem is not None:
                    out.errors.append(Listing(rel, 1, unwritten, problem))
                    changed = False
                    # its references are left for that reason, not for want of a rule
                    reasons = {(v.line, v.path): (unwritten, problem) for v in by_file[rel]}
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
    except KeyboardInterrupt:
        if written:
            raise Interrupted(written, due) from None
        raise
    out.unsafe.sort(key=lambda u: (u.file, u.line, u.reason))
    out.errors.sort(key=lambda u: (u.file, u.line))
    return out
