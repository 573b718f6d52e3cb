"""The static reference scan (SPEC 5). Pure core: no pytest import.

``scan()`` reads every file under the configured paths once. A byte-level pre-filter (see
``_needs_parse``) proves most files cannot reference any declared path, and only the rest
are parsed. Results are cached per file, keyed by content: a file whose size and mtime are
unchanged is trusted; otherwise its content hash decides, so a cache restored into a fresh
checkout (new mtimes) is still used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..config import SsotConfig
from .files import SourceFile, area_of, discover, module_name
from .rules import Matcher
from .source import analyze

__all__ = ["Violation", "ScanResult", "scan", "CACHE_VERSION"]

CACHE_VERSION = 1
_PARALLEL_MIN_FILES = 4000

# Escapes that can spell an identifier character or a dot inside a string literal.
_IDENT_ESCAPES = re.compile(
    rb"\\(?:x(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|u00(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])"
    rb"|U0000(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|N\{|[0-7]{2,3})")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_ASCII_SUPERSETS = re.compile(r"^(utf[-_]?8(?:[-_]sig)?|ascii|us[-_]ascii|latin[-_]?1|"
                              r"iso[-_]?8859[-_]?\d+|cp125\d|windows[-_]125\d|l\d|"
                              r"iso[-_]latin[-_]\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    contract: str
    file: str
    line: int
    kind: str  # import | string | definition
    role: str  # legacy | factory | definition
    path: str
    fix: str
    area: str


@dataclass
class ScanResult:
    files_scanned: int = 0
    files_parsed: int = 0
    files_from_cache: int = 0
    violations: list[Violation] = field(default_factory=list)
    canonical: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self, contract: str) -> dict[str, int]:
        """Violations per file for one contract (what the baseline stores)."""
        out: dict[str, int] = {}
        for v in self.violations:
            if v.contract == contract:
                out[v.file] = out.get(v.file, 0) + 1
        return dict(sorted(out.items()))

    def compliance(self, contract: str) -> float:
        canonical = self.canonical.get(contract, 0)
        refs = sum(1 for v in self.violations if v.contract == contract and v.kind != "definition")
        return 1.0 if canonical + refs == 0 else canonical / (canonical + refs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ScanResult":
        d = dict(d)
        d["violations"] = [Violation(**v) for v in d["violations"]]
        return cls(**d)


# --------------------------------------------------------------------------- one file

_MATCHER: Matcher | None = None
_WORDS: "re.Pattern[bytes] | None" = None


def _init_worker(matcher: Matcher) -> None:
    global _MATCHER, _WORDS
    _MATCHER = matcher
    _WORDS = matcher.prefilter()


def _needs_parse(data: bytes) -> tuple[bool, str | None]:
    """Can this file reference a declared path? ``(False, None)`` is a proof that it cannot.

    Every form of SPEC 5 spells the entry's last name as a whole word, except through
    (a) identifiers that NFKC-normalise to it (non-ASCII source), (b) string escapes that
    spell identifier characters, (c) an encoding that is not an ASCII superset. Each of
    those sends the file to the parser. Returns an error for undecodable files.
    """
    assert _WORDS is not None
    if _WORDS.search(data):
        return True, None
    if _IDENT_ESCAPES.search(data):
        return True, None
    head = data[:400]
    if b"coding" in head:
        lines = b"\n".join(head.splitlines()[:2])
        m = _CODING.search(lines)
        if m and not _ASCII_SUPERSETS.match(m.group(1).decode("ascii", "replace")):
            return True, None
    if not data.isascii():
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
            return True, f"{type(exc).__name__}: {exc}"  # analyze() reports it exactly
        normalized = unicodedata.normalize("NFKC", text)
        if normalized != text and _WORDS.search(normalized.encode("utf-8", "replace")):
            return True, None
    return False, None


def _examine(item: tuple[str, str, str | None, bool, str | None]) -> tuple:
    """Worker: ``(rel, digest, hits, error, parsed)`` for one file."""
    rel, abspath, module, is_package, cached_digest = item
    assert _MATCHER is not None
    try:
        with open(abspath, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return rel, None, [], f"cannot be read: {exc.strerror or exc}", False
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if cached_digest is not None and digest == cached_digest:
        return rel, digest, None, None, False  # unchanged content: reuse
    parse, _ = _needs_parse(data)
    if not parse:
        return rel, digest, [], None, False
    hits, error = analyze(data, _MATCHER, module, is_package)
    flat = [[h.entry.contract, h.entry.role, str(h.entry.path), h.entry.fix, h.kind, h.line]
            for h in hits]
    return rel, digest, flat, error, True


def _examine_chunk(items: list) -> list:
    return [_examine(i) for i in items]


# --------------------------------------------------------------------------- cache


def _fingerprint(matcher: Matcher) -> str:
    data = json.dumps([c.to_dict() for c in matcher.contracts], sort_keys=True)
    return hashlib.blake2b(f"{CACHE_VERSION}|{sys.version_info[:2]}|{data}".encode(),
                           digest_size=16).hexdigest()


def _load_cache(path: Path | None, fingerprint: str) -> dict[str, list]:
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("fingerprint") != fingerprint:
        return {}
    files = doc.get("files")
    return files if isinstance(files, dict) else {}


def _save_cache(path: Path | None, fingerprint: str, files: dict[str, list]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".scan.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"fingerprint": fingerprint, "files": files}, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache dir costs speed, never correctness


# --------------------------------------------------------------------------- the scan


def scan(settings: SsotConfig, root: Path, *, cache_path: Path | None = None,
         jobs: int | None = None,
         progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Scan the project at ``root`` for references to the contracts' paths."""
    t0 = time.perf_counter()
    matcher = Matcher(settings.contracts)
    result = ScanResult(canonical={c.name: 0 for c in settings.contracts})
    if not settings.contracts:
        return result
    src_layout = (root / "src").is_dir()
    files = discover(root, settings.paths, settings.exclude)
    fingerprint = _fingerprint(matcher)
    cache = _load_cache(cache_path, fingerprint)
    new_cache: dict[str, list] = {}

    work: list[tuple[str, str, str | None, bool, str | None]] = []
    meta: dict[str, tuple[SourceFile, str | None]] = {}
    outcomes: dict[str, tuple[list, str | None]] = {}
    for f in files:
        module, is_package = module_name(f.rel, src_layout)
        if matcher.is_shim(module):
            continue  # the shim itself: the runtime checks report it
        result.files_scanned += 1
        meta[f.rel] = (f, module)
        entry = cache.get(f.rel)
        if entry and entry[0] == f.size and entry[1] == f.mtime_ns:
            outcomes[f.rel] = (entry[3], entry[4])
            new_cache[f.rel] = entry
            result.files_from_cache += 1
            continue
        work.append((f.rel, f.abspath, module, is_package, entry[2] if entry else None))

    def take(answer: tuple) -> None:
        rel, digest, hits, error, parsed = answer
        f, _ = meta[rel]
        if hits is None:  # same content as cached
            old = cache[rel]
            hits, error = old[3], old[4]
            result.files_from_cache += 1
        result.files_parsed += parsed
        outcomes[rel] = (hits, error)
        if digest is not None:
            new_cache[rel] = [f.size, f.mtime_ns, digest, hits, error]

    total = len(work)
    n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if n_jobs > 1 and total >= _PARALLEL_MIN_FILES and "fork" in _start_methods():
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        size = max(64, total // (n_jobs * 8))
        chunks = [work[i:i + size] for i in range(0, total, size)]
        done = 0
        with ctx.Pool(n_jobs, initializer=_init_worker, initargs=(matcher,)) as pool:
            for answers in pool.imap_unordered(_examine_chunk, chunks):
                for a in answers:
                    take(a)
                done += len(answers)
                if progress:
                    progress(done, total)
    else:
        _init_worker(matcher)
        for i, item in enumerate(work):
            take(_examine(item))
            if progress and (i + 1) % 2000 == 0:
                progress(i + 1, total)

    areas = settings.areas
    for rel in sorted(outcomes):
        hits, error = outcomes[rel]
        if error:
            result.errors.append({"file": rel, "message": error})
        if not hits:
            continue
        area = area_of(rel, areas)
        for contract, role, path, fix, kind, line in hits:
            if role == "canonical":
                result.canonical[contract] = result.canonical.get(contract, 0) + 1
                continue
            result.violations.append(Violation(contract, rel, line, kind, role, path, fix,
                                               area))
    _save_cache(cache_path, fingerprint, new_cache)
    result.seconds = time.perf_counter() - t0
    return result


def _start_methods() -> Sequence[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()
