"""The static reference scan (SPEC 5). Pure core: no pytest import.

``scan()`` reads every file under the configured paths once. A byte-level pre-filter (see
``_needs_parse``) proves most files cannot reference any declared path, and only the rest
are parsed. Results are cached per file, keyed by content: a file whose size and mtime are
unchanged is trusted; otherwise its content hash decides, so a cache restored into a fresh
checkout (new mtimes) is still used.
"""

from __future__ import annotations

import functools
import marshal
import os
import re
import struct
import sys
import time
import unicodedata
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .._atomic import write_atomic
from ..config import SsotConfig
from .files import Excluder, area_of, listing, module_name, roots
from .rules import Matcher
from .source import IDENT_ESCAPES, analyze, candidate_lines

__all__ = ["Violation", "ScanResult", "scan", "CACHE_VERSION"]

CACHE_VERSION = 4
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


_PATH_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")
_STRING_END = (b'"', b"'", b".", b"\\")


_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _anchors(words: list[bytes], size: int = 5) -> list[bytes]:
    """Few substrings such that every word contains one: a file holding none of them holds
    no word (one fast ``find`` each instead of one per word). Greedy cover."""
    left = set(words)
    out: list[bytes] = []
    while left:
        pieces: dict[bytes, set[bytes]] = {}
        for w in left:
            for i in range(max(1, len(w) - size + 1)):
                pieces.setdefault(w[i:i + size], set()).add(w)
        best = max(sorted(pieces), key=lambda p: len(pieces[p]))
        out.append(best)
        left -= pieces[best]
    return out


def _has_live(data: bytes, word: bytes) -> bool:
    """Does ``word`` occur as a whole word somewhere it could be part of a reference?"""
    n, size = len(word), len(data)
    pos = data.find(word)
    while pos >= 0:
        end = pos + n
        if ((pos == 0 or data[pos - 1] not in _IDENT_BYTES)
                and (end >= size or data[end] not in _IDENT_BYTES)
                and _live(data, pos, end)):
            return True
        pos = data.find(word, pos + 1)
    return False


def _live(data: bytes, start: int, end: int) -> bool:
    """Can the word at ``data[start:end]`` be part of a reference? ``False`` is a proof.

    Two shapes cannot be, whatever the rest of the file is:

    - a quote, then only dotted-name characters up to the word, then anything but a quote,
      a dot or a backslash: inside a string, that string does not equal the path or start
      with ``path.`` (``"pkg.manager is deprecated"``; if the quote opens it, the path
      stops at the word; if not, the string holds a quote before the word); outside one,
      the word directly follows a string, which no import or definition does;
    - a ``#`` earlier on the same line with no quote before the word on that line: the
      ``#`` opens a comment, or sits in a string that is still open at the word (a
      string holding ``#`` before the word cannot start with the path).
    """
    i = start
    while i > 0 and data[i - 1] in _PATH_BYTES:
        i -= 1
    if i > 0 and data[i - 1] in b"\"'" and data[end:end + 1] not in _STRING_END:
        return False
    line = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
    head = data[line:start]
    return not (b"#" in head and b'"' not in head and b"'" not in head)


class _Filter:
    """The byte-level pre-filter, built once per scan (inherited by forked workers)."""

    def __init__(self, matcher: Matcher, src_layout: bool = False) -> None:
        self.matcher = matcher
        self.src_layout = src_layout
        self.words_re = matcher.prefilter()
        seen = set()
        self.conditions: list[tuple[bytes, re.Pattern[bytes] | None]] = []
        for word, ctx in matcher.conditions():
            key = (word, ctx.pattern if ctx is not None else None)
            if key not in seen:
                seen.add(key)
                self.conditions.append((word, ctx))
        self.anchors = _anchors(sorted({w for w, _ in self.conditions}))

    def _referable(self, data: bytes) -> bool:
        find = data.find
        if all(find(a) < 0 for a in self.anchors):
            return False  # every word holds an anchor: no word, no reference
        live: dict[bytes, bool] = {}
        for word, ctx in self.conditions:
            ok = live.get(word)
            if ok is None:
                ok = live[word] = _has_live(data, word)
            if ok and (ctx is None or ctx.search(data)):
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
        import hashlib  # only files that can hold a reference are hashed

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
# marshal of our own plain data: (fingerprint, files, marshal(dirs), loose, marshal(results)).
# The two big parts stay bytes until a process needs them: forked workers decode their own
# copy, so they never write to (and copy) pages of a parent's heap.
#   dirs:    {dir rel: (mtime_ns, subdirectories "\0"-joined, *.py names "\0"-joined,
#                       array('q') bytes of size, mtime_ns per name)}
#   loose:   {file rel: (size, mtime_ns)} for configured paths that are files
#   results: {file rel: (digest, hits, error)} only for files that went to the parser or
#            could not be read: every other file has no reference.
# A directory whose mtime is unchanged has the same entries (adding, removing or renaming
# an entry changes it), so its listing is reused and only its files are stat'ed. A stored
# mtime of -1 is never trusted: it marks a directory or file whose mtime was too close to
# the moment the cache was written (it could change again within the same timestamp tick:
# git's "racy" rule), so the next run looks again.

