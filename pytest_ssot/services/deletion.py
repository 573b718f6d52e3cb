"""Deletion readiness (SPEC 6): can this legacy or factory module be deleted now? Pure.

A declared module entry (a shim) can go when nothing needs it any more:

- no scanned file references it (or anything inside it) any more;
- the canonical path does not load it: after importing the canonical in a probe, it is not
  in ``sys.modules`` (the canonical, or its package, still imports it);
- no other declared path resolves through it (a legacy attribute or a factory whose
  package ``__getattr__`` imports it would turn from ``warns`` into ``broken``).

It cannot be known when the canonical does not resolve (the import stopped early) or when
files could not be scanned (they may reference it): both block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..domain.contracts import Contract
from ..domain.checks import ContractRuntime

if TYPE_CHECKING:
    from ..scan import ScanResult

__all__ = ["readiness", "readiness_lines"]


def _inside(module: str, shim: str) -> bool:
    return module == shim or module.startswith(shim + ".")


def readiness(contracts: Sequence[Contract], runtimes: Mapping[str, ContractRuntime],
              result: "ScanResult") -> dict[str, list[dict[str, Any]]]:
    """Per contract, one entry per legacy or factory module entry, in declaration order:
    ``{"path", "role", "verdict", "removable", "blockers": [...]}``."""
    probed = []  # (declared path, its module, the verdict) of every probed path
    for c in contracts:
        rt = runtimes.get(c.name)
        if rt is None:
            continue
        probed.append((str(c.canonical), c.canonical.module, rt.canonical, "canonical"))
        for p, v in zip((*c.legacy, *c.factories), (*rt.legacy, *rt.factories)):
            probed.append((str(p), p.module, v, "declared"))
    out: dict[str, list[dict[str, Any]]] = {}
    for c in contracts:
        rt = runtimes.get(c.name)
        if rt is None:
            continue
        entries = []
        for role, p, verdict in [*(("legacy", p, v) for p, v in zip(c.legacy, rt.legacy)),
                                 *(("factory", p, v) for p, v in zip(c.factories,
                                                                      rt.factories))]:
            if p.attr is not None:
                continue
            shim = p.module
            blockers: list[dict[str, Any]] = []
            for v in result.violations:
                if v.role != "definition" and _inside(v.path.partition(":")[0], shim):
                    blockers.append({"kind": "reference", "contract": v.contract,
                                     "file": v.file, "line": v.line, "path": v.path})
            for path, module, v, what in probed:
                if what == "declared" and _inside(module, shim):
                    continue  # inside the shim: it goes with it
                if shim in v.loaded:
                    blockers.append({"kind": "canonical-import" if what == "canonical"
                                     else "resolves-through", "path": path})
                elif what == "canonical" and not v.resolves:
                    blockers.append({"kind": "unknown", "path": path,
                                     "reason": "the canonical path does not resolve, so "
                                               "what it imports is unknown"})
            if any(b["kind"] == "canonical-import" for b in blockers):
                # Paths that load the canonical load the shim through it: one cause.
                blockers = [b for b in blockers if b["kind"] != "resolves-through"]
            if result.errors:
                blockers.append({"kind": "unknown", "files": [e["file"] for e in result.errors],
                                 "reason": "files that could not be scanned may reference it"})
            entries.append({"path": shim, "role": role, "verdict": verdict.verdict,
                            "removable": not blockers, "blockers": blockers})
        out[c.name] = entries
    return out


def _why(blockers: Sequence[Mapping[str, Any]]) -> str:
    refs = [b for b in blockers if b["kind"] == "reference"]
    parts = []
    if refs:
        files = len({b["file"] for b in refs})
        parts.append(f"{len(refs)} reference(s) in {files} file(s)")
    for b in blockers:
        if b["kind"] == "canonical-import":
            parts.append(f"the canonical {b['path']} imports it")
        elif b["kind"] == "resolves-through":
            parts.append(f"{b['path']} resolves through it")
        elif b["kind"] == "unknown":
            parts.append(b["reason"])
    from ..report.census import runtime_why  # SPEC 14: runtime hits block too

    runtime = runtime_why(blockers)
    if runtime:
        parts.append(runtime)
    return "; ".join(parts)


def readiness_lines(contracts: Sequence[Contract],
                    ready: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """The terminal's deletion readiness: what can be deleted now, and what still blocks."""
    lines = []
    for c in contracts:
        entries = [e for e in ready.get(c.name, ()) if e["verdict"] != "absent"]
        if not entries:
            continue
        now = [e["path"] for e in entries if e["removable"]]
        lines.append(f"deletion readiness {c.name}:")
        lines.append("  can be deleted now: " + (", ".join(now) if now else "none"))
        for e in entries:
            if not e["removable"]:
                lines.append(f"  not yet: {e['path']} ({_why(e['blockers'])})")
    return lines
