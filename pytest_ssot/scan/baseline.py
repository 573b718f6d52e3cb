"""The ratchet (SPEC 7): fingerprints of the violations a project still carries. Pure.

A fingerprint names one violation without its line: a short hash of its contract, kind,
role, declared path, the whitespace-collapsed text of its statement or expression, and its
index among identical ones in the same file. Editing other lines, moving or reformatting the
code leaves it alone; replacing one reference by another does not.

The baseline file holds, per contract and per file, the sorted fingerprints, one per line,
so that a review shows which entries went and two branches that fix references in
different files merge without a conflict. A schema-1 file (counts per file) is still read
and held as counts.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..domain.contracts import Contract
from ..errors import ConfigError
from ..domain.display import shown
from ..domain.checks import Check
from . import ScanResult, Violation
from .fingerprint import collapse, fingerprint, number

__all__ = ["SCHEMA", "SCHEMA_1", "Baseline", "Held", "fingerprint", "fingerprints", "build",
           "render", "update", "update_problem", "unknown_files", "load", "hold", "changes", "check_references", "check_scan_errors"]

SCHEMA = "pytest-ssot-baseline/2"
SCHEMA_1 = "pytest-ssot-baseline/1"
UPDATE = "pytest --ssot-update-baseline"


def fingerprints(violations: Sequence[Violation]) -> list[str]:
    """The fingerprint of each violation, in the same order.

    Identical references in one file are numbered in line order, so that the second
    ``import legacy`` of a file is a different entry from the first. The scan computes
    them when it reads a file (``Violation.fingerprint``); only violations made without
    one are hashed here.
    """
    if all(v.fingerprint for v in violations):
        return [v.fingerprint for v in violations]
    import itertools

    order = sorted(range(len(violations)), key=lambda i: (violations[i].file,
                                                         violations[i].line))
    out = [""] * len(violations)
    for _file, group in itertools.groupby(order, key=lambda i: violations[i].file):
        ids = list(group)
        for i, fp in zip(ids, number((violations[i].contract, violations[i].kind,
                                      violations[i].role, violations[i].path,
                                      violations[i].text) for i in ids)):
            out[i] = fp
    return out


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class Baseline:
    """A baseline file as read: fingerprints (schema 2) or counts (schema 1)."""

    schema: int
    # schema 2: contract -> file -> fingerprints; schema 1: contract -> file -> count
    entries: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


Entries = dict[str, dict[str, list[str]]]


def build(result: ScanResult, contracts: Sequence[Contract],
          fps: Sequence[str] | None = None) -> Entries:
    """What ``--ssot-update-baseline`` writes: every contract, its files, sorted."""
    fps = fingerprints(result.violations) if fps is None else fps
    out: Entries = {c.name: {} for c in contracts}
    for v, fp in zip(result.violations, fps):
        if v.contract in out:
            out[v.contract].setdefault(v.file, []).append(fp)
    return {c: {f: sorted(l) for f, l in sorted(files.items())} for c, files in out.items()}


def render(entries: Entries) -> str:
    """The baseline file's text: valid JSON with one fingerprint per line.

    Hand-laid out (``json.dumps(indent=2)`` would give the same for lists, but not a
    guaranteed one): the layout is part of the format, because merges depend on it.
    """
    lines = ["{", f'  "schema": {json.dumps(SCHEMA)},', '  "contracts": {']
    contracts = list(entries.items())
    for ci, (name, files) in enumerate(contracts):
        items = list(files.items())
        comma = "," if ci < len(contracts) - 1 else ""
        if not items:
            lines.append(f"    {json.dumps(name)}: {{}}{comma}")
            continue
        lines.append(f"    {json.dumps(name)}: {{")
        for fi, (file, fps) in enumerate(items):
            lines.append(f"      {json.dumps(file)}: [")
            lines.extend(f"        {json.dumps(fp)}{',' if i < len(fps) - 1 else ''}"
                         for i, fp in enumerate(fps))
            lines.append("      ]" + ("," if fi < len(items) - 1 else ""))
        lines.append("    }" + comma)
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


_MARK = re.compile(rb'"schema"\s*:\s*"pytest-ssot-basel|pytest-ssot-baseline/')


def _is_ours(raw: bytes) -> bool:
    """A file ``--ssot-update-baseline`` may replace: empty, or one that says it is a
    pytest-ssot baseline (also half-written or with merge-conflict markers) - never a
    conftest.py or someone's notes that key 'baseline' was pointed at by mistake."""
    head = raw.lstrip()
    if not head:
        return True
    # JSON, or a merge conflict of it - and saying so (a test file quoting our schema
    # string is not a baseline)
    return head.startswith((b"{", b"<<<<<<<")) and _MARK.search(raw[:4096]) is not None


