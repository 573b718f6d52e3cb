"""The static reference scan (SPEC 5). Pure core: no pytest import.

``scan()`` reads every file under the configured paths once. A byte-level pre-filter
(``prefilter.Filter``) proves most files cannot reference any declared path, and only the
rest are parsed (``analysis.analyze``). Results are cached (``cache``): a folder whose mtime
is unchanged keeps its listing, a file whose size and mtime are unchanged is trusted,
otherwise its content hash decides, so a cache restored into a fresh checkout (new mtimes)
is still used. Large trees are shared by forked workers (``walk``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

from ..domain.contracts import SsotConfig
from ..domain.refkind import KINDS, SOURCES
from .defining import defining_modules
from .cache import CACHE_VERSION, cache_key, load_cache, reconcile
from .files import Excluder, area_of, roots
from .rules import Matcher
from .. import parallel as _parallel
from .walk import Job, Outcome, run_parallel, units_of_work

__all__ = ["Violation", "ScanResult", "scan", "plan", "Walk", "CACHE_VERSION", "CACHE_MODES",
           "COMPLIANCE_KINDS"]

_PARALLEL_MIN_FILES = 3000
CACHE_MODES = ("use", "verify", "cold")
# (from the one table of reference kinds, ``domain.refkind``)
COMPLIANCE_KINDS = SOURCES["code"]


class Violation(NamedTuple):
    """One violation (a reference to a legacy or factory path, or a definition).
    Immutable; a tuple rather than a frozen dataclass, whose ``__init__`` cost a warm
    scan of 9,340 violations 11 ms more."""

    contract: str
    file: str
    line: int
    kind: str  # import | attribute | call | string | definition
    role: str  # legacy | factory | definition
    path: str
    fix: str
    area: str
    # The reference's source with runs of whitespace collapsed (see ``rules.Hit.text``).
    text: str = ""
    # SPEC 7's name of it without its line (``fingerprint.number``); "" when not known
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (``dataclasses.asdict`` deep-copies: slow over many violations)."""
        d = {"contract": self.contract, "file": self.file, "line": self.line,
             "kind": self.kind, "role": self.role, "path": self.path, "fix": self.fix,
             "area": self.area, "text": self.text}
        if self.fingerprint:
            d["fingerprint"] = self.fingerprint
        return d


@dataclass
class ScanResult:
    files_scanned: int = 0
    text_files_scanned: int = 0  # of ``files_scanned``: docs and configuration files
    files_parsed: int = 0
    files_from_cache: int = 0
    violations: list[Violation] = field(default_factory=list)
    canonical: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    # One line when a scan cache was there but not used because it failed its check.
    cache_note: str = ""
    # canonical references in docs and configuration files: contract -> {kind: count}
    # (``canonical`` counts those in code only)
    text_canonical: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_file(self, rel: str, hits: list, error: str | None,
                 areas: dict[str, str]) -> None:
        """Count one file's cached or fresh outcome: its error, its canonical references
        and its violations (``hits`` as the cache stores them)."""
        if error:
            self.errors.append({"file": rel, "message": error})
        if not hits:
            return
        area = area_of(rel, areas)
        for hit in hits:
            contract, role, path, fix, kind, line, text = hit[:7]
            if role == "canonical":
                if kind == "doc" or kind == "config":
                    per = self.text_canonical.setdefault(contract, {})
                    per[kind] = per.get(kind, 0) + 1
                    continue
                self.canonical[contract] = self.canonical.get(contract, 0) + 1
                continue
            self.violations.append(Violation(contract, rel, line, kind, role, path, fix,
                                             area, text, hit[7] if len(hit) > 7 else ""))

    def counts(self, contract: str) -> dict[str, int]:
        """Violations per file for one contract (what the baseline stores)."""
        out: dict[str, int] = {}
        for v in self.violations:
            if v.contract == contract:
                out[v.file] = out.get(v.file, 0) + 1
        return dict(sorted(out.items()))

    def compliance(self, contract: str) -> float:
        """canonical / (canonical + violations of the kinds that are references to a path);
        factory calls and definitions are reported but not in the ratio (SPEC 5)."""
        canonical = self.canonical.get(contract, 0)
        refs = sum(1 for v in self.violations
                   if v.contract == contract and v.kind in COMPLIANCE_KINDS)
        return 1.0 if canonical + refs == 0 else canonical / (canonical + refs)

    def compliance_by_source(self, contract: str) -> dict[str, float]:
        """Compliance in code, docs and configuration files, each its own ratio (SPEC 13):
        canonical / (canonical + violations), 1.0 when both are zero."""
        refs = {source: 0 for source in SOURCES}
        for v in self.violations:
            if v.contract == contract:
                for source, kinds in SOURCES.items():
                    if v.kind in kinds:
                        refs[source] += 1
        text = self.text_canonical.get(contract, {})
        canonical = {"code": self.canonical.get(contract, 0), "docs": text.get("doc", 0),
                     "config": text.get("config", 0)}
        return {s: 1.0 if canonical[s] + refs[s] == 0 else canonical[s] / (canonical[s] + refs[s])
                for s in SOURCES}

    def counts_by_kind(self, contract: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.violations:
            if contract is None or v.contract == contract:
                out[v.kind] = out.get(v.kind, 0) + 1
        return {k: out[k] for k in (*KINDS, *sorted(set(out) - set(KINDS))) if k in out}

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "violations"}
        d["violations"] = [v.to_dict() for v in self.violations]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ScanResult":
        d = dict(d)
        d["violations"] = [Violation(**v) for v in d["violations"]]
        return cls(**d)