_RACY_NS = 2_000_000_000  # the coarsest common timestamp granularity (FAT) plus slack


def _fingerprint(matcher: Matcher, excluder_key: tuple, units: list, src_layout: bool) -> str:
    import json

    data = json.dumps([[c.to_dict() for c in matcher.contracts], list(excluder_key),
                       [rel for _a, rel in units], src_layout], sort_keys=True)
    return f"{CACHE_VERSION}|{sys.version_info[:2]}|{data}"  # compared whole: no hash needed


def _load_cache(path: Path | None, fingerprint: str) -> tuple[int, bytes, dict, bytes]:
    """``(files known, dirs as marshal bytes, loose, results as marshal bytes)``."""
    empty = (0, marshal.dumps({}), {}, marshal.dumps({}))
    if path is None:
        return empty
    try:
        doc = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return empty
    if (not isinstance(doc, tuple) or len(doc) != 5 or doc[0] != fingerprint
            or not isinstance(doc[1], int) or not isinstance(doc[2], bytes)
            or not isinstance(doc[3], dict) or not isinstance(doc[4], bytes)):
        return empty
    return doc[1], doc[2], doc[3], doc[4]


def _decode(blob: bytes) -> dict:
    try:
        data = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _clock_skew(cache_path: Path) -> int:
    """How far our clock is ahead of the file system's, as the cache's directory sees it."""
    try:
        fd = os.open(cache_path.with_name("scan.stamp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o644)
        try:
            local = time.time_ns()
            os.write(fd, b"x")
            return local - os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
    except OSError:
        return 0


def _untrust_racy(entry: tuple, threshold: int) -> tuple:
    mtime, subdirs, names, stats = entry
    if mtime >= threshold:
        mtime = -1
    arr = array("q")
    arr.frombytes(stats)
    racy = [i for i in range(1, len(arr), 2) if arr[i] >= threshold]
    if racy:
        for i in racy:
            arr[i] = -1
        stats = arr.tobytes()
    return mtime, subdirs, names, stats


def _racy_threshold(cache_path: Path | None, started_ns: int) -> int:
    """Timestamps at or above this are not trusted next time. ``started_ns``: our clock when
    the scan began; a file modified since could have been modified again within its
    timestamp's tick, after we read it."""
    if cache_path is None:
        return started_ns
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return started_ns - _RACY_NS
    return started_ns - _clock_skew(cache_path) - _RACY_NS


def _save_cache(path: Path | None, fingerprint: str, dirs: dict, loose: dict,
                results: dict) -> None:
    if path is None:
        return
    files = sum(e[2].count("\0") + 1 for e in dirs.values() if e[2]) + len(loose)
    try:
        write_atomic(path, marshal.dumps((fingerprint, files, marshal.dumps(dirs), loose,
                                          marshal.dumps(results))))
    except OSError:
        pass  # a read-only cache dir costs speed, never correctness


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


# --------------------------------------------------------------------------- workers


@dataclass
class _Outcome:
    """What one process found: only what differs from the cache travels back."""

    files: int = 0
    examined: int = 0  # read again (size or mtime differ from the cache), or unreadable
    parsed: int = 0
    reused: int = 0
    relisted: int = 0
    dirs: dict = field(default_factory=dict)  # dir rel -> new cache entry
    loose: dict = field(default_factory=dict)  # file rel -> (size, mtime_ns)
    results: dict = field(default_factory=dict)  # file rel -> (digest, hits, error)
    dir_errors: list = field(default_factory=list)  # (dir rel, message)

    def pack(self) -> tuple:
        return (self.files, self.examined, self.parsed, self.reused, self.relisted, self.dirs,
                self.loose, self.results, self.dir_errors)

    def merge(self, packed: tuple) -> None:
        files, examined, parsed, reused, relisted, dirs, loose, results, dir_errors = packed
        self.files += files
        self.examined += examined
        self.parsed += parsed
        self.reused += reused
        self.relisted += relisted
        self.dirs.update(dirs)
        self.loose.update(loose)
        self.results.update(results)
        self.dir_errors.extend(dir_errors)


class _Job:
    """What every worker needs; built before forking, so workers inherit it for free."""

    def __init__(self, matcher: Matcher, excluder: Excluder, src_layout: bool,
                 dirs: bytes, loose: dict, results: bytes) -> None:
        self.filt = _Filter(matcher, src_layout)
        self.excluder = excluder
        self.src_layout = src_layout
        self._dirs_blob = dirs
        self._results_blob = results
        self.loose = loose
        shims = []
        for module in matcher.shim_modules:
            base = module.replace(".", "/")
            for prefix in (("", "src/") if src_layout else ("",)):
                shims += [f"{prefix}{base}.py", f"{prefix}{base}/"]
        self.shim_files = frozenset(s for s in shims if s.endswith(".py"))
        self.shim_dirs = tuple(s for s in shims if s.endswith("/"))

    @functools.cached_property
    def dirs(self) -> dict:
        """The cached folders, decoded by the process that first needs them."""
        return _decode(self._dirs_blob)

    @functools.cached_property
    def results(self) -> dict:
        return _decode(self._results_blob)

    def in_shim(self, rel: str) -> bool:
        """A shim file or anything below a shim package: the runtime checks report those."""
        return rel in self.shim_files or bool(self.shim_dirs) and (
            (rel + "/").startswith(self.shim_dirs))

    def contents(self, dirpath: str, dir_rel: str, out: _Outcome
                 ) -> tuple[list[str], list[str], bytes | None] | None:
        """``(subdirectories, names, stored stats or None)``; ``None``: cannot be listed.

        Trusts the stored listing while the directory's mtime is the stored one; stored
        stats are returned only with a trusted listing (they align with its names).
        """
        entry = self.dirs.get(dir_rel)
        try:
            mtime = os.stat(dirpath).st_mtime_ns
            if entry is not None and entry[0] == mtime:
                return (entry[1].split("\0") if entry[1] else [],
                        entry[2].split("\0") if entry[2] else [], entry[3])
            subdirs, names = listing(dirpath, dir_rel, self.excluder, self.shim_files)
        except OSError as exc:
            out.dir_errors.append((dir_rel or ".", f"cannot be listed: {exc.strerror or exc}"))
            return None
        out.relisted += 1
        out.dirs[dir_rel] = (mtime, "\0".join(subdirs), "\0".join(names), b"")
        return subdirs, names, None

    def files(self, dirpath: str, dir_rel: str, names: list[str], stored: bytes | None,
              out: _Outcome, step: Callable[[int], None] | None) -> None:
        """Stat every file; examine those whose size or mtime differ from the cache.

        ``step(k)``: k more files are done (the progress line).
        """
        stat = os.stat
        base = dirpath + "/"
        now: list[int] = []
        add = now.append
        failed: dict[str, str] = {}
        for name in names:
            try:
                st = stat(base + name)
            except OSError as exc:
                failed[name] = exc.strerror or str(exc)
                add(-1)
                add(-1)
                continue
            add(st.st_size)
            add(st.st_mtime_ns)
        out.files += len(names)
        now_bytes = array("q", now).tobytes()
        if stored is not None and now_bytes == stored:
            if step is not None:
                step(len(names))
            return  # the common case: nothing in this directory changed
        if stored is not None:
            old = array("q")
            old.frombytes(stored)
            before = {name: (old[2 * i], old[2 * i + 1]) for i, name in enumerate(names)}
        else:  # a new listing: what we knew of these names before, by name
            before = self._stored_by_name(dir_rel)
        unreadable = False
        for i, name in enumerate(names):
            if step is not None:
                step(1)
            rel = _join(dir_rel, name)
            size, mtime = now[2 * i], now[2 * i + 1]
            if name in failed:
                out.results[rel] = (None, [], f"cannot be read: {failed[name]}")
                out.examined += 1
                continue
            if before.get(name) == (size, mtime) and mtime != -1:
                continue
            if self.examine(base + name, rel, size, out):
                # Permissions change without changing the mtime: look again next time.
                now[2 * i + 1] = -1
                unreadable = True
        if unreadable:
            now_bytes = array("q", now).tobytes()
        entry = out.dirs.get(dir_rel) or self.dirs[dir_rel]
        out.dirs[dir_rel] = (entry[0], entry[1], entry[2], now_bytes)

    def _stored_by_name(self, dir_rel: str) -> dict[str, tuple[int, int]]:
        entry = self.dirs.get(dir_rel)
        if entry is None or not entry[2]:
            return {}
        old = array("q")
        old.frombytes(entry[3])
        names = entry[2].split("\0")
        if len(old) != 2 * len(names):
            return {}
        return {name: (old[2 * i], old[2 * i + 1]) for i, name in enumerate(names)}

    def examine(self, abspath: str, rel: str, size: int, out: _Outcome) -> bool:
        """Read and, if it can hold a reference, parse one file. ``True``: it could not be
        read (not a property of its content: never trusted from the cache)."""
        cached = self.results.get(rel)
        digest, hits, error, did_parse = self.filt.examine(abspath, rel, size, cached)
        out.examined += 1
        out.parsed += did_parse
        if hits is None:  # same content as cached: only the stat changed
            assert cached is not None
            hits, error = cached[1], cached[2]
            out.reused += 1
        if digest is not None or hits or error or cached is not None:
            out.results[rel] = (digest, hits, error)  # (an empty one deletes the cached one)
        return digest is None and bool(error)

    def run(self, units: list, tick: Callable[[int], None] | None = None) -> tuple:
        """Walk ``units`` (``(abspath, rel, recurse)``; ``recurse=None``: a loose file)."""
        out = _Outcome()
        pending = 0

        def step(k: int) -> None:
            nonlocal pending
            pending += k
            if pending >= 1000:
                tick(pending)  # type: ignore[misc]
                pending = 0

        for abspath, rel, recurse in units:
            if self.in_shim(rel):
                continue
            if recurse is None:
                self.loose_file(abspath, rel, out)
                if tick is not None:
                    step(1)
                continue
            stack = [(abspath, rel)]
            while stack:
                dirpath, dir_rel = stack.pop()
                got = self.contents(dirpath, dir_rel, out)
                if got is None:
                    continue
                subdirs, names, stored = got
                if names:
                    self.files(dirpath, dir_rel, names, stored, out,
                               step if tick is not None else None)
                if recurse:
                    for name in reversed(subdirs):
                        sub = _join(dir_rel, name)
                        if not self.in_shim(sub):
                            stack.append((f"{dirpath}/{name}", sub))
        if tick is not None and pending:
            tick(pending)
        return out.pack()

    def loose_file(self, abspath: str, rel: str, out: _Outcome) -> None:
        out.files += 1
        try:
            st = os.stat(abspath)
        except OSError as exc:
            out.results[rel] = (None, [], f"cannot be read: {exc.strerror or exc}")
            out.examined += 1
            out.loose[rel] = (-1, -1)
            return
        now = (st.st_size, st.st_mtime_ns)
        if self.loose.get(rel) != now:
            unreadable = self.examine(abspath, rel, st.st_size, out)
            out.loose[rel] = (now[0], -1) if unreadable else now


def _units(job: _Job, top: list[tuple[str, str]], want: int) -> list[tuple]:
    """Split the configured paths into at least ``want`` units of work, breadth-first.

    A directory expanded here becomes a unit for its own files only (``recurse=False``);
    its subdirectories become units of their own. Lists folders itself rather than from
    the cache, so that the cache is decoded only after workers are forked.
    """
    units: list[tuple] = []
    frontier: list[tuple[str, str]] = []
    for abspath, rel in top:
        if os.path.isdir(abspath):
            frontier.append((abspath, rel))
        elif rel.endswith(".py") and not job.excluder.excluded(rel, os.path.basename(abspath)):
            units.append((abspath, rel, None))
    for _depth in range(3):
        if len(frontier) >= want:
            break
        deeper: list[tuple[str, str]] = []
        for abspath, rel in frontier:
            if job.in_shim(rel):
                continue
            try:
                subdirs, _names = listing(abspath, rel, job.excluder, job.shim_files)
            except OSError:
                units.append((abspath, rel, True))  # run() reports it
                continue
            units.append((abspath, rel, False))
            deeper += [(f"{abspath}/{name}", _join(rel, name)) for name in subdirs]
        frontier = deeper
    units += [(abspath, rel, True) for abspath, rel in frontier]
    return units


def _parallel(job: _Job, units: list, n_jobs: int,
              progress: Callable[[int, int], None] | None, expected: int) -> _Outcome:
    """``n_jobs - 1`` forked workers and this process share the units, interleaved."""
    import selectors

    shares: list[list] = [units[k::n_jobs] for k in range(n_jobs)]
    own = shares.pop()  # the parent walks a share too instead of waiting
    workers = []
    for part in shares:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # worker
            code = 0
            try:
                os.close(r)

                def tick(n: int, _w: int = w) -> None:
                    os.write(_w, b"P" + struct.pack("<I", n))

                payload = marshal.dumps(job.run(part, tick if progress else None))
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

    total = _Outcome()
    total.merge(job.run(own, own_tick if progress else None))
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
    for pid, r in workers:
        os.close(r)
        _, status = os.waitpid(pid, 0)
        buf = bufs[r]
        if status != 0 or buf[:1] != b"R":
            raise RuntimeError(f"pytest-ssot scan worker {pid} died (status {status})")
        total.merge(marshal.loads(bytes(buf[1:])))
    return total


# --------------------------------------------------------------------------- the scan


def scan(settings: SsotConfig, root: Path, *, cache_path: Path | None = None,
         jobs: int | None = None,
         progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Scan the project at ``root`` for references to the contracts' paths."""
    t0 = time.perf_counter()
    started_ns = time.time_ns()
    matcher = Matcher(settings.contracts)
    result = ScanResult(canonical={c.name: 0 for c in settings.contracts})
    if not settings.contracts:
        return result
    excluder = Excluder(settings.exclude)
    top = roots(root, settings.paths)
    src_layout = (root / "src").is_dir()
    fingerprint = _fingerprint(matcher, tuple(settings.exclude), top, src_layout)
    known, dirs_blob, loose, results_blob = _load_cache(cache_path, fingerprint)
    job = _Job(matcher, excluder, src_layout, dirs_blob, loose, results_blob)

    n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    parallel = n_jobs > 1 and hasattr(os, "fork") and (known >= _PARALLEL_MIN_FILES
                                                       or not known)
    units = _units(job, top, want=8 * n_jobs if parallel else 0)
    if parallel:
        out = _parallel(job, units, n_jobs, progress, known)
    else:
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            progress(done[0], max(done[0], known))  # type: ignore[misc]

        out = _Outcome()
        out.merge(job.run(units, tick if progress else None))
    if progress:
        progress(out.files, out.files)
    result.files_scanned = out.files
    result.files_parsed = out.parsed
    result.files_from_cache = out.files - out.examined + out.reused

    results = job.results
    if out.dirs or out.loose or out.results:
        # Only what was stat'ed anew can be racy: what is unchanged passed this test when
        # it was stored, against an older threshold.
        threshold = _racy_threshold(cache_path, started_ns)
        dirs = {**job.dirs, **{rel: _untrust_racy(e, threshold) for rel, e in out.dirs.items()}}
        loose = {**loose, **{rel: (size, -1 if mtime >= threshold else mtime)
                             for rel, (size, mtime) in out.loose.items()}}
        results = dict(results)
        for rel, outcome in out.results.items():
            if outcome[0] is not None or outcome[1] or outcome[2]:
                results[rel] = outcome
            else:
                results.pop(rel, None)
        if out.relisted and job.dirs:  # entries may have gone: keep what the tree still holds
            dirs, loose, results = _prune(job, top, dirs, loose, results)
        _save_cache(cache_path, fingerprint, dirs, loose, results)

    for rel, message in out.dir_errors:
        result.errors.append({"file": rel, "message": message})
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
    result.errors.sort(key=lambda e: e["file"])
    result.seconds = time.perf_counter() - t0
    return result


def _prune(job: _Job, top: list[tuple[str, str]], dirs: dict, loose: dict,
           results: dict) -> tuple[dict, dict, dict]:
    """Drop what the configured paths no longer reach (deleted or newly excluded)."""
    keep_dirs: dict = {}
    keep_loose: dict = {}
    present: set[str] = set()
    stack = []
    for _abspath, rel in top:
        if rel in loose:
            keep_loose[rel] = loose[rel]
            present.add(rel)
        else:
            stack.append(rel)
    while stack:
        rel = stack.pop()
        entry = dirs.get(rel)
        if entry is None or rel in keep_dirs or job.in_shim(rel):
            continue
        keep_dirs[rel] = entry
        if entry[1]:
            stack += [_join(rel, name) for name in entry[1].split("\0")]
        if entry[2]:
            present.update(_join(rel, name) for name in entry[2].split("\0"))
    return keep_dirs, keep_loose, {rel: v for rel, v in results.items() if rel in present}