def _read(path: Path) -> bytes | None:
    """The baseline file's bytes; ``None`` when there is none (no limit). Anything else
    that is not a readable regular file - a dangling link, a folder, a FIFO, a file
    this user may not read - is a ``ConfigError`` naming it, never "no baseline"."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ConfigError(f"{path.name} is a symbolic link to {os.readlink(path)}, "
                              "which does not exist: fix the link, or remove it to run "
                              "without a baseline") from None
        return None
    except OSError as exc:  # a file where a folder should be, a loop of links, EACCES
        raise ConfigError(f"{path.name}: the baseline file cannot be read: "
                          f"{exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(f"{path.name} is {kind}, not a baseline file: point "
                          "[tool.pytest-ssot] key 'baseline' at a file")
    try:
        # O_NONBLOCK: a FIFO swapped in since the stat is an error, not a hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path.name} is not a regular file, not a baseline file")
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"{path.name}: the baseline file cannot be read: "
                          f"{exc.strerror or exc} (as user {_user()})") from None
    return b"".join(chunks)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return "this user"


def update_problem(path: Path, root: Path) -> str | None:
    """Why ``--ssot-update-baseline`` must not write ``path``, or None: its target (links
    followed) lies outside the rootdir, or it is a file that is not a pytest-ssot
    baseline. Checked before the run and again just before the write."""
    target = os.path.realpath(path)
    top = os.path.realpath(root)
    if os.path.commonpath([target, top]) != top:
        shown = str(path) if target == os.path.abspath(path) else f"{path} (-> {target})"
        return (f"{shown} is outside the rootdir ({root}): the baseline is written only "
                "inside the project")
    try:
        raw = _read(path)
    except ConfigError as exc:
        return str(exc)
    if raw is not None and not _is_ours(raw):
        return (f"{path.name} exists and is not a pytest-ssot baseline: it is not "
                "overwritten; point [tool.pytest-ssot] key 'baseline' at another file "
                "(default .ssot-baseline.json)")
    if raw is not None and not os.access(path, os.W_OK):
        from ..atomic import not_writable_by_us

        return f"{path.name} is {not_writable_by_us(os.stat(path))}"
    return None


def unknown_files(result: ScanResult) -> Callable[[str], bool]:
    """Whether a file's references are unknown this run: it, or a folder above it, could
    not be read, decoded or parsed (a scan error). Its baseline entries are neither
    fixed nor dropped: nobody looked."""
    errors = {e["file"] for e in result.errors}
    if not errors:
        return lambda _file: False
    if errors & {"", "."}:
        return lambda _file: True
    prefixes = tuple(e + "/" for e in errors)
    return lambda file: file in errors or file.startswith(prefixes)


def update(path: Path, result: ScanResult, contracts: Sequence[Contract],
           root: Path | None = None) -> list[str]:
    """Write the baseline of ``result`` to ``path``; return what was added and dropped.

    Entries of files whose references are unknown this run (scan errors) are kept as
    they were. ``root``: the rootdir, outside which nothing is written; a file that is
    not a pytest-ssot baseline is never overwritten. Any refusal or failure is a
    ``ConfigError`` naming the file; the old file is then as it was."""
    from ..atomic import write_atomic

    problem = update_problem(path, root if root is not None else path.parent)
    if problem is not None:
        raise ConfigError(f"--ssot-update-baseline: {problem}")
    try:
        old = load(path)
    except ConfigError:
        old = None  # a broken baseline of ours is what this rewrite repairs
    fps = fingerprints(result.violations)
    entries = build(result, contracts, fps)
    unknown = unknown_files(result)
    kept, kept_in = 0, set()
    if old is not None and old.schema == 2:
        for contract, files in old.entries.items():
            if contract not in entries:
                continue
            for file, fp_list in files.items():
                if unknown(file):
                    now = entries[contract].setdefault(file, [])
                    kept += len(set(fp_list) - set(now))
                    kept_in.add(file)
                    entries[contract][file] = sorted(set(now) | set(fp_list))
        entries = {c: dict(sorted(files.items())) for c, files in entries.items()}
    try:
        write_atomic(path, render(entries).encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"--ssot-update-baseline: {path.name} could not be written "
                          f"({exc.strerror or exc}); the old file is unchanged") from None
    lines = changes(old, entries, result, fps, root=root, path=path, contracts=contracts)
    if kept:
        lines.append(f"  {_plural(kept, 'entry')} of {len(kept_in)} file(s) that could not "
                     "be read or parsed kept as they were (see the scan errors)")
    return lines


def load(path: Path) -> Baseline | None:
    """The baseline, ``None`` when there is no file (no limit)."""
    raw = _read(path)
    if raw is None:
        return None
    fix = (f"rewrite it with `{UPDATE}`" if _is_ours(raw) else
           "point [tool.pytest-ssot] key 'baseline' at the baseline file")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path.name}: the baseline file is not valid JSON ({exc}); "
                          f"{fix}") from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    contracts = doc.get("contracts") if isinstance(doc, dict) else None
    if isinstance(contracts, dict) and all(isinstance(v, dict) for v in contracts.values()):
        files = [(k, n) for v in contracts.values() for k, n in v.items()]
        if schema == SCHEMA and all(
                isinstance(k, str) and isinstance(n, list)
                and all(isinstance(fp, str) for fp in n) for k, n in files):
            return Baseline(2, entries={c: {f: tuple(n) for f, n in v.items()}
                                        for c, v in contracts.items()})
        if schema == SCHEMA_1 and all(isinstance(k, str) and type(n) is int and n >= 0
                                      for k, n in files):
            return Baseline(1, counts=contracts)
    raise ConfigError(f"{path.name}: not a pytest-ssot baseline (expected schema {SCHEMA!r} "
                      f"with per-contract lists of fingerprints per file); {fix}")


# --------------------------------------------------------------------------- holding


@dataclass
class Held:
    """The scan held against the baseline: what is new, what is fixed."""

    fingerprints: list[str]
    # per violation: "new" | "unchanged"; None when there is no baseline
    states: list[str | None]
    contracts: list[str]  # per violation, its contract
    # contract -> file -> baseline entries that match nothing any more
    fixed: dict[str, dict[str, int]] = field(default_factory=dict)
    schema: int | None = None  # of the baseline file; None: no file

    def new(self, contract: str) -> list[int]:
        """Indices of the contract's new violations."""
        return [i for i, s in enumerate(self.states)
                if s == "new" and self.contracts[i] == contract]

    def fixed_total(self, contract: str) -> int:
        return sum(self.fixed.get(contract, {}).values())


