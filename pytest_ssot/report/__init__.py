"""Renderers of plain result data: the JSON report and the terminal summary.

Pure core: no pytest import.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import Contract
from ..probe import Verdict
from ..runtime import ContractRuntime, checks

__all__ = ["SCHEMA", "build_report", "write_json", "terminal_lines"]

SCHEMA = "pytest-ssot/1"


def _entry(v: Verdict, passed: bool) -> dict[str, Any]:
    return {
        "path": v.path, "verdict": v.verdict, "warning": v.warning,
        "warning_category": v.warning_category, "error": v.error, "reason": v.reason,
        "is_canonical": v.is_canonical, "passed": passed,
    }


def build_report(contracts: Sequence[Contract], runtimes: Mapping[str, ContractRuntime],
                 strict: bool) -> dict[str, Any]:
    """The ``--ssot-report`` document (SPEC 6), runtime part."""
    out_contracts = []
    for c in contracts:
        rt = runtimes[c.name]
        decided = {(k.kind, k.path): k.passed for k in checks(c, rt, strict)}
        canonical = _entry(rt.canonical, decided[("canonical", str(c.canonical))])
        canonical["import_ms"] = rt.canonical.import_ms
        canonical["max_import_ms"] = c.max_import_ms or None
        out_contracts.append({
            "name": c.name,
            "canonical": canonical,
            "legacy": [_entry(v, decided[("legacy", v.path)]) for v in rt.legacy],
            "factories": [_entry(v, decided[("factory", v.path)]) for v in rt.factories],
            "aliases": [{"path": a} for a in rt.aliases],
            "aliases_passed": decided[("aliases", None)],
            "alias_scope": list(c.effective_alias_scope),
            "alias_errors": list(rt.alias_errors),
            "alias_skipped": rt.alias_skipped,
            "passed": all(decided.values()),
        })
    return {"schema": SCHEMA, "strict": strict, "contracts": out_contracts}


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _shorten(text: str | None, width: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 3] + "..."


def terminal_lines(contracts: Sequence[Contract], runtimes: Mapping[str, ContractRuntime],
                   strict: bool) -> list[str]:
    """The verdict table of each contract, as terminal lines."""
    lines = [f"mode: {'strict (--ssot-strict)' if strict else 'transitional'}"]
    for c in contracts:
        rt = runtimes.get(c.name)
        if rt is None:
            continue
        decided = checks(c, rt, strict)
        failed = sum(not k.passed for k in decided)
        state = "ok" if not failed else f"{failed} check(s) failed"
        lines.append(f"contract {c.name}: {state}")
        verdicts = [("canonical", rt.canonical), *(("legacy", v) for v in rt.legacy),
                    *(("factory", v) for v in rt.factories)]
        width = max(len(v.path) for _, v in verdicts)
        for chk, (kind, v) in zip(decided, verdicts):
            mark = "ok  " if chk.passed else "FAIL"
            extra = ""
            if v.verdict == "warns":
                extra = f"  {v.warning_category}: {_shorten(v.warning, 70)}"
            elif v.verdict == "broken":
                extra = f"  {_shorten(v.error, 70)}"
            if kind == "canonical" and v.import_ms is not None and v.resolves:
                extra += f"  (import {v.import_ms:.1f} ms)"
            lines.append(f"  {mark} {kind:<9} {v.path:<{width}}  {v.verdict}{extra}")
        alias = decided[-1]
        lines.append(f"  {'ok  ' if alias.passed else 'FAIL'} {'aliases':<9} {alias.summary}")
        for err in rt.alias_errors:
            lines.append(f"       alias scope: {err['module']} could not be imported: "
                         f"{_shorten(err['error'], 70)}")
    return lines
