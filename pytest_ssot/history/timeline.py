"""The migration over time (SPEC 11, ``pytest-ssot history``). Pure core: no pytest.

Each sampled commit is scanned from git's objects, never checked out: its trees are read
through one ``git cat-file --batch`` process (``git.Repo``), the files the scan would read
are chosen by the working tree's configuration (paths, exclusions, shims, as the scan
chooses them), and every file content (blob) is analysed once whatever number of commits
hold it, with the result cached by blob id next to the scan cache. So a history costs
about one cold scan plus the contents that changed between the sampled commits.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..domain.contracts import SsotConfig
from ..scan import ScanResult
from ..scan.defining import follow
from ..scan.files import Excluder, module_name, roots
from ..scan.rules import Matcher
from ..scan.text import TextFiles, file_class
from .blobs import TEXT_MARK, BlobCache, analyse_all, job_for, needs_parse, text_may_hold
from .git import Commit, GitError, Repo

__all__ = ["HISTORY_SCHEMA", "DEFAULT_MAX_COMMITS", "GitError", "Commit", "Point", "History",
           "history", "sample"]

HISTORY_SCHEMA = "pytest-ssot-history/1"
DEFAULT_MAX_COMMITS = 50

_TREE = b"40000"
_FILE_MODES = (b"100644", b"100755")  # symlinks (120000) and submodules (160000) are not read


@dataclass
class Point:
    """One commit and the scan of its tree."""

    commit: Commit
    result: ScanResult
    index: int = 0  # position in the range (oldest 0): sampled points are not adjacent


@dataclass
class History:
    points: list[Point]  # oldest first
    contracts: list[str]
    commits_in_range: int = 0
    blobs: int = 0  # distinct file contents the sampled commits hold
    analysed: int = 0  # of which read and analysed in this run (the rest: from the cache)
    parsed: int = 0
    seconds: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    whole: bool = False  # the range starts at the first commit (no range, no --since)
    cache_note: str = ""  # the history cache failed its check (one line)

    def counts(self, contract: str) -> list[int]:
        return [sum(1 for v in p.result.violations if v.contract == contract)
                for p in self.points]

    def largest_rise(self, contract: str) -> int | None:
        """Index of the point whose violations rose most over the point before it (the
        regression to look at); ``None`` when they never rose."""
        counts = self.counts(contract)
        best, best_rise = None, 0
        for i in range(1, len(counts)):
            rise = counts[i] - counts[i - 1]
            if rise > best_rise:
                best, best_rise = i, rise
        return best

    def narrow(self, i: int) -> str | None:
        """The command that shows every commit between point ``i - 1`` and point ``i``
        (both included), when sampling left some out."""
        if i < 1:
            return None
        before, p = self.points[i - 1], self.points[i]
        gap = p.index - before.index
        if gap <= 1:
            return None
        if before.index == 0 and self.whole:  # the first commit has no parent to exclude
            return f"pytest-ssot history {p.commit.sha[:9]} --max-commits {p.index + 1}"
        return (f"pytest-ssot history {before.commit.sha[:9]}^..{p.commit.sha[:9]}"
                + (f" --max-commits {gap + 1}" if gap + 1 > DEFAULT_MAX_COMMITS else ""))

    def contract_summary(self, point: Point, contract: str) -> dict[str, Any]:
        by_area: dict[str, int] = {}
        n = 0
        for v in point.result.violations:
            if v.contract == contract:
                n += 1
                by_area[v.area] = by_area.get(v.area, 0) + 1
        return {"violations": n, "canonical": point.result.canonical.get(contract, 0),
                "compliance": round(point.result.compliance(contract), 4),
                "by_area": dict(sorted(by_area.items()))}

    def to_json(self) -> dict[str, Any]:
        """SPEC 11's document, oldest commit first."""
        return {"schema": HISTORY_SCHEMA, "commits": [
            {"commit": p.commit.sha, "date": p.commit.date,
             "contracts": {name: self.contract_summary(p, name) for name in self.contracts}}
            for p in self.points]}

    def table_lines(self) -> list[str]:
        """The terminal table: date, commit, then per contract violations and compliance."""
        head = ["date", "commit"]
        rows: list[list[str]] = []
        for name in self.contracts:
            head += [f"{name} violations", "compliance"]
        for i, p in enumerate(self.points):
            row = [p.commit.date[:10], p.commit.sha[:9]]
            for name in self.contracts:
                s = self.contract_summary(p, name)
                delta = ""
                if i:
                    before = self.contract_summary(self.points[i - 1], name)["violations"]
                    if s["violations"] != before:
                        delta = f" ({s['violations'] - before:+d})"
                row += [f"{s['violations']}{delta}", f"{100 * s['compliance']:.1f}%"]
            rows.append(row)
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        right = [k >= 2 for k in range(len(head))]

        def fmt(r: list[str]) -> str:
            return "  ".join(c.rjust(w) if right[k] else c.ljust(w)
                             for k, (c, w) in enumerate(zip(r, widths))).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
        for name in self.contracts:
            i = self.largest_rise(name)
            if i is None:
                continue
            p, before, counts = self.points[i], self.points[i - 1], self.counts(name)
            rise = counts[i] - counts[i - 1]
            narrow = self.narrow(i)
            if narrow:  # sampled: the commit is somewhere in between
                lines.append(f"largest rise of {name}: +{rise} between {before.commit.sha[:9]} "
                             f"({before.commit.date[:10]}) and {p.commit.sha[:9]} "
                             f"({p.commit.date[:10]}), {p.index - before.index} commits apart: "
                             f"{narrow}")
            else:
                lines.append(f"largest rise of {name}: +{rise} at {p.commit.sha[:9]} "
                             f"({p.commit.date[:10]}) {p.commit.subject}")
        return lines