def scan(settings: SsotConfig, root: Path, *, cache_path: Path | None = None,
         jobs: int | None = None,
         progress: Callable[[int, int], None] | None = None,
         defined_in: dict[str, str] | None = None,
         cache_mode: str = "use") -> ScanResult:
    """Scan the project at ``root`` for references to the contracts' paths.

    ``defined_in``: per contract, the canonical object's ``__module__`` when the probes
    know it (no second definition is reported there).

    ``cache_mode``: ``"use"`` trusts a file whose size and mtime are the cached ones;
    ``"verify"`` trusts nothing but content (every file is read and pre-filtered; a
    cached result is reused only for the same content hash); ``"cold"`` reads nothing
    from the cache. The cache is written anew in every mode.
    """
    return plan(settings, root, cache_path=cache_path, jobs=jobs, defined_in=defined_in,
                cache_mode=cache_mode).run(progress)


class Walk:
    """One scan, set up (matcher, the cache's content, units of work); ``run`` walks.

    ``guess``: the result as the cache has it, built in this process while forked workers
    walk (``None`` before, without a cache or without workers). When nothing changed on
    disk it is the answer: the returned result's violations are its very list, so work
    done on it (``run``'s ``alongside``) holds.
    """

    def __init__(self, settings: SsotConfig, root: Path, *, cache_path: Path | None,
                 jobs: int | None, defined_in: dict[str, str] | None,
                 cache_mode: str) -> None:
        self._started = (time.perf_counter(), time.time_ns())
        self.settings = settings
        self.root = root
        self.guess: ScanResult | None = None
        self._cache_path = cache_path
        self.result = ScanResult(canonical={c.name: 0 for c in settings.contracts})
        if not settings.contracts:
            return
        excluder = Excluder(settings.exclude)
        self._top = roots(root, settings.paths)
        src_layout = (root / "src").is_dir()
        self._matcher = Matcher(settings.contracts, defining=defining_modules(
            settings.contracts, root, src_layout, defined_in))
        text = None
        if settings.doc_files or settings.config_files:
            from .text import TextFiles, TextScanner

            text = (TextFiles(settings.doc_files, settings.config_files),
                    TextScanner(settings.contracts))
        self._fingerprint = cache_key(
            self._matcher, tuple(settings.exclude) + (text[0].key if text else ()),
            self._top, src_layout)
        self._known, dirs_blob, loose, results_blob, problem = load_cache(
            None if cache_mode == "cold" else cache_path, self._fingerprint)
        if problem:
            self.result.cache_note = (f"scan cache {_shown(cache_path, root)} discarded: "
                                      f"{problem}; this scan ran cold")
        self._job = Job(self._matcher, excluder, src_layout, dirs_blob,
                        loose, results_blob, _own_dir(cache_path, root),
                        trust_stat=cache_mode == "use", text=text)
        # More processes than cores, or than units of work, only cost forks (--jobs 200
        # on three files used to fork 199 workers).
        cores = os.cpu_count() or 1
        n_jobs = min(jobs, cores) if jobs is not None else cores
        # (--verify reads every file, as a cold scan does)
        self._parallel = n_jobs > 1 and (self._known >= _PARALLEL_MIN_FILES or not self._known
                                         or cache_mode == "verify") and _parallel.can_fork()
        self._units = units_of_work(self._job, self._top,
                                    want=8 * n_jobs if self._parallel else 0)
        self._n_jobs = min(n_jobs, len(self._units))

    def run(self, progress: Callable[[int, int], None] | None = None,
            alongside: Callable[[], None] | None = None) -> ScanResult:
        """Walk the files (forked workers for a large tree) and return the result.
        ``alongside``: this process's other work, done while the workers take their first
        units (``guess`` is then built), or before a walk without workers."""
        result = self.result
        if not self.settings.contracts:
            return result
        if self._parallel and self._n_jobs > 1:
            def while_walking() -> None:
                self._build_guess()
                if alongside is not None:
                    alongside()

            out = run_parallel(self._job, self._units, self._n_jobs, progress, self._known,
                               while_walking)
        else:
            done = [0]

            def tick(k: int) -> None:
                done[0] += k
                progress(done[0], max(done[0], self._known))  # type: ignore[misc]

            out = Outcome()
            if alongside is not None:
                alongside()
            out.merge(self._job.run(self._units, tick if progress else None))
        if progress:
            progress(out.files, out.files)
        result.files_scanned = out.files
        result.text_files_scanned = out.text_files
        result.files_parsed = out.parsed
        result.files_from_cache = out.files - out.examined + out.reused
        self._collect(out, reconcile(self._cache_path, self._fingerprint, self._started[1],
                                     self._job, out, self._top))
        result.errors.sort(key=lambda e: e["file"])
        result.seconds = time.perf_counter() - self._started[0]
        return result

    def _build_guess(self) -> None:
        """The result as the cache has it (most often nothing changed: then it is the
        answer, built while the files were checked)."""
        if self._known:
            guess = ScanResult(canonical={c.name: 0 for c in self.settings.contracts})
            cached = self._job.results
            for rel in sorted(cached):
                _digest, hits, error = cached[rel]
                guess.add_file(rel, hits, error, self.settings.areas)
            self.guess = guess

    def _collect(self, out: Outcome, results: dict) -> None:
        """The walk's per-file results into the result (the guess when nothing changed)."""
        result = self.result
        if self.guess is not None and results is self._job.results and not out.dir_errors:
            ahead = self.guess  # nothing changed: what the cache said is the result
            result.violations, result.canonical, result.errors = (ahead.violations,
                                                                   ahead.canonical,
                                                                   ahead.errors)
            result.text_canonical = ahead.text_canonical
            return
        for rel, message in out.dir_errors:
            result.errors.append({"file": rel, "message": message})
        results = _outside(results, [rel for rel, _m in out.dir_errors])
        for rel in sorted(results):
            _digest, hits, error = results[rel]
            result.add_file(rel, hits, error, self.settings.areas)


