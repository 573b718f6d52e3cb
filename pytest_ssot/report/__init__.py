"""Renderers of plain result data: the JSON report and the terminal summary.

Pure core: no pytest import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..atomic import write_atomic
from ..domain.contracts import Contract
from ..domain.display import shown
from ..domain.verdicts import Verdict
from ..domain.checks import Check, ContractRuntime, checks

if TYPE_CHECKING:
    from ..scan import ScanResult, Violation
    from ..scan.baseline import Held

__all__ = ["SCHEMA", "build_report", "contract_scan_fields", "scan_part", "scan_report",
           "violation_dicts", "violation_listing", "write_json", "terminal_lines", "scan_lines", "mode_text"]

SCHEMA = "pytest-ssot/1"


def _entry(v: Verdict, passed: bool) -> dict[str, Any]:
    return {
        "path": v.path, "verdict": v.verdict, "warning": v.warning,
        "warning_category": v.warning_category, "error": v.error, "reason": v.reason,
        "is_canonical": v.is_canonical, "passed": passed,
    }


def build_report(contracts: Sequence[Contract], runtimes: Mapping[str, ContractRuntime],
                 strict: bool, scan: "ScanResult | None" = None,
                 reference_checks: Mapping[str, Check] | None = None,
                 held: "Held | None" = None,
                 readiness: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``--ssot-report`` document (SPEC 6)."""
    out_contracts = []
    for c in contracts:
        rt = runtimes[c.name]
        decided = {(k.kind, k.path): k.passed for k in checks(c, rt, strict)}
        canonical = _entry(rt.canonical, decided[("canonical", str(c.canonical))])
        canonical["import_ms"] = rt.canonical.import_ms
        canonical["max_import_ms"] = c.max_import_ms or None
        entry: dict[str, Any] = {
            "name": c.name,
            "canonical": canonical,
            "legacy": [_entry(v, decided[("legacy", v.path)]) for v in rt.legacy],
            "factories": [_entry(v, decided[("factory", v.path)]) for v in rt.factories],
            "aliases": [{"path": a} for a in rt.aliases],
            "aliases_passed": decided[("aliases", None)],
            "alias_scope": list(c.effective_alias_scope),
            "alias_errors": list(rt.alias_errors),
            "alias_skipped": rt.alias_skipped,
        }
        ready = {r["path"]: r for r in (readiness or {}).get(c.name, ())}
        for e in (*entry["legacy"], *entry["factories"]):
            if e["path"] in ready:
                e["removable"] = ready[e["path"]]["removable"]
                e["blockers"] = ready[e["path"]]["blockers"]
        passed = all(decided.values())
        if scan is not None:
            check = (reference_checks or {}).get(c.name)
            entry.update(contract_scan_fields(c.name, scan, held, check))
            if check is not None:
                passed = passed and check.passed
        entry["passed"] = passed
        out_contracts.append(entry)
    doc: dict[str, Any] = {"schema": SCHEMA, "strict": strict, "contracts": out_contracts}
    if any(c.deadlines for c in contracts):  # SPEC 13: what is due when, references left
        rows = _schedule(contracts, scan)
        doc["deadlines"] = rows
        for c, entry in zip(contracts, out_contracts):
            entry["deadlines"] = [r for r in rows if r["contract"] == c.name]
    if scan is not None:
        doc.update(scan_part(scan, held))
    return doc


def contract_scan_fields(contract: str, result: "ScanResult", held: "Held | None",
                         check: "Check | None") -> dict[str, Any]:
    """A contract's part of a report that the scan decides (SPEC 6, 13): references,
    canonical references by source, compliance, against the baseline, the references
    check. The same for ``--ssot-report`` and ``pytest-ssot scan --json``."""
    text = result.text_canonical.get(contract, {})
    fields: dict[str, Any] = {
        "references": {"canonical": result.canonical.get(contract, 0),
                       "violations": sum(1 for v in result.violations
                                         if v.contract == contract)},
        # docs' and configuration files' canonical references (SPEC 13), apart
        "canonical_by_source": {"code": result.canonical.get(contract, 0),
                                "docs": text.get("doc", 0), "config": text.get("config", 0)},
        "compliance": round(result.compliance(contract), 4),
        # code, docs and config each their own ratio (SPEC 13); "compliance" is code's
        "compliance_by_source": {k: round(x, 4)
                                 for k, x in result.compliance_by_source(contract).items()},
    }
    if held is not None and held.schema is not None:
        fields["baseline"] = {"new": len(held.new(contract)),
                              "fixed": held.fixed_total(contract)}
    if check is not None:
        fields["references_passed"] = check.passed
        fields["references_summary"] = check.summary
    return fields


