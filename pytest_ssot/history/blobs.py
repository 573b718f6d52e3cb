"""One file content (git blob) -> its references, analysed once and cached by blob id.

Pure: no pytest. The analysis is the scan's own (``scan.walk.Job`` for what is skipped and
the pre-filter, ``scan.analysis.analyze`` for the references); ``analyze_blob`` is the one
place that calls it, so a change of the scan's per-file signature is a one-line change here.
"""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

from .. import parallel
from ..atomic import write_atomic
from ..scan import CACHE_VERSION
from ..scan.rules import Matcher
from ..scan.fingerprint import rows
from ..scan.analysis import analyze
from ..scan.walk import Job

__all__ = ["analyze_blob", "analyse_all", "BlobCache", "job_for", "TEXT_MARK", "text_may_hold"]

# A docs or configuration file's key: ``(TEXT_MARK + kind + TEXT_MARK + own, False, ...)``
# in the place of the module name (``own``: "pyproject.toml", ".json" or "": what decides
# whether parts of it are our own declarations or outputs, ``scan.text``).
TEXT_MARK = "\0"

# Bump when what a cached entry means changes (not when the scan's rules change: the
# scan's CACHE_VERSION is part of the fingerprint for that).
_HISTORY_CACHE_VERSION = 3  # 2: checksummed; 3: a None entry also means "no docs/config reference"
_MAGIC = b"pytest-ssot history cache\n"  # then a checksum (scan.cache.seal)

# A cached blob: None (the pre-filter proved it holds no reference, whatever its path), or
# {(module, is_package, defining): (hits, error)}: its references depend on its module name
# (relative imports, second definitions) and on where the commit defines the canonical
# objects (``defining``: a key of ``scan.defining.defining_modules``' answer).
Flat = list  # [contract, role, path, fix, kind, line, text]


def job_for(matcher: Matcher, excluder: object, src_layout: bool) -> Job:
    """The scan's own walker state: which files are shims, and the pre-filter."""
    return Job(matcher, excluder, src_layout, marshal.dumps({}), {}, marshal.dumps({}))  # type: ignore[arg-type]


def needs_parse(job: Job, data: bytes) -> bool:
    return job.filt.needs_parse(data)


def analyze_blob(matcher: Matcher, data: bytes, module: str | None, is_package: bool
                 ) -> tuple[Flat, str | None]:
    """The references of one file content, flattened as the scan cache stores them."""
    if module is not None and module.startswith(TEXT_MARK):
        _empty, kind, own = module.split(TEXT_MARK)
        return _text_scanner(matcher).analyze(data, kind, own), None
    hits, error = analyze(data, matcher, module, is_package)
    return rows(hits), error


def _text_scanner(matcher: Matcher):  # type: ignore[no-untyped-def]
    """The docs/config token rules of these contracts, compiled once per matcher."""
    got = matcher.__dict__.get("_text_scanner")
    if got is None:
        from ..scan.text import TextScanner

        got = matcher.__dict__["_text_scanner"] = TextScanner(matcher.contracts)
    return got


def text_may_hold(matcher: Matcher, data: bytes) -> bool:
    return _text_scanner(matcher).may_hold(data)


Work = list  # [(blob id, content, [(module, is_package, defining key)])]


def _run(items: Work, matchers: dict[str, Matcher]) -> dict:
    return {sha: {key: analyze_blob(matchers[key[2]], data, key[0], key[1]) for key in keys}
            for sha, data, keys in items}


def analyse_all(items: Work, matchers: dict[str, Matcher], jobs: int) -> dict:
    """``{blob id: {key: (hits, error)}}`` for the contents that need the parser, shared
    by ``jobs`` processes (``parallel.share_out``: forked, the matchers and contents are
    inherited, results come back as marshal data), as the scan shares a cold walk."""
    if jobs <= 1 or len(items) < 4 * jobs or not parallel.can_fork():
        return _run(items, matchers)
    # the biggest contents first, dealt round-robin: shares of similar cost
    items = sorted(items, key=lambda it: -len(it[1]))
    shares = [items[k::jobs] for k in range(jobs)]
    parts = parallel.share_out(jobs, lambda k: _run(shares[k], matchers), marshal.dumps,
                               marshal.loads)
    out = parts[-1]  # this process's own share first, then the workers', in order
    for part in parts[:-1]:
        out.update(part)
    return out


class BlobCache:
    """``{blob id: None | {(module, is_package): (hits, error)}}`` in pytest's cache folder,
    next to the scan cache. Its fingerprint is the contracts, the scan's cache version
    and the Python version (the parser's grammar): exclusions and areas are applied
    after the cache, so changing them keeps it."""

    # Past this many entries, only those the last run used are kept.
    MAX_ENTRIES = 400_000

    def __init__(self, path: Path | None, matcher: Matcher) -> None:
        import json

        self.path = path
        self.fingerprint = (f"{_HISTORY_CACHE_VERSION}|{CACHE_VERSION}|{sys.version_info[:2]}|"
                            + json.dumps([c.to_dict() for c in matcher.contracts],
                                         sort_keys=True))
        self.entries: dict[bytes, dict | None] = {}
        self.used: set[bytes] = set()
        self.changed = False
        # One line when a cache was there but failed its check (SPEC 12).
        self.note = ""
        if path is None:
            return
        from ..scan.cache import checksum_problem

        try:
            data = path.read_bytes()
        except OSError:
            return
        problem = checksum_problem(data, _MAGIC)
        if problem is not None:
            if data[:1] != b"(" and data[:1] != b")" and data[:1] != b"\xa9":  # (before 2)
                self.note = (f"history cache {path} discarded: {problem}; its commits were "
                             "read again")
            return
        try:
            doc = marshal.loads(memoryview(data)[len(_MAGIC) + 16:])
        except (ValueError, EOFError, TypeError):
            return
        if (isinstance(doc, tuple) and len(doc) == 2 and doc[0] == self.fingerprint
                and isinstance(doc[1], dict)):
            self.entries = doc[1]

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        entries = self.entries
        if len(entries) > self.MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            from ..scan.cache import seal

            write_atomic(self.path, seal(marshal.dumps((self.fingerprint, entries)), _MAGIC))
        except OSError:
            pass  # a read-only cache folder costs speed, never correctness