def plan(settings: SsotConfig, root: Path, *, cache_path: Path | None = None,
         jobs: int | None = None, defined_in: dict[str, str] | None = None,
         cache_mode: str = "use") -> Walk:
    """A scan set up, not yet walked (``scan`` explains the arguments): a caller with work
    of its own to overlap with the walk passes it to ``Walk.run``."""
    if cache_mode not in CACHE_MODES:
        raise ValueError(f"cache_mode must be one of {CACHE_MODES}, not {cache_mode!r}")
    return Walk(settings, root, cache_path=cache_path, jobs=jobs, defined_in=defined_in,
                cache_mode=cache_mode)


def _own_dir(cache_path: Path | None, root: Path) -> str | None:
    """The cache's folder relative to the root, when the walk could reach it."""
    if cache_path is not None:
        try:
            return cache_path.parent.resolve().relative_to(root.resolve()).as_posix()
        except (OSError, ValueError):
            pass  # outside the rootdir
    return None


def _shown(path: Path | None, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()  # type: ignore[arg-type]
    except ValueError:
        return str(path)


def _outside(results: dict, unlisted: list[str]) -> dict:
    """The cached results minus those under folders that could not be listed this time:
    what they hold now is unknown (a scan error says so), so their old violations and
    references are not reported as if they had been read."""
    if not unlisted:
        return results
    prefixes = tuple("" if d in ("", ".") else d + "/" for d in unlisted)
    return {rel: r for rel, r in results.items() if not rel.startswith(prefixes)}
