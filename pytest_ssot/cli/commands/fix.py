"""``pytest-ssot fix [--check] [--diff] [--jobs N] [PATHS]``: what the user sees.

Exit codes (SPEC 11): 0 done (listings are information, not failure); 1 with ``--check``
when a rewrite is due, or when a file could not be read, parsed or written (it is listed
as an error, the run goes on for the others); 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from ...domain.contracts import SsotConfig
from ...errors import ConfigError
from . import INTERRUPTED
from ..shared import jobs_option

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "fix"
SUMMARY = "rewrite references to legacy paths into the canonical path"
DESCRIPTION = """\
Rewrite references to legacy paths into the canonical path where the rewrite provably
keeps the program's meaning (imports, aliases, attribute chains, mock.patch strings;
calls of a factory with a declared replacement), keeping formatting and comments. A file
is replaced only when it is unchanged since it was read. What cannot be rewritten safely
is listed, untouched, with its reason."""
EPILOG = """\
exit codes:
  0 done: every due change written (or, with --check/--diff, none due)
  1 --check: a change is due; or a file could not be processed
  2 configuration or usage error
""" + INTERRUPTED


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATHS",
                   help="files or folders to fix (default: the configured paths)")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 when a change is due")
    p.add_argument("--diff", action="store_true",
                   help="print a unified diff of the changes (implies nothing is written)")
    p.add_argument("--explain", action="store_true",
                   help="print, per rewritten file, the facts each rewrite rests on")
    p.add_argument("--rootdir", metavar="DIR", help="the project root (default: found "
                                                    "from the working directory)")
    p.add_argument("--jobs", type=jobs_option, default=None, metavar="N",
                   help="worker processes (default: one per core; never more than the "
                        "cores or the files)")


def run(args: argparse.Namespace) -> int:
    from ...config.syspath import project_sys_path
    from ..shared import cache_path, project_settings

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    # The identity probes import the project as the test session would.
    return _fix(args, root, settings, project_sys_path(root), cache_path(root, settings))


def _fix(args: argparse.Namespace, root: Path, settings: SsotConfig, sys_path: list[str],
         cache_path: Path) -> int:
    from ...scan import scan
    from ...codemod.driver import FixError, effective_jobs, fix

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"pytest-ssot fix: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        result = scan(settings, root, cache_path=cache_path,
                      jobs=effective_jobs(args.jobs, 1 << 30))
        write = not (args.check or args.diff)
        outcome = fix(settings, root, only=[Path(p) for p in args.paths], write=write,
                      sys_path=sys_path, result=result, jobs=args.jobs)
    except ConfigError as exc:
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    except FixError as exc:
        print(f"pytest-ssot fix: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            print(f"pytest-ssot fix: too many open files ({exc.strerror}): run with a "
                  "smaller --jobs or raise the limit (ulimit -n)", file=sys.stderr)
            return 1
        raise
    if args.diff:
        sys.stdout.write(outcome.diff())
    if getattr(args, "explain", False):
        sys.stdout.write(outcome.explain())
    for u in outcome.unsafe:
        print(u.render())
    for e in outcome.errors:
        print(e.render(error=True))
    groups = outcome.groups()
    if groups:
        print("left as they are, by reason:")
        width = len(str(groups[0][0]))
        for n, reason in groups:
            print(f"  {n:>{width}} x {reason}")
    verb = "would rewrite" if not write else "rewrote"
    summary = [f"pytest-ssot fix: {verb} {outcome.rewritten} reference(s) in "
               f"{len(outcome.changed)} file(s)"]
    # Only the lists printed above are pointed at.
    if outcome.unsafe:
        summary.append(f"{len(outcome.unsafe)} left for a person (listed above)")
    if outcome.errors:
        summary.append(f"{len(outcome.errors)} file(s) not processed (errors above)")
    print("; ".join(summary))
    if outcome.errors:
        return 1
    if args.check and outcome.changed:
        return 1
    return 0
