"""``pytest-ssot scan``: the static scan alone, held against the baseline as pytest holds it.

Exit codes (SPEC 11): 1 when a violation is new (with ``--strict``: when any remains) or a
file cannot be scanned, 2 on a configuration error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import INTERRUPTED
from ..shared import jobs_option

if TYPE_CHECKING:
    from ...census import CensusMerge
    from ...domain.contracts import SsotConfig
    from ...scan import ScanResult
    from ...services.project import Mode, ScanCheck

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "scan"
SUMMARY = "the static reference scan alone, held against the baseline"
DESCRIPTION = """\
Scan the configured paths for references to legacy and factory paths (imports,
attribute chains, mock.patch strings, calls of deprecated factories, second definitions)
and hold them against the baseline (.ssot-baseline.json): a violation the baseline does
not hold fails, one it holds is listed as such. --update-baseline writes the current
violations as the new baseline and prints what was added and dropped."""
EPILOG = """\
exit codes:
  0 no violation beyond the baseline (with --strict: no violation at all)
  1 new violations (--strict: any), files that could not be scanned, or no file read
  2 configuration or usage error
""" + INTERRUPTED


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


def run(args: argparse.Namespace) -> int:
    """Check the project's scan (``services.project.check_scan``) and say it: the reports
    first, then the listing, the summary and each failed check's explanation."""
    from ..shared import cache_path, progress as show_progress, project_settings
    from ...errors import ConfigError
    from ...services.project import Mode, RewrittenThenFailed, check_baseline_path, check_scan

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    mode = Mode.decide(bool(args.strict), "--strict", settings)
    try:  # (first: a broken baseline path is a usage error before anything is written)
        check_baseline_path(root / settings.baseline, root, updating=args.update_baseline,
                            update_rules_first=True)
    except ConfigError as exc:
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    problem = _report_targets_problem(args)
    if problem is not None:  # before the scan, not a traceback after it
        print(problem, file=sys.stderr)
        return 2
    census = _read_census(args, root)  # SPEC 14: before the scan, a missing file is usage
    if isinstance(census, int):
        return census
    from ...report.github import in_github_actions

    github = args.format == "github" or (args.format is None and in_github_actions())
    try:
        checked = check_scan(settings, root, mode, cache_path=cache_path(root, settings),
                             jobs=args.jobs,
                             progress=show_progress if sys.stderr.isatty() else None,
                             cache_mode=getattr(args, "cache_mode", None) or "use",
                             update_baseline=args.update_baseline,
                             json_wanted=bool(args.json))
    except ConfigError as exc:
        if isinstance(exc, RewrittenThenFailed):
            _say_rewritten(root / settings.baseline, exc.changes)
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    if checked.baseline_changes is not None:
        _say_rewritten(root / settings.baseline, checked.baseline_changes)
    result = checked.result
    if result.files_scanned - result.text_files_scanned <= 0:  # never a silent pass
        print("pytest-ssot scan: the scan read no Python file: point [tool.pytest-ssot] key "
              "'paths' at the project's code, or narrow key 'exclude'", file=sys.stderr)
        return 1
    # The reports first: a listing that cannot be written (``| head``) must not lose them.
    code = _write_reports(args, settings, checked, mode, census)
    if code is not None:
        return code
    _say(settings, checked, mode, census, github)
    return 0 if checked.passed else 1


def _say_rewritten(path: Path, changes: "tuple[str, ...]") -> None:
    print(f"baseline written: {path}")
    for line in changes:
        print(line)


def _report_targets_problem(args: argparse.Namespace) -> str | None:
    """Why ``--json`` or ``--sarif`` cannot be written, or None."""
    from ...atomic import target_problem

    for flag, target in (("--json", args.json), ("--sarif", args.sarif)):
        problem = ("expected a file path, got an empty one" if target == "" else
                   target_problem(Path(target)) if target else None)
        if problem is not None:
            return f"pytest-ssot scan: {flag}: {problem}"
    return None


def _write_reports(args: argparse.Namespace, settings: "SsotConfig", checked: "ScanCheck",
                   mode: "Mode", census: "CensusMerge | None") -> int | None:
    """``--json`` and ``--sarif``; 1 when one cannot be written."""
    from ...report import scan_report, violation_dicts, write_json

    result, held = checked.result, checked.held
    flag = None
    try:
        if args.json:
            flag = f"--json {args.json}"
            doc = scan_report(settings.contracts, result, held, checked.references,
                              mode.strict, checked.prepared_violations)
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
    return None


def _say(settings: "SsotConfig", checked: "ScanCheck", mode: "Mode",
         census: "CensusMerge | None", github: bool) -> None:
    """The listing (or GitHub annotations), the summary, each failed check's explanation
    and, in GitHub Actions, the step summary."""
    from ...report import scan_lines
    from ...report.github import annotations, append_step_summary, step_summary

    result, held, checks = checked.result, checked.held, checked.references
    lines = list(annotations(result, held, mode.strict)) if github else checked.listing()
    lines += scan_lines(settings.contracts, result, checks, verbose=False)
    if census is not None:
        lines += _census_part(settings, census, result)[1]
    sys.stdout.write("".join(line + "\n" for line in lines))  # one write, not one per line
    for check in (c for c in checks.values() if not c.passed):
        print(f"\n[ssot {check.contract}] {check.explanation}")
    if github:
        problem = append_step_summary(step_summary(
            settings.contracts, result, held, checks, mode.strict, strict_from=mode.source))
        if problem:
            print(f"pytest-ssot: {problem}", file=sys.stderr)


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
