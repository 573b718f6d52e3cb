"""Keeping a program's meaning across files, after the first rewrite and before anything
is written: a patch and the late reads it reaches stay on one object (both sides of a
split name are left, listed), and rounds run until nothing more applies."""

from __future__ import annotations

import ast
import re
from typing import Any

from ..scan import Violation
from ..scan.files import module_name
from ..scan.analysis import pragmas, resolve_relative
from .identity import Identity
from .index import Readers
from .plan import late_left
from .result import FixResult
from .shares import Context, pad, rerun

__all__ = ["keep_meaning"]

ROUNDS = 6  # a chain needs at most a few (the import it goes through moves first)


def _patch_strings_elsewhere(ctx: Context, seen: set[str]) -> dict[str, dict]:
    """Patch strings (``"legacy.X"``) in the files this run does not rewrite (no reference
    the scan reports: ``# ssot: ignore``, or outside the selected paths): patches left
    as they are, which the late reads of ``legacy.X`` must keep reaching. And, in a file
    whose every reference is under ``# ssot: ignore``, its late reads, patches and
    writes through a legacy module attribute (that file's own analysis, pragmas not
    applied): they stay, so a patch or read elsewhere must stay on their object."""
    from .index import _files, _read_regular

    legacy = sorted({e.path.module for es in ctx.matcher.module_entries.values() for e in es
                     if e.role == "legacy" and e.path.attr is None}
                    | {f"{e.path.module}.{e.path.attr}".rpartition(".")[0]
                       for es in ctx.matcher.attr_entries.values() for e in es
                       if e.role == "legacy"}, key=len, reverse=True)
    if not legacy:
        return {}
    # the first argument of a call (``patch("legacy.X")``, ``setattr``-like helpers) or a
    # ``target=``: not a string annotation, a log line, a docstring
    pattern = re.compile(rb"""(?:\(|target\s*=)\s*["'](""" + b"|".join(re.escape(m.encode()) for m in legacy)
                         + rb""")\.([A-Za-z_][A-Za-z0-9_]*)["']""")
    out: dict[str, dict] = {}
    for abspath, rel in _files(ctx.settings, ctx.root):
        if rel in seen:
            continue
        data = _read_regular(abspath)
        if not data:
            continue
        for m in pattern.finditer(data):
            pair = (m.group(1).decode(), m.group(2).decode())
            out.setdefault(rel, {}).setdefault(pair, set()).add("patch-left")
        if rel not in ctx.by_file and b"ssot:" in data and pragmas(data):
            # every reference here is under ``# ssot: ignore`` (the scan reports none):
            # its late reads and writes stay, whatever a rewrite elsewhere moves
            module, is_package = module_name(rel, ctx.src_layout)
            package = module if is_package else (module.rpartition(".")[0] if module else None)
            try:
                late = late_left(data, package, ctx.matcher)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # not analysable: the scan reported nothing it could rewrite
            for pair, flags in late.items():
                out.setdefault(rel, {}).setdefault(pair, set()).update(flags)
    return out


def _imported(ctx: Context, rels: set[str]) -> set[str]:
    """Those of ``rels`` some other file imports (a file nobody imports runs only as
    itself: a test module, a script)."""
    from .index import _files, _read_regular

    modules: dict[str, str] = {}
    for rel in rels:
        module, _pkg = module_name(rel, ctx.src_layout)
        if module:
            modules[module] = rel
    if not modules:
        return set()
    leaves = re.compile(rb"(?<![A-Za-z0-9_])(?:" + b"|".join(
        re.escape(m.rpartition(".")[2].encode()) for m in modules) + rb")(?![A-Za-z0-9_])")
    out: set[str] = set()
    for abspath, rel in _files(ctx.settings, ctx.root):
        data = _read_regular(abspath)
        if not data or not leaves.search(data):
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue
        here, is_package = module_name(rel, ctx.src_layout)
        package = here if is_package else (here.rpartition(".")[0] if here else None)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = resolve_relative(node.level, node.module, package)
                if target:
                    names = [target, *(f"{target}.{a.name}" for a in node.names)]
            for name in names:
                for m, mrel in modules.items():
                    if mrel != rel and (name == m or name.startswith(m + ".")):
                        out.add(mrel)
    return out


