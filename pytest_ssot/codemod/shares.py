"""One process's part of the fix: its files from their facts to their rewrite
(``Share``), and what every part needs (``Context``, built before forking so that
workers inherit it). Each file is read and parsed once, and its plan stays in the
process that will rewrite it."""

from __future__ import annotations

from pathlib import Path

from ..domain.contracts import SsotConfig
from ..scan import Violation
from ..scan.files import module_name
from ..scan.rules import Matcher
from .identity import Identity, Question
from .index import Readers, readers_part
from .plan import FilePlan, decide, late_state, prepare
from .result import Listing, Reason, line_map

__all__ = ["Context", "Share", "pad", "rerun"]


def _new_lines(rel: str, old: bytes, new: bytes, plan: FilePlan,
               violations: list[Violation], matcher: Matcher) -> dict[tuple[int, str], int]:
    """``(old line, path) -> line after the rewrite`` of the references left: the scan's
    own reading of the new source, matched in order per path (a rewrite never reorders);
    a text diff where the counts disagree."""
    from ..scan.analysis import analyze

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



class Context:
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


class Share:
    """One process's part of the files, from their facts to their rewrite: each file is
    read and parsed once, and its plan stays in the process that will rewrite it."""

    def __init__(self, ctx: Context, rels: list[str]) -> None:
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



def pad(r: tuple) -> tuple:
    return r if len(r) >= 9 else (*r, {}, [])


def rerun(ctx: Context, rels: list[str], identity: Identity) -> list[tuple]:
    """Decide and rewrite ``rels`` again in this process, from ``ctx.sources`` (or the
    disk) and ``ctx.by_file``, with ``ctx.blocked``: ``Share.rewrite``'s tuples."""
    from .index import find_readers

    share = Share(ctx, sorted(rels))
    questions, wants, _errors = share.prepare()
    identity.ask(questions)
    readers = find_readers(ctx.settings, ctx.root, wants)
    return [pad(r) for r in share.rewrite(identity, readers)]

