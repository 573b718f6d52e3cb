"""The ratchet (SPEC 7): per-contract, per-file violation counts. Pure: no pytest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..config import ConfigError, Contract
from ..runtime import Check
from . import ScanResult

__all__ = ["SCHEMA", "build", "load", "check_references", "check_scan_errors"]

SCHEMA = "pytest-ssot-baseline/1"


def build(result: ScanResult, contracts: Sequence[Contract]) -> dict[str, Any]:
    return {"schema": SCHEMA,
            "contracts": {c.name: result.counts(c.name) for c in contracts}}


def load(path: Path) -> dict[str, dict[str, int]] | None:
    """The baseline's counts, ``None`` when there is no file (no limit)."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path.name}: the baseline file is not valid JSON ({exc}); "
                          "rewrite it with `pytest --ssot-update-baseline`") from None
    contracts = doc.get("contracts") if isinstance(doc, dict) else None
    ok = (isinstance(doc, dict) and doc.get("schema") == SCHEMA and isinstance(contracts, dict)
          and all(isinstance(v, dict) and all(isinstance(k, str) and type(n) is int and n >= 0
                                              for k, n in v.items())
                  for v in contracts.values()))
    if not ok:
        raise ConfigError(f"{path.name}: not a pytest-ssot baseline (expected schema "
                          f"{SCHEMA!r} with per-contract file counts); rewrite it with "
                          "`pytest --ssot-update-baseline`")
    return contracts


def _by_file(result: ScanResult, contract: str) -> dict[str, list[str]]:
    """``file: line: path -> fix`` lines of one contract, grouped by file (one pass)."""
    out: dict[str, list[str]] = {}
    for v in result.violations:
        if v.contract == contract:
            out.setdefault(v.file, []).append(f"    {v.file}:{v.line}: {v.path} -> {v.fix}")
    return out


def check_references(contract: Contract, result: ScanResult,
                     baseline: dict[str, dict[str, int]] | None, strict: bool,
                     baseline_name: str) -> Check:
    counts = result.counts(contract.name)
    total = sum(counts.values())
    compliance = result.compliance(contract.name)
    summary = (f"{total} violation(s) in {len(counts)} file(s), "
               f"compliance {compliance:.3f}")
    if strict:
        if not total:
            return Check(contract.name, "references", None, True, summary)
        worst = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        lines = _by_file(result, contract.name)
        body = "\n".join("\n".join(lines[f]) for f, _ in worst)
        return Check(contract.name, "references", None, False, summary,
                     f"{total} reference(s) to legacy paths of {contract.name} remain; "
                     f"--ssot-strict wants none (the baseline is ignored):\n{body}\n"
                     f"fix: import {contract.canonical} instead (`pytest-ssot fix` rewrites "
                     "what it can prove safe).")
    if baseline is None:
        return Check(contract.name, "references", None, True,
                     summary + f"; no baseline ({baseline_name}): no limit")
    allowed = baseline.get(contract.name, {})
    exceeded = [(f, n, allowed.get(f, 0)) for f, n in counts.items() if n > allowed.get(f, 0)]
    tighter = sum(1 for f, n in allowed.items() if counts.get(f, 0) < n)
    if exceeded:
        parts = []
        lines = _by_file(result, contract.name)
        for f, n, a in exceeded:
            parts.append(f"  {f}: {n} reference(s), the baseline allows {a}:\n"
                         + "\n".join(lines[f]))
        return Check(contract.name, "references", None, False, summary,
                     f"{len(exceeded)} file(s) gained references to legacy paths of "
                     f"{contract.name} beyond the baseline ({baseline_name}):\n"
                     + "\n".join(parts) + f"\nfix: import {contract.canonical} in these "
                     "lines instead; the baseline only ever goes down.")
    note = (f"; baseline can be tightened in {tighter} file(s) "
            "(pytest --ssot-update-baseline)" if tighter else "; within the baseline")
    return Check(contract.name, "references", None, True, summary + note)


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
