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

__all__ = ["run"]


def run(args: argparse.Namespace, root: Path, settings: SsotConfig, sys_path: list[str],
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