def hold(result: ScanResult, baseline: Baseline | None,
         fps: Sequence[str] | None = None) -> Held:
    """Which violations are new, which baseline entries are fixed (SPEC 7).

    Schema 1 (counts): a file above its count has every violation of it new, as it
    cannot tell which ones are.
    """
    violations = result.violations
    fps = list(fingerprints(violations) if fps is None else fps)
    held = Held(fps, [None] * len(violations), [v.contract for v in violations],
                schema=None if baseline is None else baseline.schema)
    if baseline is None:
        return held
    unknown = unknown_files(result)
    current: dict[tuple[str, str], list[int]] = {}
    for i, v in enumerate(violations):
        current.setdefault((v.contract, v.file), []).append(i)
    if baseline.schema == 1:
        for (contract, file), idx in current.items():
            allowed = baseline.counts.get(contract, {}).get(file, 0)
            for i in idx:
                held.states[i] = "new" if len(idx) > allowed else "unchanged"
        for contract, files in baseline.counts.items():
            for file, allowed in files.items():
                if unknown(file):
                    continue
                n = len(current.get((contract, file), ()))
                if n < allowed:
                    held.fixed.setdefault(contract, {})[file] = allowed - n
        return held
    for (contract, file), idx in current.items():
        known = set(baseline.entries.get(contract, {}).get(file, ()))
        for i in idx:
            held.states[i] = "unchanged" if fps[i] in known else "new"
    for contract, files in baseline.entries.items():
        for file, entries in files.items():
            if unknown(file):  # not read this run: its entries are not known fixed
                continue
            now = {fps[i] for i in current.get((contract, file), ())}
            gone = len(set(entries) - now)
            if gone:
                held.fixed.setdefault(contract, {})[file] = gone
    return held


