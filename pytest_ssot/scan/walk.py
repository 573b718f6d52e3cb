"""Walking the configured paths: this process and forked workers, each on its share.

Pure: no pytest. What a worker finds travels back as marshal data; only what differs from
the cache is sent.
"""

from __future__ import annotations

import functools
import marshal
import os
import struct
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from ..parallel import Link, Pool, TaskQueue
from .files import MAYBE, Excluder, listing, packages_kept
from .prefilter import Filter
from .rules import Matcher

if TYPE_CHECKING:
    from .text import TextFiles, TextScanner


_DIR_FD = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def decode(blob: bytes) -> dict:
    """A blob of the scan cache (marshal), as the process that first needs it reads it;
    ``{}`` for anything that is not a marshalled dict."""
    try:
        data = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _open_folder(path: str) -> int:
    """A descriptor of the folder to look names up in, or -1 (not supported here, or the
    folder cannot be opened though its entries can be stat'ed: then by full path)."""
    if not _DIR_FD:
        return -1
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return -1


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


@dataclass
class Outcome:
    """What one process found: only what differs from the cache travels back."""

    files: int = 0
    text_files: int = 0  # of ``files``: docs and configuration files (SPEC 13)
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
                self.loose, self.results, self.dir_errors, self.text_files)

    def merge(self, packed: tuple) -> None:
        (files, examined, parsed, reused, relisted, dirs, loose, results, dir_errors,
         text_files) = packed
        self.files += files
        self.text_files += text_files
        self.examined += examined
        self.parsed += parsed
        self.reused += reused
        self.relisted += relisted
        self.dirs.update(dirs)
        self.loose.update(loose)
        self.results.update(results)
        self.dir_errors.extend(dir_errors)


