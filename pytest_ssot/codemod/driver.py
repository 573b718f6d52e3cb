"""The driver: scan, read every file's facts, ask every proof question in one batch, ask
the project-wide index, then decide and rewrite each file, check that each rewrite
compiles, write atomically, and list the rest at the lines they have after the rewrite.

Many files are shared by forked processes, each holding its part from start to end
(``_Share``): it reads and parses its files once, keeps their plans, searches its part
of the tree for readers, and rewrites its files once the proofs are in. Only questions,
answers and results cross between processes; this process serves a part too, asks the
probes while the workers search, and writes every file."""

from __future__ import annotations

import ast
import errno
import os
import pickle
import re
import stat
import sys
from pathlib import Path
from typing import Any, Sequence

from .. import parallel
from ..atomic import ChangedSinceRead, not_writable_by_us, write_atomic
from ..config import SsotConfig
from ..scan import ScanResult, Violation, scan
from ..scan.files import module_name
from ..scan.rules import Matcher
from ..scan.source import _resolve_relative, pragmas
from .identity import Identity, Question
from .index import Readers, merge_readers, readers_part  # noqa: F401
from .plan import FilePlan, decide, late_left, late_state, prepare
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
    if not st.st_mode & 0o222:
        return f"read-only file (mode {stat.S_IMODE(st.st_mode):04o}): make it writable " \
               "to rewrite it"
    if not os.access(path, os.W_OK):
        return not_writable_by_us(st)  # another user's file: say whose, not "read-only"
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
        # (module, name) -> why: late-bound names left as they are in every file
        self.blocked: dict[tuple[str, str], str] = {}
        # rel -> its text this run has rewritten but not yet written (later rounds)
        self.sources: dict[str, bytes] = {}


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
                source = ctx.sources.get(rel)
                if source is None:
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
        plan.blocked = ctx.blocked
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
        return (rel, source, new_bytes, plan.handled, plan.reasons, moved, None,
                late_state(plan, ctx.matcher), plan.explain)


class _WorkerTraceback(Exception):
    """Where a fix worker raised: its traceback, as text (shown above the error)."""

    def __str__(self) -> str:
        return "in a fix worker:\n" + str(self.args[0])


class _Workers:
    """``len(shares) - 1`` forked workers (``parallel.Pool``), each serving one share
    through three rounds (facts, readers, rewrite); this process serves the last share
    itself. A worker that dies (the OOM killer, a stray signal) costs only time: its
    share is done here. A bug in a worker is raised here, as in one process."""

    def __init__(self, shares: list[_Share]) -> None:
        self.shares = shares
        self.pool = parallel.Pool()
        self.pids = self.pool.pids  # share index -> pid of a live worker

    def start(self) -> None:
        for i, share in enumerate(self.shares[:-1]):
            try:
                started = self.pool.fork(i, lambda link, share=share: _serve(share, link),
                                         commands=True)
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    raise FixError(f"too many open files starting {len(self.shares)} "
                                   f"workers ({exc.strerror}): run with a smaller --jobs or "
                                   "raise the limit (ulimit -n)") from None
                raise
            if not started:
                # No more processes (EAGAIN) or memory: the shares without a worker are
                # done here, as a dead worker's are.
                break

    def send(self, i: int, command: tuple) -> None:
        """Send ``command`` to worker ``i`` (nothing when it is gone)."""
        self.pool.send(i, pickle.dumps(command, pickle.HIGHEST_PROTOCOL))

    def recv(self, i: int) -> Any:
        """Worker ``i``'s answer to the current round; ``_DIED`` when it is gone."""
        got = self.pool.recv(i)
        if got is None:
            return _DIED
        try:
            status, value = pickle.loads(got)
        except Exception as exc:  # noqa: BLE001 - an answer that does not unpickle: our bug
            raise RuntimeError(f"a fix worker's answer could not be read: {exc!r}") from None
        if status == "bug":
            error, where = value
            # The worker's own traceback, which the exception does not carry across.
            raise error from _WorkerTraceback(where)
        return value

    def stop(self) -> None:
        """End every worker (also on Ctrl-C or an error here: none outlives this run)."""
        self.pool.stop()