def changes(old: Baseline | None, new: Entries, result: ScanResult,
            fps: Sequence[str], listed: int = 50, *, root: Path | None = None,
            path: Path | None = None, contracts: Sequence[Contract] = ()) -> list[str]:
    """What ``--ssot-update-baseline`` added and dropped, as lines for the user."""
    if old is not None and old.schema == 1:
        total = sum(len(f) for files in new.values() for f in files.values())
        return [f"baseline rewritten from schema 1 (counts) as fingerprints: {total} entr"
                f"{'y' if total == 1 else 'ies'}"]
    before = {(c, f, fp) for c, files in (old.entries if old else {}).items()
              for f, l in files.items() for fp in l}
    after = {(c, f, fp) for c, files in new.items() for f, l in files.items() for fp in l}
    plus = [f"  + [{v.contract}] {shown(v.file)}:{v.line}: {_statement(v)}"
            for v, fp in zip(result.violations, fps)
            if (v.contract, v.file, fp) not in before and (v.contract, v.file, fp) in after]
    gone = sorted(before - after)
    known: dict[tuple[str, str], tuple[int, str]] = {}
    if gone and root is not None and path is not None:
        from .fixed import statements

        # the first ``listed`` lines show entries of the first ``listed`` files at most
        wanted: dict[str, list[str]] = {}
        for _c, f, fp in gone:
            if f in wanted or len(wanted) < listed:
                wanted.setdefault(f, []).append(fp)
        known = statements(root, path, wanted, contracts)
    minus = []
    for c, f, fp in sorted(gone, key=lambda g: (g[0], g[1], known.get(g[1:], (0, ""))[0],
                                                g[2])):
        if (f, fp) in known:
            line, text = known[(f, fp)]
            minus.append(f"  - [{c}] {shown(f)}:{line}: {_shorten(text)} (fixed)")
        else:
            minus.append(f"  - [{c}] {shown(f)}: a reference no longer there (fixed; not found in "
                         f"git to show its statement; fingerprint {fp})")
    added = len(after - before)
    dropped = len(before - after)
    head = (f"baseline: {added} entr{'y' if added == 1 else 'ies'} added, {dropped} dropped, "
            f"{len(after & before)} kept")
    return [head, *_capped(plus, listed), *_capped(minus, listed)]


def _capped(lines: list[str], listed: int) -> list[str]:
    """A first baseline of a big project adds thousands of entries: list the first ones."""
    if len(lines) <= listed:
        return lines
    return [*lines[:listed], f"  ... and {len(lines) - listed} more"]


# --------------------------------------------------------------------------- checks


def _statement(v: Violation, width: int = 100) -> str:
    return _shorten(collapse(v.text) or f"{v.path} -> {v.fix}", width)


