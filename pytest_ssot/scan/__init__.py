"""The static reference scan (SPEC 5). Pure core: no pytest import.

``scan()`` reads every file under the configured paths once. A byte-level pre-filter (see
``_needs_parse``) proves most files cannot reference any declared path, and only the rest
are parsed. Results are cached per file, keyed by content: a file whose size and mtime are
unchanged is trusted; otherwise its content hash decides, so a cache restored into a fresh
checkout (new mtimes) is still used.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import struct
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .._atomic import write_atomic
from ..config import SsotConfig
from .files import Excluder, area_of, module_name, roots, split, walk
from .rules import Matcher
from .source import IDENT_ESCAPES, analyze, candidate_lines

__all__ = ["Violation", "ScanResult", "scan", "CACHE_VERSION"]

CACHE_VERSION = 3
_PARALLEL_MIN_FILES = 3000

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


class _Filter:
    """The byte-level pre-filter, built once per scan (inherited by forked workers)."""

    def __init__(self, matcher: Matcher, src_layout: bool = False) -> None:
        self.matcher = matcher
        self.src_layout = src_layout
        self.words_re = matcher.prefilter()
        seen = set()
        self.conditions = []
        for word, ctx in matcher.conditions():
            key = (word, ctx.pattern if ctx is not None else None)
            if key in seen:
                continue
            seen.add(key)
            word_re = re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(word) +
                                 rb"(?![A-Za-z0-9_])")
            self.conditions.append((word, word_re, ctx))

    def _referable(self, data: bytes) -> bool:
        for word, word_re, ctx in self.conditions:
            if data.find(word) < 0 or not word_re.search(data):
                continue
            if ctx is None or ctx.search(data):
                return True
        return False

    def needs_parse(self, data: bytes) -> bool:
        """Can this file reference a declared path? ``False`` is a proof that it cannot.

        Every form of SPEC 5 meets one of ``Matcher.conditions()`` in the source bytes,
        except through (a) identifiers that NFKC-normalise to the words (non-ASCII source),
        (b) string escapes that spell identifier characters, (c) an encoding that is not an
        ASCII superset. Each of those sends the file to the parser, which also reports
        undecodable files.
        """
        if self._referable(data):
            return True
        if b"\\" in data and IDENT_ESCAPES.search(data):
            return True
        head = data[:400]
        if b"coding" in head:
            m = _CODING.search(b"\n".join(head.splitlines()[:2]))
            if m and not _ASCII_SUPERSETS.match(m.group(1).decode("ascii", "replace")):
                return True
        if not data.isascii():
            import io
            import tokenize

            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
                text = data.decode(encoding)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                return True
            normalized = unicodedata.normalize("NFKC", text)
            if normalized != text and self._referable(normalized.encode("utf-8", "replace")):
                return True
        return False

    def examine(self, abspath: str, rel: str, size: int,
                cached: tuple | None) -> tuple[str | None, list | None, str | None, bool]:
        """``(digest, hits, error, parsed)``; ``hits is None``: same content as cached."""
        try:
            fd = os.open(abspath, os.O_RDONLY)
            try:
                data = os.read(fd, size + 1)
                if len(data) > size:  # grew since the stat: read the rest
                    chunks = [data]
                    while True:
                        more = os.read(fd, 1 << 20)
                        if not more:
                            break
                        chunks.append(more)
                    data = b"".join(chunks)
            finally:
                os.close(fd)
        except OSError as exc:
            return None, [], f"cannot be read: {exc.strerror or exc}", False
        if not self.needs_parse(data):
            return None, [], None, False
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest:
            return digest, None, None, False
        module, is_package = module_name(rel, self.src_layout)
        hits, error = analyze(data, self.matcher, module, is_package,
                              lines=candidate_lines(data, self.words_re))
        flat = [[h.entry.contract, h.entry.role, str(h.entry.path), h.entry.fix, h.kind,
                 h.line] for h in hits]
        return digest, flat, error, True


# --------------------------------------------------------------------------- cache
# (fingerprint, {rel: size << 64 | mtime_ns}, {rel: (digest, hits, error)}): marshal of our own
# plain data. The stat index covers every file; results only files that went to the parser
# (or could not be read): every other file has no reference.


def _fingerprint(matcher: Matcher) -> str:
    import json

    data = json.dumps([c.to_dict() for c in matcher.contracts], sort_keys=True)
    return hashlib.blake2b(f"{CACHE_VERSION}|{sys.version_info[:2]}|{data}".encode(),
                           digest_size=16).hexdigest()


def _load_cache(path: Path | None, fingerprint: str) -> tuple[dict, dict]:
    if path is None:
        return {}, {}
    try:
        doc = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}, {}
    if (not isinstance(doc, tuple) or len(doc) != 3 or doc[0] != fingerprint
            or not isinstance(doc[1], dict) or not isinstance(doc[2], dict)):
        return {}, {}
    return doc[1], doc[2]


def _save_cache(path: Path | None, fingerprint: str, stats: dict, results: dict) -> None:
    if path is None:
        return
    try:
        write_atomic(path, marshal.dumps((fingerprint, stats, results)))
    except OSError:
        pass  # a read-only cache dir costs speed, never correctness


# --------------------------------------------------------------------------- workers


class _Job:
    """What every worker needs; built before forking, so workers inherit it for free."""

    def __init__(self, matcher: Matcher, excluder: Excluder, src_layout: bool,
                 stats: dict, results: dict) -> None:
        self.filt = _Filter(matcher, src_layout)
        self.excluder = excluder
        self.src_layout = src_layout
        self.stats = stats
        self.results = results
        shims = []
        for module in matcher.shim_modules:
            base = module.replace(".", "/")
            for prefix in (("", "src/") if src_layout else ("",)):
                shims += [f"{prefix}{base}.py", f"{prefix}{base}/"]
        self.shim_files = tuple(s for s in shims if s.endswith(".py"))
        self.shim_dirs = tuple(s for s in shims if s.endswith("/"))

    def run(self, dirs: list, files: list, tick: Callable[[int], None] | None = None
            ) -> tuple[int, int, list, int, int]:
        """Walk, stat and where changed examine: ``(files, known, changed, parsed, reused)``.

        ``known``: files present in the cache's stat index (to notice deleted files).
        """
        stats, results, examine = self.stats, self.results, self.filt.examine
        shim_files, shim_dirs = self.shim_files, self.shim_dirs
        changed: list = []
        n = known = parsed = reused = 0
        loose = ((abspath, rel, None) for abspath, rel in files)
        for source in (loose, walk(dirs, self.excluder)):
            for abspath, rel, entry in source:
                if rel in shim_files or (shim_dirs and rel.startswith(shim_dirs)):
                    continue  # the shim itself: the runtime checks report it
                n += 1
                if tick is not None and n % 1000 == 0:
                    tick(1000)
                try:
                    st = entry.stat() if entry is not None else os.stat(abspath)
                except OSError as exc:
                    changed.append((rel, -1, -1, (None, [], f"cannot be read: {exc.strerror}")))
                    continue
                old = stats.get(rel)
                if old is not None:
                    known += 1
                    if old == (st.st_size << 64 | st.st_mtime_ns):
                        continue
                cached = results.get(rel)
                digest, hits, error, did_parse = examine(abspath, rel, st.st_size, cached)
                parsed += did_parse
                if hits is None:  # same content as cached: only the stat changed
                    assert cached is not None
                    hits, error = cached[1], cached[2]
                    reused += 1
                changed.append((rel, st.st_size, st.st_mtime_ns, (digest, hits, error)))
        return n, known, changed, parsed, reused


def _parallel(job: _Job, dirs: list, files: list, n_jobs: int,
              progress: Callable[[int, int], None] | None, expected: int) -> tuple:
    """``n_jobs - 1`` forked workers and this process share the directories, interleaved."""
    import selectors

    shares: list[tuple[list, list]] = [([], []) for _ in range(n_jobs)]
    for k, d in enumerate(dirs):
        shares[k % n_jobs][0].append(d)
    shares[0][1].extend(files)
    own_dirs, own_files = shares.pop()  # the parent walks a share too instead of waiting
    workers = []
    for part_dirs, part_files in shares:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # worker
            code = 0
            try:
                os.close(r)

                def tick(n: int, _w: int = w) -> None:
                    os.write(_w, b"P" + struct.pack("<I", n))

                payload = marshal.dumps(job.run(part_dirs, part_files,
                                                tick if progress else None))
                view = memoryview(b"R" + payload)
                while view:
                    view = view[os.write(w, view):]
            except BaseException:  # noqa: BLE001 - the parent reports a worker's death
                code = 70
            finally:
                os._exit(code)
        os.close(w)
        workers.append((pid, r))
    done = 0

    def own_tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, max(expected, done))

    mine = job.run(own_dirs, own_files, own_tick if progress else None)
    sel = selectors.DefaultSelector()
    bufs: dict[int, bytearray] = {}
    for _pid, r in workers:
        sel.register(r, selectors.EVENT_READ)
        bufs[r] = bytearray()
    remaining = len(workers)
    while remaining:
        for key, _ in sel.select():
            chunk = os.read(key.fd, 1 << 20)
            if not chunk:
                sel.unregister(key.fd)
                remaining -= 1
                continue
            buf = bufs[key.fd]
            buf += chunk
            while buf[:1] == b"P" and len(buf) >= 5:
                done += struct.unpack("<I", buf[1:5])[0]
                del buf[:5]
                if progress:
                    progress(done, max(expected, done))
    sel.close()
    total = [mine[0], mine[1], list(mine[2]), mine[3], mine[4]]
    for pid, r in workers:
        os.close(r)
        _, status = os.waitpid(pid, 0)
        buf = bufs[r]
        if status != 0 or buf[:1] != b"R":
            raise RuntimeError(f"pytest-ssot scan worker {pid} died (status {status})")
        n, known, changed, parsed, reused = marshal.loads(bytes(buf[1:]))
        total[0] += n
        total[1] += known
        total[2].extend(changed)
        total[3] += parsed
        total[4] += reused
    if progress:
        progress(total[0], total[0])
    return tuple(total)


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
    excluder = Excluder(settings.exclude)
    units = roots(root, settings.paths)
    fingerprint = _fingerprint(matcher)
    stats, results = _load_cache(cache_path, fingerprint)
    job = _Job(matcher, excluder, (root / "src").is_dir(), stats, results)

    n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    parallel = n_jobs > 1 and hasattr(os, "fork") and (
        len(stats) >= _PARALLEL_MIN_FILES or not stats)
    dirs, files = split(units, excluder, want=8 * n_jobs if parallel else 0)
    if parallel:
        n, known, changed, parsed, reused = _parallel(job, dirs, files, n_jobs, progress,
                                                      len(stats))
    else:
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            progress(done[0], max(done[0], len(stats)))  # type: ignore[misc]

        n, known, changed, parsed, reused = job.run(dirs, files, tick if progress else None)
        if progress:
            progress(n, n)
    result.files_scanned = n
    result.files_parsed = parsed
    result.files_from_cache = n - len(changed) + reused

    if changed or known != len(stats):
        if known != len(stats):  # files were deleted or excluded: rebuild from what exists
            seen = _present(job, dirs, files)
            stats = {rel: v for rel, v in stats.items() if rel in seen}
            results = {rel: v for rel, v in results.items() if rel in seen}
        else:
            stats, results = dict(stats), dict(results)
        for rel, size, mtime, outcome in changed:
            stats[rel] = size << 64 | mtime
            if outcome[0] is not None or outcome[1] or outcome[2]:
                results[rel] = outcome
            else:
                results.pop(rel, None)
        _save_cache(cache_path, fingerprint, stats, results)

    areas = settings.areas
    for rel in sorted(results):
        _digest, hits, error = results[rel]
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
    result.seconds = time.perf_counter() - t0
    return result


def _present(job: _Job, dirs: list, files: list) -> set[str]:
    """The rels the scan covers now (only walked again when files disappeared)."""
    seen = {rel for _a, rel in files}
    seen.update(rel for _a, rel, _e in walk(dirs, job.excluder))
    return seen
