"""``pytest-ssot scan``: the static scan alone, held against the baseline as pytest holds it.

Exit codes (SPEC 11): 1 when a violation is new (with ``--strict``: when any remains) or a
file cannot be scanned, 2 on a configuration error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


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
    p.add_argument("--jobs", type=int, default=None, help="worker processes "
                                                          "(default: all cores)")


def _report_modules() -> None:
    """What the report needs, imported while the scan's workers walk."""
    from . import report  # noqa: F401
    from .report import github  # noqa: F401
    from .scan import baseline  # noqa: F401


def run(args: argparse.Namespace) -> int:
    from .cli import _cache_path, _progress, _scan_only_report, _settings
    from .config import ConfigError
    from .scan import scan

    got = _settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    strict = bool(args.strict) or settings.strict
    if args.jobs is not None and args.jobs < 1:
        print("pytest-ssot: --jobs must be 1 or more", file=sys.stderr)
        return 2
    from ._atomic import resolve_target, target_problem

    baseline_path = root / settings.baseline
    # A baseline that is a folder or a FIFO is not "no baseline, no limit" (a silent pass).
    bad = (target_problem(baseline_path) if baseline_path.exists()
           and not resolve_target(baseline_path).is_file() or args.update_baseline else None)
    if bad is not None:
        print(f"pytest-ssot: pyproject.toml: [tool.pytest-ssot] key 'baseline': {bad}",
              file=sys.stderr)
        return 2
    for flag, target in (("--json", args.json), ("--sarif", args.sarif)):
        problem = target_problem(Path(target)) if target else None
        if problem is not None:  # before the scan, not a traceback after it
            print(f"pytest-ssot scan: {flag}: {problem}", file=sys.stderr)
            return 2
    try:
        progress = _progress if sys.stderr.isatty() else None
        result = scan(settings, root, cache_path=_cache_path(root, settings),
                      jobs=args.jobs, progress=progress, meanwhile=_report_modules)
        from .report import scan_lines, violation_dicts, write_json
        from .report.github import (annotations, append_step_summary, in_github_actions,
                                    step_summary)
        from .scan.baseline import check_references, check_scan_errors, hold, load, update

        if args.update_baseline:
            changes = update(baseline_path, result, settings.contracts)
            print(f"baseline written: {baseline_path}")
            for line in changes:
                print(line)
        baseline = load(baseline_path)
    except ConfigError as exc:
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    if result.files_scanned == 0:  # never a silent pass
        print("pytest-ssot scan: the scan read no Python file: point [tool.pytest-ssot] key "
              "'paths' at the project's code, or narrow key 'exclude'", file=sys.stderr)
        return 1
    held = hold(result, baseline)
    checks = {c.name: check_references(c, result, held, strict, settings.baseline)
              for c in settings.contracts}
    github = args.format == "github" or (args.format is None and in_github_actions())
    if github:
        lines = list(annotations(result, held, strict))
    else:
        marks = {None: "", "new": "  (new)", "unchanged": "  (baseline)"}
        lines = [f"{v.file}:{v.line}: [{v.contract}] {v.path} -> {v.fix}{marks[state]}"
                 for v, state in zip(result.violations, held.states)]
    lines += scan_lines(settings.contracts, result, checks, verbose=False)
    sys.stdout.write("".join(line + "\n" for line in lines))  # one write, not one per line
    failed = [c for c in checks.values() if not c.passed]
    for check in failed:
        print(f"\n[ssot {check.contract}] {check.explanation}")
    parse = check_scan_errors(result)
    if github:
        problem = append_step_summary(step_summary(settings.contracts, result, held, checks,
                                                   strict))
        if problem:
            print(f"pytest-ssot: {problem}", file=sys.stderr)
    try:
        if args.json:
            doc = _scan_only_report(settings, result, held)  # the violations built once
            doc["strict"] = strict
            for c in doc["contracts"]:
                c["references_passed"] = checks[c["name"]].passed
                c["references_summary"] = checks[c["name"]].summary
                if held.schema is not None:
                    c["baseline"] = {"new": len(held.new(c["name"])),
                                     "fixed": held.fixed_total(c["name"])}
            write_json(Path(args.json), doc)
        if args.sarif:
            from .report.sarif import build_sarif

            write_json(Path(args.sarif), build_sarif(violation_dicts(result, held),
                                                     result.errors, settings.contracts))
    except OSError as exc:
        print(f"pytest-ssot: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 1 if failed or not parse.passed else 0