def sample(commits: list[Commit], at_most: int) -> list[Commit]:
    """At most ``at_most`` commits spread evenly over the list, always the newest (and the
    oldest when two or more are kept)."""
    return [commits[i] for i in sample_indexes(len(commits), at_most)]


def sample_indexes(n: int, at_most: int) -> list[int]:
    if n <= at_most:
        return list(range(n))
    if at_most == 1:
        return [n - 1]
    return sorted({round(i * (n - 1) / (at_most - 1)) for i in range(at_most)})


class _Trees:
    """The files the scan would read in one commit's tree, with subtrees memoised by id:
    a folder that did not change between two commits is read and filtered once. Trees are
    read level by level for all commits at once, so git answers in a stream."""

    def __init__(self, repo: Repo, settings: SsotConfig, root: Path, matcher: Matcher) -> None:
        self.repo = repo
        self.excluder = Excluder(settings.exclude)
        self.tops = [rel for _abs, rel in roots(root, settings.paths)]
        self.matcher = matcher
        self.jobs = {layout: job_for(matcher, self.excluder, layout) for layout in (False, True)}
        # docs and configuration files (SPEC 13), read like the scan reads them
        self.text = TextFiles(settings.doc_files, settings.config_files)
        self._entries: dict[bytes, list[tuple[bytes, str, bytes]]] = {}
        self._walked: dict[tuple[bytes, str, bool], list[tuple[str, bytes]]] = {}
        self._expanded: set[tuple[bytes, str]] = set()  # (tree, path) whose folders are read
        self._blobs: dict[bytes, bytes] = {}  # the few files read to follow definitions

    def _kept(self, rel: str, name: str, entries: list[tuple[bytes, str, bytes]] | None
              ) -> bool | None:
        """Does the scan enter this folder? ``None``: only if it is a package (a default
        exclusion alone: ``build/`` holding ``__init__.py`` is code) and ``entries`` is not
        known yet."""
        if not self.excluder.excluded(rel, name):
            return True
        extra_only = getattr(self.excluder, "extra_only", None)
        if extra_only is None or extra_only.excluded(rel, name):
            return False
        if entries is None:
            return None
        return any(n == "__init__.py" and m != _TREE for m, n, _s in entries)

    def _load(self, wanted: list[tuple[bytes, str]], recurse: bool = True) -> None:
        """Read the trees ``(id, rootdir-relative path)`` and (``recurse``) every folder
        below them that the scan could enter, breadth-first, one stream of requests per
        level. A folder the scan enters only if it is a package is read, and entered when
        it is one."""
        maybe: set[tuple[bytes, str]] = set()
        while wanted:
            todo = [w for w in dict.fromkeys(wanted) if w not in self._expanded]
            shas = list({sha: None for sha, _rel in todo if sha not in self._entries})
            for sha, (kind, data) in zip(shas, self.repo.read_many([s.hex() for s in shas])):
                if kind != "tree":
                    raise GitError(f"git object {sha.hex()} is a {kind}, not a tree")
                self._entries[sha] = self.repo.parse_tree(data)
            wanted = []
            if not recurse:
                break
            for sha, rel in todo:
                if (sha, rel) in maybe and not self._kept(rel, rel.rpartition("/")[2],
                                                          self._entries[sha]):
                    continue
                self._expanded.add((sha, rel))
                for mode, name, child in self._entries[sha]:
                    sub = f"{rel}/{name}" if rel else name
                    if mode != _TREE:
                        continue
                    kept = self._kept(sub, name, self._entries.get(child))
                    if kept is None:
                        maybe.add((child, sub))
                    if kept is not False:
                        wanted.append((child, sub))

    def _lookup(self, tree: bytes, rel: str) -> tuple[bytes, bytes] | None:
        """``(mode, id)`` of the entry at ``rel`` below ``tree`` (``rel`` "" is the tree)."""
        mode, sha = _TREE, tree
        for part in rel.split("/") if rel else ():
            if mode != _TREE:
                return None
            if sha not in self._entries:
                self._load([(sha, "")])
            for m, name, s in self._entries[sha]:
                if name == part:
                    mode, sha = m, s
                    break
            else:
                return None
        return mode, sha

    def files(self, commits: list[Commit]) -> list[tuple[bool, list[tuple[str, bytes]]]]:
        """Per commit: ``(src layout, [(rootdir-relative path, blob id)])``."""
        heads = [bytes.fromhex(t) for t in self.repo.commit_trees([c.sha for c in commits])]
        self._load([(h, "") for h in heads], recurse=False)
        prefix = self.repo.prefix
        rootdirs: list[bytes | None] = []
        for head in heads:
            found = self._lookup(head, prefix)
            rootdirs.append(found[1] if found is not None and found[0] == _TREE else None)
        starts = []
        for tree in rootdirs:
            for top in self.tops if tree is not None else ():
                got = self._lookup(tree, top)
                if got is not None and got[0] == _TREE:
                    starts.append((got[1], top))
        self._load(starts)
        self.rootdirs = rootdirs
        return [self._files(tree) for tree in rootdirs]

    def _files(self, rootdir: bytes | None) -> tuple[bool, list[tuple[str, bytes]]]:
        if rootdir is None:
            return False, []  # the rootdir did not exist yet
        src = self._lookup(rootdir, "src")
        src_layout = src is not None and src[0] == _TREE
        job = self.jobs[src_layout]
        out: list[tuple[str, bytes]] = []
        for top in self.tops:
            if top and job.skipped(top):
                continue
            got = self._lookup(rootdir, top)
            if got is None:
                continue
            mode, sha = got
            if mode == _TREE:
                out += self._walk(sha, top, src_layout)
            elif mode in _FILE_MODES and (top.endswith(".py") or self.text.kind(
                    top, top.rpartition("/")[2])) and not self.excluder.excluded(
                    top, top.rpartition("/")[2]):
                out.append((top, sha))
        return src_layout, out

    def _tree(self, tree: bytes, rel: str) -> list[tuple[bytes, str, bytes]]:
        if tree not in self._entries:  # not read ahead (a folder the read-ahead left out)
            self._load([(tree, rel)])
        return self._entries[tree]

    def defining(self, rootdir: bytes | None, src_layout: bool, contracts: list) -> dict:
        """``scan.defining.defining_modules`` for one commit's tree: where it defines the
        canonical objects (a definition there is not a second one)."""
        if rootdir is None:
            return {}

        def read(module: str) -> tuple[bytes, bool] | None:
            base = module.replace(".", "/")
            for prefix in (("src/", "") if src_layout else ("",)):
                for rel in (f"{prefix}{base}.py", f"{prefix}{base}/__init__.py"):
                    got = self._lookup(rootdir, rel)
                    if got is not None and got[0] in _FILE_MODES:
                        data = self._blobs.get(got[1])
                        if data is None:
                            kind, data = self.repo.read(got[1].hex())
                            self._blobs[got[1]] = data
                        return data, rel.endswith("/__init__.py")
            return None

        out: dict[str, list[str]] = {}
        for c in contracts:
            if c.canonical.attr is not None:
                out[c.name] = sorted(follow(c.canonical.module, c.canonical.attr, read))
        return out

    def _walk(self, tree: bytes, dir_rel: str, src_layout: bool) -> list[tuple[str, bytes]]:
        key = (tree, dir_rel, src_layout)
        got = self._walked.get(key)
        if got is not None:
            return got
        job = self.jobs[src_layout]
        excluded = self.excluder.excluded
        files_excludable = self.excluder.files
        out: list[tuple[str, bytes]] = []
        for mode, name, sha in self._tree(tree, dir_rel):
            rel = f"{dir_rel}/{name}" if dir_rel else name
            if mode == _TREE:
                if job.skipped(rel):
                    continue
                kept = not excluded(rel, name) or self._kept(rel, name, self._tree(sha, rel))
                if kept:
                    out += self._walk(sha, rel, src_layout)
            elif (mode in _FILE_MODES and name.endswith(".py")
                  and (not files_excludable or not excluded(rel, name))
                  and rel not in job.shim_files):
                out.append((rel, sha))
            elif (mode in _FILE_MODES and self.text and self.text.kind(rel, name) is not None
                  and not excluded(rel, name)):
                out.append((rel, sha))
        self._walked[key] = out
        return out