def _conflicts(state: dict[str, dict], ctx: Context | None = None
               ) -> dict[tuple[str, str], str]:
    """Late-bound names whose patch and reads the rewrite would split: a patch left under
    the legacy spelling while a read moved to the canonical module, or the reverse. A
    patch restored after its test (``patch.object``, ``monkeypatch.setattr``, a patch
    string) never reaches a read in another file that no file imports (a test module):
    that pair does not count; a permanent write (``setattr``, ``x.N = v``) reaches all."""
    where: dict[tuple[str, str], dict[str, set[str]]] = {}
    for rel, late in state.items():
        for pair, flags in late.items():
            for flag in flags:
                where.setdefault(pair, {}).setdefault(flag, set()).add(rel)
    split: dict[tuple[str, str], tuple[str, set[str], set[str]]] = {}
    for pair, flags in where.items():
        get = flags.get
        left_patch = get("patch-left", set()) | get("write-left", set())
        new_patch = get("patch-new", set()) | get("write-new", set())
        if left_patch and get("read-new"):
            split[pair] = ("left", left_patch, get("read-new", set()))
        elif new_patch and get("read-left"):
            split[pair] = ("new", new_patch, get("read-left", set()))
    if split and ctx is not None:
        readers = set().union(*(r for _s, _p, r in split.values()))
        imported = _imported(ctx, readers)
        for pair, (side, patchers, reads) in list(split.items()):
            flags = where[pair]
            writes = flags.get(f"write-{side}", set())
            if not writes and all(r not in imported and r not in patchers for r in reads):
                del split[pair]  # scoped patches, reads no test of theirs can run
    out: dict[tuple[str, str], str] = {}
    for pair, (side, patchers, reads) in split.items():
        name = f"`{pair[0]}.{pair[1]}`"
        if side == "left":
            out[pair] = (f"patched as {name} in {_some(patchers)}, which stays: rewrite "
                         "that patch by hand (or drop its `# ssot: ignore`), then run fix "
                         "again")
        else:
            out[pair] = (f"patched in {_some(patchers)}, but read late as {name} in "
                         f"{_some(reads)}, where it stays: rewrite those reads by hand (or "
                         "drop their `# ssot: ignore`), then run fix again")
    return out


def _some(files: set[str]) -> str:
    """Up to three files, and how many more."""
    shown = sorted(files)
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return ", ".join(shown[:3]) + more


def keep_meaning(ctx: Context, results: list[tuple], identity: Identity,
                  readers: Readers, out: FixResult) -> list[tuple]:
    """The steps after the first rewrite, before anything is written: (1) a patch and
    the late reads it reaches stay on one object across files (both sides of a split
    name are left, listed); (2) rounds until nothing more applies, each on the files the
    previous round changed (their new text, scanned again in memory), so that one run
    reaches the fixed point. Returns the final tuples (source: the file's text as read;
    new bytes: the last round's)."""
    from ..scan.analysis import analyze

    results = [pad(r) for r in results]
    by_rel = {r[0]: r for r in results}
    original = {r[0]: r[1] for r in results}
    state = {r[0]: r[7] for r in results if r[6] is None}
    inputs: dict[str, tuple[bytes, list[Violation]]] = {}  # for a redo of a later round
    explain: dict[str, list] = {r[0]: list(r[8]) for r in results}
    elsewhere = _patch_strings_elsewhere(ctx, set(by_rel))

    def settle() -> None:
        for _ in range(3):
            found = {k: v for k, v in _conflicts({**elsewhere, **state}, ctx).items()
                     if k not in ctx.blocked}
            if not found:
                return
            ctx.blocked.update(found)
            redo = [rel for rel, late in state.items() if any(p in found for p in late)]
            for rel in redo:
                if rel in inputs:
                    ctx.sources[rel], ctx.by_file[rel] = inputs[rel]
                else:
                    ctx.sources.pop(rel, None)
            for r in rerun(ctx, redo, identity):
                # an error now leaves the file untouched (its earlier text split a patch)
                by_rel[r[0]] = (r[0], original[r[0]], *r[2:])
                state[r[0]] = r[7]
                explain[r[0]] = list(r[8])

    settle()
    changed = {rel for rel, r in by_rel.items() if r[6] is None and r[2] not in (None, r[1])}
    for _round in range(ROUNDS - 1):
        todo = []
        for rel in sorted(changed):
            r = by_rel[rel]
            module, is_package = module_name(rel, ctx.src_layout)
            hits, error = analyze(r[2], ctx.matcher, module, is_package)
            if error:
                continue
            now = [_violation(h, rel, ctx) for h in hits if h.entry.role != "canonical"]
            if all(v.kind == "definition" for v in now):
                continue
            todo.append(rel)
            inputs[rel] = (r[2], now)
        if not todo:
            break
        before = {rel: (by_rel[rel], ctx.by_file[rel]) for rel in todo}
        for rel in todo:
            ctx.sources[rel], ctx.by_file[rel] = inputs[rel]
        changed = set()
        for r in rerun(ctx, todo, identity):
            rel = r[0]
            if r[6] is not None:
                continue  # the previous round's text stands
            prev, prev_violations = before[rel]
            _carry(out, prev, prev_violations)
            by_rel[rel] = (rel, original[rel], *r[2:])
            state[rel] = r[7]
            explain[rel] = explain.get(rel, []) + list(r[8])
            if r[2] != r[1]:
                changed.add(rel)
        settle()
    return [(*by_rel[r[0]][:8], explain.get(r[0], [])) for r in results]


def _carry(out: FixResult, prev: tuple, violations: list[Violation]) -> None:
    """The references an earlier round rewrote in a file a later round takes up again:
    counted now (the later round sees only what is left)."""
    for line, path in prev[3]:
        kinds = [v.kind for v in violations if (v.line, v.path) == (line, path)]
        for kind in kinds[:1]:
            out.count(kind, True)
            out.rewritten += 1


def _violation(h: Any, rel: str, ctx: Context) -> Violation:
    e = h.entry
    return Violation(e.contract, rel, h.line, h.kind, e.role, str(e.path), e.fix, "", h.text)