def scan_report(contracts: Sequence[Contract], result: "ScanResult", held: "Held",
                reference_checks: Mapping[str, Check], strict: bool,
                violations: "Rendered | None" = None) -> dict[str, Any]:
    """``pytest-ssot scan --json``: the report without the runtime part (the command runs
    no probes). ``violations``: already rendered (``compact``)."""
    contracts_part = []
    for c in contracts:
        fields = contract_scan_fields(c.name, result, held, reference_checks.get(c.name))
        baseline = fields.pop("baseline", None)  # (last in this report, as it always was)
        entry = {"name": c.name, "canonical": {"path": str(c.canonical)}, **fields}
        if baseline is not None:
            entry["baseline"] = baseline
        contracts_part.append(entry)
    return {"schema": SCHEMA, "strict": strict, "contracts": contracts_part,
            **scan_part(result, held, violations)}


def _schedule(contracts: Sequence[Contract], scan: "ScanResult | None") -> list[dict[str, Any]]:
    from ..domain.deadlines import schedule

    refs: dict[tuple[str, str], int] | None = None
    if scan is not None:
        refs = {}
        for v in scan.violations:
            refs[(v.contract, v.path)] = refs.get((v.contract, v.path), 0) + 1
    return schedule(list(contracts), refs)


_MARKS = {None: "", "new": "  (new)", "unchanged": "  (baseline)"}


def violation_listing(violations: Sequence["Violation"], states: Sequence[str | None]
                      ) -> list[str]:
    """One line per violation, marked new or held by the baseline (``pytest-ssot scan``)."""
    names: dict[str, str] = {}  # each file name checked once, not once per violation
    return [f"{names.get(v.file) or names.setdefault(v.file, shown(v.file))}:{v.line}: "
            f"[{v.contract}] {v.path} -> {v.fix}{_MARKS[state]}"
            for v, state in zip(violations, states)]


def violation_dicts(scan: "ScanResult", held: "Held | None" = None) -> list[dict[str, Any]]:
    """Each violation as the report shows it: with its ``fingerprint`` and, when a baseline
    exists, ``"baseline": "new" | "unchanged"`` (SPEC 6, 7)."""
    out = [v.to_dict() for v in scan.violations]
    if held is not None:
        for d, fp, state in zip(out, held.fingerprints, held.states):
            d["fingerprint"] = fp
            if state is not None:
                d["baseline"] = state
    return out


def scan_part(scan: "ScanResult", held: "Held | None" = None,
              violations: "Rendered | None" = None) -> dict[str, Any]:
    """The report's ``violations``, ``errors`` and ``summary`` (SPEC 6). ``violations``:
    the violations already rendered (``compact(violation_dicts(scan, held))``)."""
    by_area: dict[str, int] = {}
    for v in scan.violations:
        by_area[v.area] = by_area.get(v.area, 0) + 1
    from ..domain.refkind import SOURCES
    from ..scan import COMPLIANCE_KINDS

    canonical_total = sum(scan.canonical.values())
    ref_total = sum(1 for v in scan.violations if v.kind in COMPLIANCE_KINDS)
    by_source = {}
    for source, kinds in SOURCES.items():
        if source == "code":
            good = canonical_total
        else:
            good = sum(per.get(k, 0) for per in scan.text_canonical.values() for k in kinds)
        bad = sum(1 for v in scan.violations if v.kind in kinds)
        by_source[source] = round(1.0 if good + bad == 0 else good / (good + bad), 4)
    return {
        "violations": violation_dicts(scan, held) if violations is None else violations,
        "errors": list(scan.errors),
        "summary": {
            "files_scanned": scan.files_scanned,
            "violations": len(scan.violations),
            "files_with_violations": len({v.file for v in scan.violations}),
            "by_area": dict(sorted(by_area.items())),
            "by_kind": scan.counts_by_kind(),
            "compliance": round(1.0 if canonical_total + ref_total == 0
                                else canonical_total / (canonical_total + ref_total), 4),
            "compliance_by_source": by_source,
            "errors": len(scan.errors),
            **({"baseline": {"schema": held.schema,
                             "new": sum(s == "new" for s in held.states),
                             "fixed": sum(sum(f.values()) for f in held.fixed.values())}}
               if held is not None and held.schema is not None else {}),
        },
    }


# A report with more violations than this is written compact (``write_json``).
COMPACT_ABOVE = 500


class Rendered(str):
    """A value of a report already encoded as compact JSON: ``write_json`` puts it in as
    it is (``compact``)."""