_DIED = object()


def _serve(share: _Share, link: parallel.Link) -> None:
    """A worker's life: its share's facts, then its part of the readers search, then the
    rewrite of its files, each answered to the parent, until the parent is done."""

    def answer(status: str, value: object) -> None:
        link.send(pickle.dumps((status, value), pickle.HIGHEST_PROTOCOL))

    try:
        answer("ok", share.prepare())
        while True:
            got = link.recv()
            if got is None:
                break
            command, args = pickle.loads(got)
            if command == "readers":
                answer("ok", share.readers(*args))
            elif command == "rewrite":
                answers, readers = args
                identity = Identity(share.ctx.identity.sys_path, share.ctx.identity.timeout)
                identity.answers = answers
                answer("ok", share.rewrite(identity, readers))
            else:
                break
    except Exception as exc:  # noqa: BLE001 - our bug: raised in the parent, as in one process
        import traceback

        tb = traceback.format_exc()
        try:
            answer("bug", (exc, tb))
        except Exception:  # noqa: BLE001 - not picklable: its traceback then
            answer("bug", (RuntimeError("a fix worker failed"), tb))
        raise


_ROUNDS = 6  # a chain needs at most a few (the import it goes through moves first)


def _pad(r: tuple) -> tuple:
    return r if len(r) >= 9 else (*r, {}, [])


def _rerun(ctx: _Context, rels: list[str], identity: Identity) -> list[tuple]:
    """Decide and rewrite ``rels`` again in this process, from ``ctx.sources`` (or the
    disk) and ``ctx.by_file``, with ``ctx.blocked``: ``_Share.rewrite``'s tuples."""
    from .index import find_readers

    share = _Share(ctx, sorted(rels))
    questions, wants, _errors = share.prepare()
    identity.ask(questions)
    readers = find_readers(ctx.settings, ctx.root, wants)
    return [_pad(r) for r in share.rewrite(identity, readers)]


def _patch_strings_elsewhere(ctx: _Context, seen: set[str]) -> dict[str, dict]:
    """Patch strings (``"legacy.X"``) in the files this run does not rewrite (no reference
    the scan reports: ``# ssot: ignore``, or outside the selected paths): patches left
    as they are, which the late reads of ``legacy.X`` must keep reaching. And, in a file
    whose every reference is under ``# ssot: ignore``, its late reads, patches and
    writes through a legacy module attribute (that file's own analysis, pragmas not
    applied): they stay, so a patch or read elsewhere must stay on their object."""
    from .index import _files, _read_regular

    legacy = sorted({e.path.module for es in ctx.matcher.module_entries.values() for e in es
                     if e.role == "legacy" and e.path.attr is None}
                    | {f"{e.path.module}.{e.path.attr}".rpartition(".")[0]
                       for es in ctx.matcher.attr_entries.values() for e in es
                       if e.role == "legacy"}, key=len, reverse=True)
    if not legacy:
        return {}
    # the first argument of a call (``patch("legacy.X")``, ``setattr``-like helpers) or a
    # ``target=``: not a string annotation, a log line, a docstring
    pattern = re.compile(rb"""(?:\(|target\s*=)\s*["'](""" + b"|".join(re.escape(m.encode()) for m in legacy)
                         + rb""")\.([A-Za-z_][A-Za-z0-9_]*)["']""")
    out: dict[str, dict] = {}
    for abspath, rel in _files(ctx.settings, ctx.root):
        if rel in seen:
            continue
        data = _read_regular(abspath)
        if not data:
            continue
        for m in pattern.finditer(data):
            pair = (m.group(1).decode(), m.group(2).decode())
            out.setdefault(rel, {}).setdefault(pair, set()).add("patch-left")
        if rel not in ctx.by_file and b"ssot:" in data and pragmas(data):
            # every reference here is under ``# ssot: ignore`` (the scan reports none):
            # its late reads and writes stay, whatever a rewrite elsewhere moves
            module, is_package = module_name(rel, ctx.src_layout)
            package = module if is_package else (module.rpartition(".")[0] if module else None)
            try:
                late = late_left(data, package, ctx.matcher)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # not analysable: the scan reported nothing it could rewrite
            for pair, flags in late.items():
                out.setdefault(rel, {}).setdefault(pair, set()).update(flags)
    return out