class Job:
    """What every worker needs; built before forking, so workers inherit it for free."""

    def __init__(self, matcher: Matcher, excluder: Excluder, src_layout: bool,
                 dirs: bytes, loose: dict, results: bytes, own_dir: str | None = None,
                 trust_stat: bool = True,
                 text: "tuple[TextFiles, TextScanner] | None" = None) -> None:
        """``own_dir``: the cache's folder, when it lies under the rootdir (not scanned:
        writing the cache changes its mtime, and it holds no source). ``trust_stat=False``
        (``--verify``): no listing or file is trusted for its mtime and size; every file
        is read, and only its content hash can reuse a cached result."""
        self.trust_stat = trust_stat
        self.filt = Filter(matcher, src_layout)
        self.excluder = excluder
        self.src_layout = src_layout
        self._dirs_blob = dirs
        self._results_blob = results
        self.loose = loose
        # docs and configuration files (SPEC 13): which, and their token rules
        self.text_files, self.text_scanner = text if text is not None else (None, None)
        shims = []
        for module in matcher.shim_modules:
            base = module.replace(".", "/")
            for prefix in (("", "src/") if src_layout else ("",)):
                shims += [f"{prefix}{base}.py", f"{prefix}{base}/"]
        self.shim_files = frozenset(s for s in shims if s.endswith(".py"))
        self.skip_dirs = tuple(s for s in shims if s.endswith("/")) + (
            (own_dir + "/",) if own_dir and own_dir != "." else ())

    @functools.cached_property
    def dirs(self) -> dict:
        """The cached folders, decoded by the process that first needs them."""
        return decode(self._dirs_blob)

    @functools.cached_property
    def results(self) -> dict:
        return decode(self._results_blob)

    def skipped(self, rel: str) -> bool:
        """A shim file or anything below a shim package (the runtime checks report those),
        or the cache's own folder."""
        return rel in self.shim_files or bool(self.skip_dirs) and (
            (rel + "/").startswith(self.skip_dirs))

    def contents(self, dirpath: str, dir_rel: str, out: Outcome
                 ) -> tuple[list[str], list[str], bytes | None] | None:
        """``(subdirectories, names, stored stats or None)``; ``None``: cannot be listed.

        Trusts the stored listing while the directory's mtime is the stored one; stored
        stats are returned only with a trusted listing (they align with its names).
        """
        entry = self.dirs.get(dir_rel)
        try:
            mtime = os.stat(dirpath).st_mtime_ns
            if entry is not None and entry[0] == mtime and self.trust_stat:
                return (entry[1].split("\0") if entry[1] else [],
                        entry[2].split("\0") if entry[2] else [], entry[3])
            subdirs, names = listing(dirpath, dir_rel, self.excluder, self.shim_files,
                                     self.text_files)
        except OSError as exc:
            out.dir_errors.append((dir_rel or ".", f"cannot be listed: {exc.strerror or exc}"))
            return None
        out.relisted += 1
        out.dirs[dir_rel] = (mtime, "\0".join(subdirs), "\0".join(names), b"")
        return subdirs, names, None

    def files(self, dirpath: str, dir_rel: str, names: list[str], stored: bytes | None,
              out: Outcome, step: Callable[[int], None] | None) -> None:
        """Stat every file; examine those whose size or mtime differ from the cache.

        ``step(k)``: k more files are done (the progress line).
        """
        stat = os.stat
        base = dirpath + "/"
        now: list[int] = []
        add = now.append
        failed: dict[str, str] = {}
        odd: set[str] = set()  # not regular files: ``read_source`` says what they are
        # Each name looked up in the open folder rather than from the root: the stat of
        # every file is most of a warm scan.
        folder = _open_folder(dirpath)
        try:
            for name in names:
                try:
                    st = stat(name, dir_fd=folder) if folder >= 0 else stat(base + name)
                except OSError as exc:
                    failed[name] = exc.strerror or str(exc)
                    add(-1)
                    add(-1)
                    continue
                if st.st_mode & 0o170000 != 0o100000:  # S_ISREG, without a call per file
                    odd.add(name)
                add(st.st_size)
                add(st.st_mtime_ns)
        finally:
            if folder >= 0:
                os.close(folder)
        out.files += len(names)
        if self.text_files is not None:  # C-speed count: this runs for every folder
            joined = "\0".join(names)
            out.text_files += len(names) - joined.count(".py\0") - joined.endswith(".py")
        now_bytes = array("q", now).tobytes()
        if stored is not None and now_bytes == stored:
            if step is not None:
                step(len(names))
            return  # the common case: nothing in this directory changed
        if stored is not None:
            old = array("q")
            old.frombytes(stored)
            before = {name: (old[2 * i], old[2 * i + 1]) for i, name in enumerate(names)}
        elif self.trust_stat:  # a new listing: what we knew of these names before, by name
            before = self._stored_by_name(dir_rel)
        else:
            before = {}
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
            if self.examine(base + name, rel, size, out, name not in odd):
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

    def examine(self, abspath: str, rel: str, size: int, out: Outcome,
                regular: bool = False) -> bool:
        """Read and, if it can hold a reference, parse one file. ``True``: it could not be
        read (not a property of its content: never trusted from the cache)."""
        cached = self.results.get(rel)
        if rel.endswith(".py") or self.text_files is None:
            digest, hits, error, did_parse = self.filt.examine(abspath, rel, size, cached,
                                                               regular)
        else:  # a docs or configuration file listed by ``listing``
            kind = self.text_files.kind(rel, rel.rpartition("/")[2]) or "config"
            digest, hits, error, did_parse = self.text_scanner.examine(  # type: ignore[union-attr]
                abspath, size, cached, kind, regular)
        out.examined += 1
        out.parsed += did_parse
        if hits is None:  # same content as cached: only the stat changed
            assert cached is not None
            hits, error = cached[1], cached[2]
            out.reused += 1
        if digest is not None or hits or error or cached is not None:
            out.results[rel] = (digest, hits, error)  # (an empty one deletes the cached one)
        return digest is None and bool(error)

    def run(self, units: Iterable[tuple], tick: Callable[[int], None] | None = None) -> tuple:
        """Walk ``units`` (``(abspath, rel, recurse)``; ``recurse=None``: a loose file)."""
        out = Outcome()
        pending = 0

        def step(k: int) -> None:
            nonlocal pending
            pending += k
            if pending >= 1000:
                tick(pending)  # type: ignore[misc]
                pending = 0

        for abspath, rel, recurse in units:
            if self.skipped(rel):
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
                    kept = packages_kept(dirpath, subdirs)
                    if len(kept) < len(subdirs) and any(
                            _join(dir_rel, n[1:]) in self.dirs for n in subdirs
                            if n.startswith(MAYBE) and n[1:] not in kept):
                        # A folder walked as a package lost its __init__.py: its cached
                        # files must go (its parent's listing did not change).
                        out.relisted += 1
                    for name in reversed(kept):
                        sub = _join(dir_rel, name)
                        if not self.skipped(sub):
                            stack.append((f"{dirpath}/{name}", sub))
        if tick is not None and pending:
            tick(pending)
        return out.pack()

    def loose_file(self, abspath: str, rel: str, out: Outcome) -> None:
        out.files += 1
        out.text_files += not rel.endswith(".py")
        try:
            st = os.stat(abspath)
        except OSError as exc:
            out.results[rel] = (None, [], f"cannot be read: {exc.strerror or exc}")
            out.examined += 1
            out.loose[rel] = (-1, -1)
            return
        now = (st.st_size, st.st_mtime_ns)
        if self.loose.get(rel) != now or not self.trust_stat:
            unreadable = self.examine(abspath, rel, st.st_size, out)
            out.loose[rel] = (now[0], -1) if unreadable else now