def history(settings: SsotConfig, root: Path, *, rev_range: str | None = None,
            since: str | None = None, max_commits: int = DEFAULT_MAX_COMMITS,
            cache_path: Path | None = None, jobs: int | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> History:
    """Scan each sampled commit of ``rev_range`` (default: first-parent history of HEAD).

    Raises ``GitError`` (not a repository, a bad range, no commit in it) and ``ConfigError``.
    """
    t0 = time.perf_counter()
    matcher = Matcher(settings.contracts)
    names = [c.name for c in settings.contracts]
    with Repo(str(root)) as repo:
        commits = repo.commits(rev_range, since)
        if not commits:
            what = f"the range {rev_range!r}" if rev_range else "the history of HEAD"
            raise GitError(f"no commits in {what}" + (f" since {since}" if since else ""))
        indexes = sample_indexes(len(commits), max_commits)
        picked = [commits[i] for i in indexes]
        trees = _Trees(repo, settings, root, matcher)
        listed = trees.files(picked)
        t_trees = time.perf_counter()

        defkeys, matchers = _matchers(trees, listed, settings)

        # Every distinct (layout, defining, path, content) once, however many commits hold it.
        pairs: dict[tuple[bool, str], set[tuple[str, bytes]]] = {}
        for key, (src_layout, files) in zip(defkeys, listed):
            pairs.setdefault((src_layout, key), set()).update(files)
        cache = BlobCache(cache_path, matcher)
        entries = cache.entries
        wanted: dict[bytes, set[tuple[str | None, bool, str]]] = {}
        for (src_layout, key), found in pairs.items():
            for rel, sha in found:
                cache.used.add(sha)
                entry = entries.get(sha, False)
                if entry is None:
                    continue  # no reference, whatever its path
                modkey = (*_file_key(trees.text, rel, src_layout), key)
                if entry is False or modkey not in entry:
                    wanted.setdefault(sha, set()).add(modkey)
        work = _read_wanted(repo, trees, matcher, cache, wanted, progress)
        parsed = sum(len(keys) for _sha, _data, keys in work)
        for sha, found in analyse_all(work, matchers, jobs or os.cpu_count() or 1).items():
            entries[sha] = {**(entries.get(sha) or {}), **found}
        t_blobs = time.perf_counter()

    # contents with references or errors: the only ones a commit's result needs to visit
    dirty = {sha for sha, entry in entries.items()
             if entry and any(hits or error for hits, error in entry.values())}
    points = [Point(c, _result(settings, names, src_layout, key, files, entries, dirty,
                               trees.text), i)
              for c, i, key, (src_layout, files) in zip(picked, indexes, defkeys, listed)]
    cache.save()
    t_end = time.perf_counter()
    return History(points, names, commits_in_range=len(commits), cache_note=cache.note,
                   whole=rev_range is None and since is None,
                   blobs=len({sha for found in pairs.values() for _rel, sha in found}),
                   analysed=len(wanted), parsed=parsed, seconds=t_end - t0,
                   stats={"trees": t_trees - t0, "blobs": t_blobs - t_trees,
                          "results": t_end - t_blobs})


def _matchers(trees: _Trees, listed: list, settings: SsotConfig
              ) -> tuple[list[str], dict[str, Matcher]]:
    """Where each commit defines the canonical objects decides which definitions are
    second ones: one matcher per distinct answer (most histories have one or two).
    Returns each commit's key, and the matcher of each key."""
    defkeys: list[str] = []
    matchers: dict[str, Matcher] = {}
    for tree, (src_layout, _files) in zip(trees.rootdirs, listed):
        defining = trees.defining(tree, src_layout, list(settings.contracts))
        key = json.dumps(defining, sort_keys=True)
        if key not in matchers:
            matchers[key] = Matcher(settings.contracts, defining=defining)
        defkeys.append(key)
    return defkeys, matchers


def _read_wanted(repo: Repo, trees: _Trees, matcher: Matcher, cache: BlobCache,
                 wanted: dict[bytes, set[tuple[str | None, bool, str]]],
                 progress: Callable[[str, int, int], None] | None) -> list:
    """Read the contents not in the cache: those the pre-filter clears are cached as
    such now; the others are the work for the parser, ``[(blob id, content, keys)]``."""
    entries = cache.entries
    job = trees.jobs[False]  # the pre-filter and the rules do not depend on the layout
    order = sorted(wanted)
    work = []
    for i, (hex_sha, _kind, data) in enumerate(repo.read_spread([s.hex() for s in order])):
        sha = bytes.fromhex(hex_sha)
        entry = entries.get(sha, False)
        code = entry is not False or needs_parse(job, data)
        if not code and not (trees.text and text_may_hold(matcher, data)):
            entries[sha] = None
        else:
            keys = sorted(wanted[sha], key=repr)
            if not code:  # only as a docs/config file can it hold a reference
                entries[sha] = {k: ([], None) for k in keys
                                if not (k[0] or "").startswith(TEXT_MARK)}
                keys = [k for k in keys if (k[0] or "").startswith(TEXT_MARK)]
            if keys:
                work.append((sha, data, keys))
        cache.changed = True
        if progress:
            progress("reading file versions", i + 1, len(wanted))
    return work


def _file_key(text: TextFiles | None, rel: str, src_layout: bool) -> tuple[str | None, bool]:
    """What a file's references depend on besides its content: its module name for code;
    for a docs or configuration file its kind (and whether it is one of our own files)."""
    if rel.endswith(".py") or text is None:
        return module_name(rel, src_layout)
    name = rel.rpartition("/")[2]
    return f"{TEXT_MARK}{text.kind(rel, name) or 'config'}{TEXT_MARK}{file_class(name)}", False


def _result(settings: SsotConfig, names: list[str], src_layout: bool, defkey: str,
            files: list[tuple[str, bytes]], entries: dict, dirty: set[bytes],
            text: TextFiles | None = None) -> ScanResult:
    """One commit's scan, as ``scan()`` builds it from per-file results."""
    result = ScanResult(canonical={n: 0 for n in names})
    result.files_scanned = len(files)
    result.text_files_scanned = sum(1 for rel, _sha in files if not rel.endswith(".py"))
    areas = settings.areas
    for rel, sha in sorted(f for f in files if f[1] in dirty):
        hits, error = entries[sha][(*_file_key(text, rel, src_layout), defkey)]
        result.add_file(rel, hits, error, areas)
    return result
