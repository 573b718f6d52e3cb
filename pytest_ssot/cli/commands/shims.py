"""``pytest-ssot shims [--check | --write] [--rootdir DIR]``: what the user sees of the shim
generator (``codemod/shims.py``, SPEC 13).

Exit codes: 0 nothing due (or written, or only listed without ``--check``); 1 ``--check``
found a shim missing or stale, or a write failed; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import INTERRUPTED

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "shims"
SUMMARY = "write warning PEP 562 shims for legacy modules with no code of their own"
DESCRIPTION = """\
Generate deprecation shims from the contracts: a legacy module with no code of its own
becomes a module __getattr__ serving the names it served, each with a DeprecationWarning
naming the canonical path and the deadline; a package re-export (pkg:Name) gets a lazy
entry merged into the package (an existing __getattr__ is extended). PEP 702
declarations make mypy and pyright flag the old imports. What cannot be changed safely
is listed, untouched."""
EPILOG = """\
exit codes:
  0 every shim is up to date (or was written)
  1 --check found a shim missing or stale, or a file could not be written
  2 configuration or usage error
""" + INTERRUPTED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a shim is missing or stale")
    parser.add_argument("--write", action="store_true",
                        help="write the shims and merge the lazy entries")
    parser.add_argument("--rootdir", metavar="DIR",
                        help="the project root (default: found as pytest finds it)")


def _rel(file: Path | None, root: Path) -> str:
    from ...domain.display import shown

    if file is None:
        return "?"
    try:
        return shown(str(file.relative_to(root)))
    except ValueError:
        return shown(str(file))


def run(args: argparse.Namespace) -> int:
    """0: nothing due (or written); 1: ``--check`` found a shim missing or stale, or a
    write failed; 2: the configuration."""
    from ..shared import project_settings

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    from ...codemod.shims import BEGIN, HEADER_PREFIX, apply, plan

    p = plan(settings, root)
    for c in p.skipped:
        print(f"left alone: {c.path}: {c.reason}")
    due = p.due
    if not due:
        print("shims: up to date" + (f" ({len(p.skipped)} path(s) left alone)"
                                     if p.skipped else ""))
        return 0
    for c in due:
        ours = c.old is not None and (c.old.startswith(HEADER_PREFIX.encode())
                                      or BEGIN.encode() in c.old)
        state = "stale" if ours else "missing"
        verb = "writes" if getattr(args, "write", False) else "would write"
        what = ("type declarations" if c.file is not None and c.file.suffix == ".pyi" else
                "stub twin" if c.file is not None and c.file.name.startswith("_ssot_deprecated")
                else "shim")
        print(f"{verb} {_rel(c.file, root)}: {what} for {c.path} ({state})")
    if not getattr(args, "write", False):
        if getattr(args, "check", False):
            print(f"{len(due)} shim(s) missing or stale; run `pytest-ssot shims --write`")
            return 1
        print("run again with --write to write them (--check: exit 1 when any is due)")
        return 0
    failed = apply(p)
    for c, why in failed:
        print(f"not written: {c.path}: {why}", file=sys.stderr)
    return 1 if failed else 0
