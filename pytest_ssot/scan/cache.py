"""The scan cache in pytest's cache directory: what it keeps, and which timestamps it trusts.

Pure: no pytest.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import time
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..atomic import write_atomic
from .files import packages_kept
from .rules import Matcher

if TYPE_CHECKING:
    from .walk import Job, Outcome

CACHE_VERSION = 11  # 8: per-line hints (replacements, names imported); 9: checksummed file;
# 10: docs and configuration files; 11: URLs, e-mail addresses, binary files are no text refs

# The file: _MAGIC, then a blake2b digest of the rest, then the payload. The digest is
# checked before anything in the payload is used (SPEC 12: nothing cached is trusted
# unchecked): one flipped byte in a cached result could otherwise hide a violation. It
# costs ~3 ms per 4 MB (the 64k-file benchmark tree's cache), ~1 % of a warm scan.
_MAGIC = b"pytest-ssot scan cache\n"  # the version is in the fingerprint
_DIGEST = 16
# The payload: marshal of our own plain data: (fingerprint, files, marshal(dirs), loose, marshal(results)).
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
# the moment the scan started (it could change again within the same timestamp tick, after
# we read it: git's "racy" rule), or a file that could not be read (permissions change
# without the mtime), so the next run looks again.

_RACY_NS = 2_000_000_000  # the coarsest common timestamp granularity (FAT) plus slack


def cache_key(matcher: Matcher, excluder_key: tuple, units: list, src_layout: bool) -> str:
    import json

    data = json.dumps([[c.to_dict() for c in matcher.contracts], list(excluder_key),
                       [rel for _a, rel in units], src_layout,
                       {k: list(v) for k, v in matcher.defining.items()}], sort_keys=True)
    # The release too: one that fixes the scanner without a new format must not answer
    # from the per-file results of the release before it.
    from .. import __version__

    return f"{CACHE_VERSION}|{__version__}|{sys.version_info[:2]}|{data}"  # compared whole


def load_cache(path: Path | None, fingerprint: str
               ) -> tuple[int, bytes, dict, bytes, str]:
    """``(files known, dirs as marshal bytes, loose, results as marshal bytes, problem)``.

    ``problem``: why a cache that is there was not used ("" when it was, when there is
    none, or when it was written by another version or for other settings: those are
    stale, not faulty). A cache that fails its check is used for nothing.
    """
    empty = (0, marshal.dumps({}), {}, marshal.dumps({}))
    if path is None:
        return (*empty, "")
    try:
        data = _read_regular(path)
    except FileNotFoundError:
        return (*empty, "")
    except OSError as exc:
        return (*empty, f"cannot be read ({exc.strerror or exc})")
    problem = _integrity_problem(data)
    if problem is not None:
        return (*empty, problem)
    try:
        doc = marshal.loads(memoryview(data)[len(_MAGIC) + _DIGEST:])
    except (ValueError, EOFError, TypeError):
        return (*empty, "its checked content cannot be decoded")
    if isinstance(doc, tuple) and doc and doc[0] != fingerprint:
        return (*empty, "")  # other contracts, paths, Python or version: stale, not faulty
    if (not isinstance(doc, tuple) or len(doc) != 5 or not isinstance(doc[1], int)
            or not isinstance(doc[2], bytes) or not isinstance(doc[3], dict)
            or not isinstance(doc[4], bytes)):
        return (*empty, "its checked content has an unknown shape")
    return doc[1], doc[2], doc[3], doc[4], ""


def _integrity_problem(data: bytes) -> str | None:
    """``None`` when ``data`` is a whole cache of this version (or of another version,
    which is simply not ours to read: ``""``); else what is wrong with it."""
    if not data.startswith(_MAGIC) and _before_8(data):
        return ""
    return checksum_problem(data, _MAGIC)


def seal(payload: bytes, magic: bytes) -> bytes:
    """``magic``, a blake2b digest of ``payload``, ``payload``: what every cache of ours
    writes, so that reading it back can prove every byte (``checksum_problem``)."""
    return b"".join((magic, hashlib.blake2b(payload, digest_size=_DIGEST).digest(), payload))


def checksum_problem(data: bytes, magic: bytes) -> str | None:
    """``None`` when ``data`` is whole (``seal``ed, unchanged since); else what is wrong.
    Its payload: ``memoryview(data)[len(magic) + 16:]``."""
    if not data.startswith(magic):
        return "it is not a pytest-ssot cache" if data else "it is empty"
    start = len(magic) + _DIGEST
    if len(data) < start or data[len(magic):start] != hashlib.blake2b(
            memoryview(data)[start:], digest_size=_DIGEST).digest():
        return "its checksum does not match its content"
    return None


def _before_8(data: bytes) -> bool:
    """A whole cache of a version before 8 (a bare marshal tuple, no checksum): stale, not
    faulty. A damaged header does not decode to that. Only a 5-tuple is decoded: garbage
    read as marshal can announce a list of billions of items."""
    small = data[:1] in (b")", b"\xa9") and data[1:2] == b"\x05"
    if not small and not (data[:1] in (b"(", b"\xa8") and data[1:5] == b"\x05\0\0\0"):
        return False
    try:
        doc = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return False
    return (isinstance(doc, tuple) and len(doc) == 5 and isinstance(doc[0], str)
            and doc[0].split("|", 1)[0].isdigit() and int(doc[0].split("|", 1)[0]) < 8)


def _read_regular(path: Path) -> bytes:
    """The cache file's bytes; ``OSError`` unless it is a regular file (a FIFO put in its
    place must not hang the run: SPEC 12)."""
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read()
    finally:
        os.close(fd)


def _clock_skew(cache_path: Path) -> int:
    """How far our clock is ahead of the file system's, as the cache's directory sees it."""
    try:
        # O_NONBLOCK: a FIFO in its place fails at once (ENXIO) instead of blocking.
        fd = os.open(cache_path.with_name("scan.stamp"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o644)
        try:
            local = time.time_ns()
            os.write(fd, b"x")
            return local - os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
    except OSError:
        return 0


def untrust_racy(entry: tuple, threshold: int) -> tuple:
    mtime, subdirs, names, stats = entry
    if mtime >= threshold:
        mtime = -1
    arr = array("q")
    arr.frombytes(stats)
    for i in range(1, len(arr), 2):  # the mtimes (sizes at even places)
        if arr[i] >= threshold:
            arr[i] = -1
    return mtime, subdirs, names, arr.tobytes()


def racy_threshold(cache_path: Path | None, started_ns: int) -> int:
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


def save_cache(path: Path | None, fingerprint: str, dirs: dict, loose: dict,
               results: dict) -> None:
    if path is None:
        return
    files = sum(e[2].count("\0") + 1 for e in dirs.values() if e[2]) + len(loose)
    payload = marshal.dumps((fingerprint, files, marshal.dumps(dirs), loose,
                             marshal.dumps(results)))
    try:
        write_atomic(path, seal(payload, _MAGIC))
    except OSError:
        pass  # a read-only cache dir costs speed, never correctness


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def reconcile(cache_path: Path | None, fingerprint: str, started_ns: int, job: "Job",
              out: "Outcome", top: list[tuple[str, str]]) -> dict:
    """Merge what the walk found anew into what the cache knew, store it, and return every
    file's ``(digest, hits, error)``.

    Only what was stat'ed anew can be racy: what is unchanged passed this test when it was
    stored, against an older threshold. Entries the configured paths no longer reach are
    dropped when a folder was listed anew.
    """
    results = job.results
    if not (out.dirs or out.loose or out.results or out.relisted):
        return results  # nothing changed: nothing to write
    threshold = racy_threshold(cache_path, started_ns)
    dirs = {**job.dirs, **{rel: untrust_racy(e, threshold) for rel, e in out.dirs.items()}}
    loose = {**job.loose, **{rel: (size, -1 if mtime >= threshold else mtime)
                             for rel, (size, mtime) in out.loose.items()}}
    results = dict(results)
    for rel, outcome in out.results.items():
        if outcome[0] is not None or outcome[1] or outcome[2]:
            results[rel] = outcome
        else:
            results.pop(rel, None)
    if out.relisted and job.dirs:  # entries may have gone: keep what the tree still holds
        dirs, loose, results = prune(job.skipped, top, dirs, loose, results)
    save_cache(cache_path, fingerprint, dirs, loose, results)
    return results


def prune(skipped: Callable[[str], bool], top: list[tuple[str, str]], dirs: dict,
          loose: dict, results: dict) -> tuple[dict, dict, dict]:
    """Drop what the configured paths no longer reach (deleted or newly excluded)."""
    keep_dirs: dict = {}
    keep_loose: dict = {}
    present: set[str] = set()
    stack = []
    for abspath, rel in top:
        if rel in loose:
            keep_loose[rel] = loose[rel]
            present.add(rel)
        else:
            stack.append((abspath, rel))
    while stack:
        abspath, rel = stack.pop()
        entry = dirs.get(rel)
        if entry is None or rel in keep_dirs or skipped(rel):
            continue
        keep_dirs[rel] = entry
        if entry[1]:
            # The walk's own rule: a ``?name`` folder is reached only while it is a package.
            stack += [(f"{abspath}/{name}", _join(rel, name))
                      for name in packages_kept(abspath, entry[1].split("\0"))]
        if entry[2]:
            present.update(_join(rel, name) for name in entry[2].split("\0"))
    return keep_dirs, keep_loose, {rel: v for rel, v in results.items() if rel in present}
