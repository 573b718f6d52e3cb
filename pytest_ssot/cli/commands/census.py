"""``pytest-ssot census FILE... [--json PATH]``: merge runtime census files (several
services, several days) and print hits per legacy path and caller (SPEC 14).

Exit codes: 0 when every file was merged, 1 when one was skipped (truncated, damaged, from
another project or a newer version: its evidence is missing, never counted as zero), 2 on
a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import INTERRUPTED

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "census"
SUMMARY = "merge runtime census files: hits per legacy path and caller"
DESCRIPTION = """\
Merge census files written by pytest_ssot.census.install() in services (several
services, several days) and print the runtime hits per legacy path and caller, with
when each caller was last seen. pytest --ssot-census=FILE and scan --census FILE use the
same files: a legacy path with runtime hits is not removable."""
EPILOG = """\
exit codes:
  0 every file was merged
  1 a file was skipped (truncated, damaged, from another project or a newer version:
    its evidence is missing, never counted as zero hits)
  2 a file does not exist, or a usage error
""" + INTERRUPTED


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="census files (JSON lines)")
    p.add_argument("--json", metavar="PATH", help="write the merge as JSON")
    p.add_argument("--project", metavar="NAME",
                   help="the project the files must come from (default: [project] name of "
                        "the nearest pyproject.toml with [tool.pytest-ssot]; none found: "
                        "any)")


def run(args: argparse.Namespace) -> int:
    from ...census import (census_lines, find_pyproject, not_a_census_file, project_identity,
                         read_census)

    project = args.project
    if project is None:
        found = find_pyproject()
        project = project_identity(found) if found is not None else None
    for f in args.files:
        why = not_a_census_file(f)
        if why is not None:
            print(f"pytest-ssot census: {f}: {why}", file=sys.stderr)
            return 2
    if args.json:
        from ...atomic import target_problem

        problem = target_problem(Path(args.json))
        if problem is not None:
            print(f"pytest-ssot census: --json: {problem}", file=sys.stderr)
            return 2
    merge = read_census(args.files, project=project)
    if args.json:
        from ...report import write_json

        try:
            write_json(Path(args.json), merge.to_dict())
        except OSError as exc:
            print(f"pytest-ssot census: cannot write --json {args.json}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 1
    sys.stdout.write("".join(line + "\n" for line in census_lines(merge)))
    return 1 if merge.skipped else 0