def _imported(ctx: _Context, rels: set[str]) -> set[str]:
    """Those of ``rels`` some other file imports (a file nobody imports runs only as
    itself: a test module, a script)."""
    from .index import _files, _read_regular

    modules: dict[str, str] = {}
    for rel in rels:
        module, _pkg = module_name(rel, ctx.src_layout)
        if module:
            modules[module] = rel
    if not modules:
        return set()
    leaves = re.compile(rb"(?<![A-Za-z0-9_])(?:" + b"|".join(
        re.escape(m.rpartition(".")[2].encode()) for m in modules) + rb")(?![A-Za-z0-9_])")
    out: set[str] = set()
    for abspath, rel in _files(ctx.settings, ctx.root):
        data = _read_regular(abspath)
        if not data or not leaves.search(data):
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue
        here, is_package = module_name(rel, ctx.src_layout)
        package = here if is_package else (here.rpartition(".")[0] if here else None)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve_relative(node.level, node.module, package)
                if target:
                    names = [target, *(f"{target}.{a.name}" for a in node.names)]
            for name in names:
                for m, mrel in modules.items():
                    if mrel != rel and (name == m or name.startswith(m + ".")):
                        out.add(mrel)
    return out


def _conflicts(state: dict[str, dict], ctx: _Context | None = None
               ) -> dict[tuple[str, str], str]:
    """Late-bound names whose patch and reads the rewrite would split: a patch left under
    the legacy spelling while a read moved to the canonical module, or the reverse. A
    patch restored after its test (``patch.object``, ``monkeypatch.setattr``, a patch
    string) never reaches a read in another file that no file imports (a test module):
    that pair does not count; a permanent write (``setattr``, ``x.N = v``) reaches all."""
    where: dict[tuple[str, str], dict[str, set[str]]] = {}
    for rel, late in state.items():
        for pair, flags in late.items():
            for flag in flags:
                where.setdefault(pair, {}).setdefault(flag, set()).add(rel)
    split: dict[tuple[str, str], tuple[str, set[str], set[str]]] = {}
    for pair, flags in where.items():
        get = flags.get
        left_patch = get("patch-left", set()) | get("write-left", set())
        new_patch = get("patch-new", set()) | get("write-new", set())
        if left_patch and get("read-new"):
            split[pair] = ("left", left_patch, get("read-new", set()))
        elif new_patch and get("read-left"):
            split[pair] = ("new", new_patch, get("read-left", set()))
    if split and ctx is not None:
        readers = set().union(*(r for _s, _p, r in split.values()))
        imported = _imported(ctx, readers)
        for pair, (side, patchers, reads) in list(split.items()):
            flags = where[pair]
            writes = flags.get(f"write-{side}", set())
            if not writes and all(r not in imported and r not in patchers for r in reads):
                del split[pair]  # scoped patches, reads no test of theirs can run
    out: dict[tuple[str, str], str] = {}
    for pair, (side, patchers, reads) in split.items():
        name = f"`{pair[0]}.{pair[1]}`"
        if side == "left":
            out[pair] = (f"patched as {name} in {_some(patchers)}, which stays: rewrite "
                         "that patch by hand (or drop its `# ssot: ignore`), then run fix "
                         "again")
        else:
            out[pair] = (f"patched in {_some(patchers)}, but read late as {name} in "
                         f"{_some(reads)}, where it stays: rewrite those reads by hand (or "
                         "drop their `# ssot: ignore`), then run fix again")
    return out


def _some(files: set[str]) -> str:
    """Up to three files, and how many more."""
    shown = sorted(files)
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return ", ".join(shown[:3]) + more


