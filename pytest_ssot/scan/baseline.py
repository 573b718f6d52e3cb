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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..config import ConfigError, Contract
from ..runtime import Check
from . import ScanResult, Violation
from .fingerprint import collapse, fingerprint, number

__all__ = ["SCHEMA", "SCHEMA_1", "Baseline", "Held", "fingerprint", "fingerprints", "build",
           "render", "update", "load", "hold", "changes", "check_references", "check_scan_errors"]

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


def update(path: Path, result: ScanResult, contracts: Sequence[Contract],
           root: Path | None = None) -> list[str]:
    """Write the baseline of ``result`` to ``path``; return what was added and dropped
    (the dropped entries' statements read back from git when ``root`` is given)."""
    from .._atomic import write_atomic

    try:
        old = load(path)
    except ConfigError:
        old = None  # a broken file is what this rewrite repairs
    fps = fingerprints(result.violations)
    entries = build(result, contracts, fps)
    write_atomic(path, render(entries).encode("utf-8"))
    return changes(old, entries, result, fps, root=root, path=path, contracts=contracts)


def load(path: Path) -> Baseline | None:
    """The baseline, ``None`` when there is no file (no limit)."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path.name}: the baseline file is not valid JSON ({exc}); "
                          f"rewrite it with `{UPDATE}`") from None
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
                      "with per-contract lists of fingerprints per file); rewrite it with "
                      f"`{UPDATE}`")


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
    plus = [f"  + [{v.contract}] {v.file}:{v.line}: {_statement(v)}"
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
            minus.append(f"  - [{c}] {f}:{line}: {_shorten(text)} (fixed)")
        else:
            minus.append(f"  - [{c}] {f}: a reference no longer there (fixed; not found in "
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
        out.append(f"  {v.file}:{v.line}: {v.path} -> {v.fix}")
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
    if result.files_scanned == 0:  # contracts exist: "no violation" would be a lie
        return Check("scan", "parse", None, False, "the scan read no file",
                     "the static scan read no Python file, so every references check would "
                     "pass without looking at anything.\nfix: point [tool.pytest-ssot] key "
                     "'paths' at the project's code, or narrow key 'exclude'.")
    if not result.errors:
        return Check("scan", "parse", None, True,
                     f"{result.files_scanned} file(s) scanned, no errors")
    listing = "\n".join(f"  {e['file']}: {e['message']}" for e in result.errors)
    return Check("scan", "parse", None, False, f"{len(result.errors)} file(s) could not be "
                 "scanned", f"{len(result.errors)} file(s) could not be read, decoded or "
                 f"parsed, so their references are unknown:\n{listing}\n"
                 "fix: repair them, or list them in [tool.pytest-ssot] exclude.")