def _shorten(text: str, width: int = 100) -> str:
    text = collapse(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _listing(result: ScanResult, indices: Sequence[int]) -> str:
    out = []
    for i in sorted(indices, key=lambda i: (result.violations[i].file,
                                            result.violations[i].line)):
        v = result.violations[i]
        out.append(f"  {shown(v.file)}:{v.line}: {v.path} -> {v.fix}")
        if v.text:
            out.append(f"      {_statement(v)}")
    return "\n".join(out)


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def check_references(contract: Contract, result: ScanResult, held: Held, strict: bool,
                     baseline_name: str) -> Check:
    mine = [i for i, v in enumerate(result.violations) if v.contract == contract.name]
    files = {result.violations[i].file for i in mine}
    compliance = result.compliance(contract.name)
    summary = (f"{len(mine)} violation(s) in {len(files)} file(s), "
               f"compliance {compliance:.3f}")
    fix = (f"fix: import {contract.canonical} instead (`pytest-ssot fix` rewrites what it "
           "can prove safe).")
    if strict:
        if not mine:
            return Check(contract.name, "references", None, True, summary)
        return Check(contract.name, "references", None, False, summary,
                     f"{len(mine)} reference(s) to legacy paths of {contract.name} remain; "
                     f"--ssot-strict wants none (the baseline is ignored):\n"
                     f"{_listing(result, mine)}\n{fix}")
    passed = {str(p): d.passed for p, d in contract.deadlines if d.passed}
    due = [i for i in mine if result.violations[i].path in passed]
    if due:  # SPEC 13: from its deadline on, a path is held to strict mode in every run
        paths = sorted({result.violations[i].path for i in due})
        return Check(contract.name, "references", None, False,
                     summary + f"; {len(due)} to path(s) past their deadline",
                     f"{len(due)} reference(s) to legacy path(s) past their deadline "
                     "remain; from its deadline on, a path is held to strict mode (the "
                     "baseline is ignored for it):\n"
                     + "".join(f"deadline passed for {p}: {passed[p]}\n" for p in paths)
                     + f"{_listing(result, due)}\n{fix}")
    if held.schema is None:
        return Check(contract.name, "references", None, True,
                     summary + f"; no baseline ({baseline_name}): no limit")
    rewrite = (f"; {baseline_name} is schema 1 (counts): rewrite it as fingerprints with "
               f"`{UPDATE}`" if held.schema == 1 else "")
    new = held.new(contract.name)
    fixed = held.fixed_total(contract.name)
    if new:
        new_files = len({result.violations[i].file for i in new})
        paid = (f"\n({_plural(fixed, 'baseline entry')} fixed elsewhere; a removed reference "
                "does not pay for a new one)" if fixed else "")
        return Check(contract.name, "references", None, False,
                     summary + f"; {len(new)} new" + rewrite,
                     f"{len(new)} new reference(s) to legacy paths of {contract.name} in "
                     f"{new_files} file(s), not in the baseline ({baseline_name}):\n"
                     f"{_listing(result, new)}{paid}\n{fix} The baseline only ever goes "
                     "down." + (f"\nnote{rewrite[1:]}" if rewrite else ""))
    if fixed:
        n_files = len(held.fixed.get(contract.name, {}))
        note = (f"; {_plural(fixed, 'baseline entry')} fixed in {n_files} file(s): tighten "
                f"it ({UPDATE})")
    else:
        note = "; within the baseline"
    return Check(contract.name, "references", None, True, summary + note + rewrite)


def check_scan_errors(result: ScanResult) -> Check:
    if result.files_scanned - result.text_files_scanned <= 0:
        # contracts exist: "no violation" would be a lie (docs alone do not check the code)
        return Check("scan", "parse", None, False, "the scan read no file",
                     "the static scan read no Python file, so every references check would "
                     "pass without looking at anything.\nfix: point [tool.pytest-ssot] key "
                     "'paths' at the project's code, or narrow key 'exclude'.")
    if not result.errors:
        return Check("scan", "parse", None, True,
                     f"{result.files_scanned} file(s) scanned, no errors")
    listing = "\n".join(f"  {shown(e['file'])}: {shown(e['message'])}"
                        for e in result.errors)
    return Check("scan", "parse", None, False, f"{len(result.errors)} file(s) could not be "
                 "scanned", f"{len(result.errors)} file(s) could not be read, decoded or "
                 f"parsed, so their references are unknown:\n{listing}\n"
                 "fix: repair them, or list them in [tool.pytest-ssot] exclude.")