def _keep_meaning(ctx: _Context, results: list[tuple], identity: Identity,
                  readers: Readers, out: FixResult) -> list[tuple]:
    """The steps after the first rewrite, before anything is written: (1) a patch and
    the late reads it reaches stay on one object across files (both sides of a split
    name are left, listed); (2) rounds until nothing more applies, each on the files the
    previous round changed (their new text, scanned again in memory), so that one run
    reaches the fixed point. Returns the final tuples (source: the file's text as read;
    new bytes: the last round's)."""
    from ..scan.source import analyze

    results = [_pad(r) for r in results]
    by_rel = {r[0]: r for r in results}
    original = {r[0]: r[1] for r in results}
    state = {r[0]: r[7] for r in results if r[6] is None}
    inputs: dict[str, tuple[bytes, list[Violation]]] = {}  # for a redo of a later round
    explain: dict[str, list] = {r[0]: list(r[8]) for r in results}
    elsewhere = _patch_strings_elsewhere(ctx, set(by_rel))

    def settle() -> None:
        for _ in range(3):
            found = {k: v for k, v in _conflicts({**elsewhere, **state}, ctx).items()
                     if k not in ctx.blocked}
            if not found:
                return
            ctx.blocked.update(found)
            redo = [rel for rel, late in state.items() if any(p in found for p in late)]
            for rel in redo:
                if rel in inputs:
                    ctx.sources[rel], ctx.by_file[rel] = inputs[rel]
                else:
                    ctx.sources.pop(rel, None)
            for r in _rerun(ctx, redo, identity):
                # an error now leaves the file untouched (its earlier text split a patch)
                by_rel[r[0]] = (r[0], original[r[0]], *r[2:])
                state[r[0]] = r[7]
                explain[r[0]] = list(r[8])

    settle()
    changed = {rel for rel, r in by_rel.items() if r[6] is None and r[2] not in (None, r[1])}
    for _round in range(_ROUNDS - 1):
        todo = []
        for rel in sorted(changed):
            r = by_rel[rel]
            module, is_package = module_name(rel, ctx.src_layout)
            hits, error = analyze(r[2], ctx.matcher, module, is_package)
            if error:
                continue
            now = [_violation(h, rel, ctx) for h in hits if h.entry.role != "canonical"]
            if all(v.kind == "definition" for v in now):
                continue
            todo.append(rel)
            inputs[rel] = (r[2], now)
        if not todo:
            break
        before = {rel: (by_rel[rel], ctx.by_file[rel]) for rel in todo}
        for rel in todo:
            ctx.sources[rel], ctx.by_file[rel] = inputs[rel]
        changed = set()
        for r in _rerun(ctx, todo, identity):
            rel = r[0]
            if r[6] is not None:
                continue  # the previous round's text stands
            prev, prev_violations = before[rel]
            _carry(out, prev, prev_violations)
            by_rel[rel] = (rel, original[rel], *r[2:])
            state[rel] = r[7]
            explain[rel] = explain.get(rel, []) + list(r[8])
            if r[2] != r[1]:
                changed.add(rel)
        settle()
    return [(*by_rel[r[0]][:8], explain.get(r[0], [])) for r in results]


def _carry(out: FixResult, prev: tuple, violations: list[Violation]) -> None:
    """The references an earlier round rewrote in a file a later round takes up again:
    counted now (the later round sees only what is left)."""
    for line, path in prev[3]:
        kinds = [v.kind for v in violations if (v.line, v.path) == (line, path)]
        for kind in kinds[:1]:
            out.count(kind, True)
            out.rewritten += 1


def _violation(h: Any, rel: str, ctx: _Context) -> Violation:
    e = h.entry
    return Violation(e.contract, rel, h.line, h.kind, e.role, str(e.path), e.fix, "", h.text)


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
    if n_jobs < 2 or len(todo) < _PARALLEL_MIN or not parallel.can_fork():
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
    results = _keep_meaning(ctx, results, identity, readers, out)
    out.explained = {r[0]: list(r[8]) for r in results if r[8]}
    results = [r[:7] for r in results]

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
                        write_atomic(root / rel, new_bytes, keep_mode=True, expect=source,
                                     within=root)
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
