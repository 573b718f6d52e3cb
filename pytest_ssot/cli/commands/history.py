"""``pytest-ssot history``: arguments, the terminal table, ``--json`` and ``--html``.

The registry in ``commands/__init__.py`` names it; everything else is here. Exit codes: 0, or 2 for anything the user must fix
(not a git repository, a bad range or date, no commit, a missing optional dependency).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ...domain.contracts import SsotConfig
from ...errors import ConfigError
from . import INTERRUPTED

if TYPE_CHECKING:
    from ...history.timeline import History

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "history"
SUMMARY = "the migration over time: violations and compliance of each commit"
DESCRIPTION = """\
The scan of each commit of a range (default: the first-parent history of HEAD, sampled
evenly to at most 50 commits), read from git's objects without a checkout: date,
violations per contract and area, canonical references, compliance. A file content is
analysed once whatever the number of commits that hold it. --json and --html write the
same as data and as a dashboard with a burndown chart."""
EPILOG = """\
exit codes:
  0 the history was shown (and written)
  2 not a git repository, a bad range or date, configuration or usage error
""" + INTERRUPTED

_RELATIVE_DATE = re.compile(r"^\d+ (second|minute|hour|day|week|month|year)s? ago$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev_range", nargs="?", metavar="REV_RANGE", default=None,
                   help="git revisions, e.g. v1.0..HEAD (default: HEAD); first parents only")
    p.add_argument("--max-commits", type=int, default=None, metavar="N",
                   help="sample the range evenly to at most N commits (default 50)")
    p.add_argument("--since", metavar="DATE", default=None,
                   help="only commits since DATE (ISO-8601 like 2026-01-31, or '2 weeks ago')")
    p.add_argument("--json", metavar="PATH", help="write the history as JSON "
                                                  "(schema pytest-ssot-history/1)")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML dashboard "
                                                  "with the burndown chart")
    p.add_argument("--rootdir", metavar="DIR", help="the project root (default: found "
                                                    "from the working directory)")
    p.add_argument("--census", action="append", default=[], metavar="FILE",
                   help="with --html: runtime census files whose hits the page shows beside "
                        "the static references (repeatable)")


def _census(args: argparse.Namespace, root: Path, found: "History") -> dict | None:
    """``--census FILE``: the runtime hits the page shows beside the static references."""
    if not getattr(args, "census", None):
        return None
    from ...census import project_identity, read_census
    from ...report.census import census_section

    merge = read_census(args.census, project=project_identity(root / "pyproject.toml"))
    for file, why in merge.skipped:
        print(f"census file skipped: {file}: {why}")
    return census_section(None, merge, found.points[-1].result)


def _error(message: str) -> int:
    print(f"pytest-ssot history: {message}", file=sys.stderr)
    return 2


def _progress(what: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r{what}: {done}/{total}   ")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\r" + " " * 60 + "\r")


def _check_date(text: str) -> str | None:
    """git accepts any text as a date (and reads nonsense as "now"): we accept only what
    means something."""
    if _RELATIVE_DATE.match(text.strip()):
        return text.strip()
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def run(args: argparse.Namespace) -> int:
    from ..shared import cache_path, project_settings

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    return _show(args, root, settings, cache_path(root, settings).parent)


def _show(args: argparse.Namespace, root: Path, settings: SsotConfig, cache_dir: Path) -> int:
    from ...history.timeline import DEFAULT_MAX_COMMITS, GitError, history

    max_commits = DEFAULT_MAX_COMMITS if args.max_commits is None else args.max_commits
    if max_commits < 1:
        return _error(f"--max-commits must be at least 1 (got {max_commits})")
    since = None
    if args.since is not None:
        since = _check_date(args.since)
        if since is None:
            return _error(f"--since: {args.since!r} is not a date (use ISO-8601 such as "
                          "2026-01-31, or 'N days ago')")
    if args.html:
        from ...report.html import MissingDependency, check_dependencies

        try:
            check_dependencies()
        except MissingDependency as exc:
            return _error(str(exc))
    from ...atomic import target_problem

    for option in ("json", "html"):
        target = getattr(args, option)
        problem = ("expected a file path, got an empty one" if target == "" else
                   target_problem(Path(target)) if target else None)
        if problem is not None:  # before reading the history, not a traceback after it
            return _error(f"--{option}: {problem}")
    try:
        found = history(settings, root, rev_range=args.rev_range, since=since,
                        max_commits=max_commits, cache_path=cache_dir / "history.cache",
                        progress=_progress if sys.stderr.isatty() else None)
    except (GitError, ConfigError) as exc:
        return _error(str(exc))
    if found.cache_note:
        print(f"pytest-ssot: note: {found.cache_note}", file=sys.stderr)
    for line in found.table_lines():
        print(line)
    sampled = (f"{len(found.points)} of {found.commits_in_range} commits"
               if len(found.points) < found.commits_in_range else f"{len(found.points)} commits")
    print(f"history: {sampled}, {found.blobs} file versions, {found.analysed} analysed "
          f"({found.parsed} parsed), {found.blobs - found.analysed} from cache, "
          f"{found.seconds:.2f} s")
    _remember(found, cache_dir)
    try:
        if args.json:
            from ...report import write_json

            write_json(Path(args.json), found.to_json())
            print(f"history json: {args.json}")
        if args.html:
            from ...report.html import history_page_data, write_page

            write_page(Path(args.html), history_page_data(settings, found,
                                                          _census(args, root, found)))
            print(f"history html: {args.html}")
    except OSError as exc:
        return _error(f"cannot write {exc.filename}: {exc.strerror}")
    return 0


def _remember(found: "History", cache_dir: Path) -> None:
    """Keep the series in pytest's cache: ``pytest --ssot-html`` draws it with the session's
    own result as the newest point."""
    from ...atomic import write_atomic

    doc = found.to_json()
    for i, (entry, point) in enumerate(zip(doc["commits"], found.points)):
        entry["subject"], entry["index"] = point.commit.subject, point.index
        entry["narrow"] = found.narrow(i)
    try:
        import json

        write_atomic(cache_dir / "history.json", json.dumps(doc).encode("utf-8"))
    except OSError:
        pass  # a read-only cache folder: the page then has no burndown
