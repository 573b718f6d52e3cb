"""``pytest-ssot scan``: the static scan alone, held against the baseline as pytest holds it.

Exit codes (SPEC 11): 1 when a violation is new (with ``--strict``: when any remains) or a
file cannot be scanned, 2 on a configuration error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..shared import jobs_option

if TYPE_CHECKING:
    from ...census import CensusMerge
    from ...domain.contracts import SsotConfig
    from ...report import Rendered
    from ...scan import ScanResult
    from ...scan.baseline import Held

__all__ = ["add_arguments", "run", "scan_only_report"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="PATH", help="write the scan report as JSON")
    p.add_argument("--sarif", metavar="PATH", help="write SARIF 2.1.0")
    p.add_argument("--format", choices=("text", "github"), default=None,
                   help="text, or GitHub workflow commands (annotations) and the step "
                        "summary (default: github when GITHUB_ACTIONS=true)")
    p.add_argument("--strict", action="store_true", default=None,
                   help="zero violations: the baseline is ignored (default: the 'strict' "
                        "key of [tool.pytest-ssot])")
    p.add_argument("--update-baseline", action="store_true",
                   help="write the current violations to the baseline file and print what "
                        "was added and dropped")
    p.add_argument("--rootdir", metavar="DIR", help="the project root (default: found from "
                                                    "the working directory)")
    p.add_argument("--jobs", type=jobs_option, default=None, metavar="N",
                   help="worker processes (default: one per core; never more than the "
                        "cores)")
    p.add_argument("--census", action="append", default=[], metavar="FILE",
                   help="a runtime census file (repeatable): legacy modules with runtime "
                        "hits are not removable; the report lists their callers")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--cold", action="store_const", const="cold", dest="cache_mode",
                       help="read nothing from the scan cache (every file is read and "
                            "analysed); the cache is still refreshed")
    trust.add_argument("--verify", action="store_const", const="verify", dest="cache_mode",
                       help="trust file contents, not timestamps: every file is read and "
                            "its content hash checked against the cache (for release "
                            "jobs; about a third of a cold scan's cost)")


_MARKS = {None: "", "new": "  (new)", "unchanged": "  (baseline)"}


def _listing(violations: list, states: list) -> list[str]:
    from ...domain.display import shown

    names: dict[str, str] = {}  # each file name checked once, not once per violation
    return [f"{names.get(v.file) or names.setdefault(v.file, shown(v.file))}:{v.line}: "
            f"[{v.contract}] {v.path} -> {v.fix}{_MARKS[state]}"
            for v, state in zip(violations, states)]


def _ahead(guess: "ScanResult | None", baseline_path: Path, json_wanted: bool,
           ahead: dict) -> None:
    """Run in this process while the scan's workers walk: import what the report needs
    and, from the result as the cache has it (``guess``), prepare the listing and the
    report's violations. When nothing changed on disk (the usual warm run) they are the
    answer; otherwise they are dropped and made again from the real result."""
    from ...errors import ConfigError
    from ...report import COMPACT_ABOVE, compact, violation_dicts
    from ...report import github  # noqa: F401
    from ...scan.baseline import hold, load

    if guess is None:
        return
    try:
        held = hold(guess, load(baseline_path))
    except (ConfigError, OSError):
        return  # said properly after the walk
    ahead["guess"] = guess
    ahead["held"] = held
    ahead["listing"] = _listing(guess.violations, held.states)
    if json_wanted and len(guess.violations) > COMPACT_ABOVE:  # (else written indented)
        rendered = compact(violation_dicts(guess, held))
        try:
            rendered.encode("utf-8")
        except UnicodeEncodeError:
            return  # an undecodable file name: written by the slower path
        ahead["violations"] = rendered


def run(args: argparse.Namespace) -> int:
    from ..shared import cache_path, progress as show_progress, project_settings
    from ...errors import ConfigError
    from ...scan import scan

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    strict = bool(args.strict) or settings.strict
    from ...atomic import resolve_target, target_problem

    baseline_path = root / settings.baseline
    # A baseline that is a folder or a FIFO is not "no baseline, no limit" (a silent pass).
    if args.update_baseline:  # (first: the folder probe must not touch outside the root)
        from ...scan.baseline import update_problem

        bad = update_problem(baseline_path, root) or target_problem(baseline_path)
    else:
        bad = (target_problem(baseline_path) if baseline_path.exists()
               and not resolve_target(baseline_path).is_file() else None)
    if bad is not None:
        print(f"pytest-ssot: pyproject.toml: [tool.pytest-ssot] key 'baseline': {bad}",
              file=sys.stderr)
        return 2
    for flag, target in (("--json", args.json), ("--sarif", args.sarif)):
        problem = ("expected a file path, got an empty one" if target == "" else
                   target_problem(Path(target)) if target else None)
        if problem is not None:  # before the scan, not a traceback after it
            print(f"pytest-ssot scan: {flag}: {problem}", file=sys.stderr)
            return 2
    census = _read_census(args, root)  # SPEC 14: before the scan, a missing file is usage
    if isinstance(census, int):
        return census
    from ...report.github import in_github_actions

    github = args.format == "github" or (args.format is None and in_github_actions())
    ahead: dict = {}
    try:
        progress = show_progress if sys.stderr.isatty() else None
        result = scan(settings, root, cache_path=cache_path(root, settings),
                      jobs=args.jobs, progress=progress,
                      cache_mode=getattr(args, "cache_mode", None) or "use",
                      meanwhile=None if args.update_baseline else (
                          lambda guess: _ahead(guess, baseline_path, bool(args.json),
                                               ahead)))
        from ...report import scan_lines, violation_dicts, write_json
        from ...report.github import annotations, append_step_summary, step_summary
        from ...scan.baseline import check_references, check_scan_errors, hold, load, update

        if args.update_baseline:
            changes = update(baseline_path, result, settings.contracts, root)
            print(f"baseline written: {baseline_path}")
            for line in changes:
                print(line)
        baseline = load(baseline_path)
    except ConfigError as exc:
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    if result.files_scanned - result.text_files_scanned <= 0:  # never a silent pass
        print("pytest-ssot scan: the scan read no Python file: point [tool.pytest-ssot] key "
              "'paths' at the project's code, or narrow key 'exclude'", file=sys.stderr)
        return 1
    # What was prepared during the walk holds when the result is the cache's guess.
    if ahead.get("guess") is None or ahead["guess"].violations is not result.violations:
        ahead = {}
    held = ahead["held"] if ahead else hold(result, baseline)
    checks = {c.name: check_references(c, result, held, strict, settings.baseline)
              for c in settings.contracts}
    # The reports first: a listing that cannot be written (``| head``) must not lose them.
    flag = None
    try:
        if args.json:
            flag = f"--json {args.json}"
            doc = scan_only_report(settings, result, held, ahead.get("violations"))
            doc["strict"] = strict
            for c in doc["contracts"]:
                c["references_passed"] = checks[c["name"]].passed
                c["references_summary"] = checks[c["name"]].summary
                if held.schema is not None:
                    c["baseline"] = {"new": len(held.new(c["name"])),
                                     "fixed": held.fixed_total(c["name"])}
            if census is not None:
                doc["census"] = _census_part(settings, census, result)[0]
            write_json(Path(args.json), doc)
        if args.sarif:
            from ...report.sarif import build_sarif

            flag = f"--sarif {args.sarif}"
            write_json(Path(args.sarif), build_sarif(violation_dicts(result, held),
                                                     result.errors, settings.contracts))
    except OSError as exc:  # checked before the scan; the disk can still fill up
        print(f"pytest-ssot: cannot write {flag}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if github:
        lines = list(annotations(result, held, strict))
    else:
        lines = ahead["listing"] if ahead else _listing(result.violations, held.states)
    lines += scan_lines(settings.contracts, result, checks, verbose=False)
    if census is not None:
        lines += _census_part(settings, census, result)[1]
    sys.stdout.write("".join(line + "\n" for line in lines))  # one write, not one per line
    failed = [c for c in checks.values() if not c.passed]
    for check in failed:
        print(f"\n[ssot {check.contract}] {check.explanation}")
    parse = check_scan_errors(result)
    if github:
        source = settings.file.name if settings.file else "pyproject.toml"
        problem = append_step_summary(step_summary(
            settings.contracts, result, held, checks, strict,
            strict_from="--strict" if args.strict else f"strict = true in {source}"))
        if problem:
            print(f"pytest-ssot: {problem}", file=sys.stderr)
    return 1 if failed or not parse.passed else 0


def _read_census(args: argparse.Namespace, root: Path) -> "CensusMerge | int | None":
    """``--census FILE``: merged census files (or exit code 2 for a missing one)."""
    if not getattr(args, "census", None):
        return None
    from ...census import not_a_census_file, project_identity, read_census

    for f in args.census:
        why = not_a_census_file(f)
        if why is not None:
            print(f"pytest-ssot scan: --census: {f}: {why}", file=sys.stderr)
            return 2
    return read_census(args.census, project=project_identity(root / "pyproject.toml"))


def _census_part(settings: "SsotConfig", census: "CensusMerge",
                 result: "ScanResult") -> tuple[dict, list[str]]:
    from ...report.census import scan_census

    return scan_census(settings.contracts, census, result)


def _text_canonical(result: "ScanResult", contract: str) -> dict[str, int]:
    """Canonical references in docs and configuration files (SPEC 13), beside code's."""
    per = result.text_canonical.get(contract, {})
    return {"code": result.canonical.get(contract, 0), "docs": per.get("doc", 0),
            "config": per.get("config", 0)}


def scan_only_report(settings: SsotConfig, result: "ScanResult", held: "Held | None" = None,
                      violations: "Rendered | None" = None) -> dict:
    """The JSON report without the runtime part (the CLI runs no probes). ``violations``:
    already rendered (``report.compact``)."""
    from ...report import SCHEMA, scan_part

    contracts = []
    for c in settings.contracts:
        refs = sum(1 for v in result.violations if v.contract == c.name)
        contracts.append({"name": c.name, "canonical": {"path": str(c.canonical)},
                          "references": {"canonical": result.canonical.get(c.name, 0),
                                         "violations": refs},
                          "canonical_by_source": _text_canonical(result, c.name),
                          "compliance": round(result.compliance(c.name), 4),
                          "compliance_by_source": {
                              k: round(x, 4)
                              for k, x in result.compliance_by_source(c.name).items()}})
    return {"schema": SCHEMA, "strict": settings.strict, "contracts": contracts,
            **scan_part(result, held, violations)}