def units_of_work(job: Job, top: list[tuple[str, str]], want: int) -> list[tuple]:
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
        elif (rel.endswith(".py") or job.text_files and job.text_files.kind(
                rel, os.path.basename(abspath))) and not job.excluder.excluded(
                rel, os.path.basename(abspath)):
            units.append((abspath, rel, None))
    for _depth in range(3):
        if len(frontier) >= want:
            break
        deeper: list[tuple[str, str]] = []
        for abspath, rel in frontier:
            if job.skipped(rel):
                continue
            try:
                subdirs, _names = listing(abspath, rel, job.excluder, job.shim_files)
            except OSError:
                units.append((abspath, rel, True))  # run() reports it
                continue
            units.append((abspath, rel, False))
            deeper += [(f"{abspath}/{name}", _join(rel, name))
                       for name in packages_kept(abspath, subdirs)]
        frontier = deeper
    units += [(abspath, rel, True) for abspath, rel in frontier]
    return units


def run_parallel(job: Job, units: list, n_jobs: int,
                 progress: Callable[[int, int], None] | None, expected: int,
                 meanwhile: Callable[[], None] | None = None) -> Outcome:
    """``n_jobs - 1`` forked workers and this process take units from one queue
    (``parallel.TaskQueue``): whoever is free takes the next. The units a worker that dies
    took are walked again here."""
    queue = TaskQueue(len(units))
    try:
        with Pool() as pool:
            def worker(link: Link) -> None:
                queue.in_worker()

                def tick(n: int) -> None:
                    link.send(b"P" + struct.pack("<I", n))

                taken: list[int] = []
                packed = job.run(queue.take(units, taken), tick if progress else None)
                link.send(b"R" + marshal.dumps((packed, taken)))

            for index in range(n_jobs - 1):
                try:
                    if not pool.fork(index, worker):
                        break
                except OSError:
                    break  # no more processes (or descriptors): fewer workers, same answer
            queue.start()
            # While the workers take the first units: what this process needs only after
            # the walk (the cached results; the caller's own preparations).
            job.results  # noqa: B018 - decoded now
            if meanwhile is not None:
                meanwhile()
            return _collect(job, units, queue, pool, progress, expected)
    finally:
        queue.close()


def _collect(job: Job, units: list, queue: TaskQueue, pool: Pool,
             progress: Callable[[int, int], None] | None, expected: int) -> Outcome:
    """Walk units from the queue here too, then merge what each worker sends. The units
    a dead worker took are walked again here."""
    done = 0

    def own_tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, max(expected, done))

    total = Outcome()
    covered: list[int] = []
    total.merge(job.run(queue.take(units, covered), own_tick if progress else None))
    forked = sorted(pool.pids)
    answers: dict[int, bytes] = {}
    for index, frame in pool.frames():
        if frame[:1] == b"P":
            done += struct.unpack("<I", frame[1:5])[0]
            if progress:
                progress(done, max(expected, done))
        else:
            answers[index] = frame
    lost = False
    for index in forked:
        if index not in answers:
            lost = True  # killed (the OOM killer, a stray signal): its units are redone
            continue
        packed, taken = marshal.loads(answers[index][1:])
        total.merge(packed)
        covered += taken
    if lost:
        # Walk here what no surviving process reported, so that the result is still
        # complete and the user sees no worker's death.
        seen = set(covered)
        total.merge(job.run([u for i, u in enumerate(units) if i not in seen]))
    return total