def compact(value: Any) -> Rendered:
    """``value`` encoded as ``write_json`` encodes a large report (plain data only)."""
    return Rendered(json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                               check_circular=False))


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write atomically: a reader never sees half a report.

    A report with many violations is written compact: ``indent`` makes ``json`` use its
    pure-Python encoder, which cost as much as a warm scan of a large tree.

    Always valid UTF-8: a file name that is not valid UTF-8 reaches us with its raw bytes
    as lone surrogates (``surrogateescape``), which JSON would carry as ``\\udcXX``
    escapes that strict readers reject; such a byte is written as the four characters
    ``\\xNN`` instead (``caf\\xe9.py``; the README says so).
    """
    small = not isinstance(document.get("violations"), Rendered) and len(
        document.get("violations", ())) <= COMPACT_ABOVE

    def dump(doc: Any) -> str:
        if any(isinstance(v, Rendered) for v in doc.values()):
            parts = (f"{json.dumps(k)}:{v if isinstance(v, Rendered) else compact(v)}"
                     for k, v in doc.items())
            return "{" + ",".join(parts) + "}\n"
        if small:
            return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        return compact(doc) + "\n"

    text = dump(document)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # rare: only then walk the document
        if any(isinstance(v, Rendered) for v in document.values()):
            raise ValueError("a pre-rendered report part holds characters JSON cannot "
                             "carry: render it from the data instead")
        data = dump(_printable(document)).encode("utf-8", "backslashreplace")
    write_atomic(path, data)


def _printable(value: Any) -> Any:
    """``value`` with each lone surrogate of its strings as ``\\xNN`` (its raw byte)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                raw = value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # not from a file name: say the code point
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
            return raw.decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def _shorten(text: str | None, width: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 3] + "..."


def mode_text(strict: bool, strict_from: str = "") -> str:
    """``strict (where it came from)`` or ``transitional``: a user who did not pass the
    flag must see which setting made the run strict."""
    return f"strict ({strict_from or '--ssot-strict'})" if strict else "transitional"


def terminal_lines(contracts: Sequence[Contract], runtimes: Mapping[str, ContractRuntime],
                   strict: bool, strict_from: str = "") -> list[str]:
    """The verdict table of each contract, as terminal lines."""
    lines = [f"mode: {mode_text(strict, strict_from)}"]
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
            elif v.path in rt.never_existed:
                extra = "  never existed (configuration error)"
            if kind == "canonical" and v.import_ms is not None and v.resolves:
                extra += f"  (import {v.import_ms:.1f} ms)"
            lines.append(f"  {mark} {kind:<9} {v.path:<{width}}  {v.verdict}{extra}")
        alias = decided[-1]
        lines.append(f"  {'ok  ' if alias.passed else 'FAIL'} {'aliases':<9} {alias.summary}")
        for err in rt.alias_errors:
            lines.append(f"       alias scope: {err['module']} could not be imported: "
                         f"{_shorten(err['error'], 70)}")
    return lines


def source_compliance_line(scan: "ScanResult", contract: str) -> str:
    """``compliance: code 0.636, docs 0.500, config 1.000`` when docs or configuration
    files hold a reference to the contract (SPEC 13); "" otherwise (code's compliance is
    on the references line already)."""
    if not scan.text_canonical.get(contract) and not any(
            v.contract == contract and v.kind in ("doc", "config") for v in scan.violations):
        return ""
    ratios = scan.compliance_by_source(contract)
    return "compliance: " + ", ".join(f"{k} {x:.3f}" for k, x in ratios.items())


def scan_lines(contracts: Sequence[Contract], scan: "ScanResult",
               reference_checks: Mapping[str, Check], verbose: bool,
               worst: int = 5) -> list[str]:
    """Per contract: violations by area, compliance, the worst files; ``-v``: every line."""
    lines = [f"scan: {scan.files_scanned} file(s), {scan.files_parsed} parsed, "
             f"{scan.files_from_cache} from cache, {scan.seconds:.2f} s"]
    if scan.cache_note:
        lines.append(f"  note: {scan.cache_note}")
    for c in contracts:
        check = reference_checks.get(c.name)
        mine = [v for v in scan.violations if v.contract == c.name]
        mark = "ok  " if check is None or check.passed else "FAIL"
        lines.append(f"  {mark} references {c.name}: "
                     + (check.summary if check else f"{len(mine)} violation(s)"))
        text_line = source_compliance_line(scan, c.name)
        if text_line:
            lines.append("       " + text_line)
        if not mine:
            continue
        by_area: dict[str, int] = {}
        per_file: dict[str, int] = {}
        for v in mine:
            by_area[v.area] = by_area.get(v.area, 0) + 1
            per_file[v.file] = per_file.get(v.file, 0) + 1
        lines.append("       by area: " + ", ".join(f"{a} {n}" for a, n in
                                                     sorted(by_area.items())))
        lines.append("       by kind: " + ", ".join(
            f"{k} {n}" for k, n in scan.counts_by_kind(c.name).items()))
        top = sorted(per_file.items(), key=lambda kv: (-kv[1], kv[0]))[:worst]
        lines.append("       worst files: " + ", ".join(f"{shown(f)} ({n})" for f, n in top))
        if verbose:
            for v in mine:
                lines.append(f"       {shown(v.file)}:{v.line}: {v.path} -> {v.fix}")
    for e in scan.errors:
        lines.append(f"  FAIL {shown(e['file'])}: {shown(e['message'])}")
    if any(c.deadlines for c in contracts):
        from ..domain.deadlines import schedule_lines

        lines += [shown(line) for line in schedule_lines(_schedule(contracts, scan))]
    return lines
