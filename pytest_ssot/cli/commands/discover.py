"""``pytest-ssot discover MODULE:NAME``: arguments, the project's import path, the report
and ``--write``. The work is ``services.discover``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import INTERRUPTED

__all__ = ["NAME", "SUMMARY", "DESCRIPTION", "EPILOG", "add_arguments", "run"]

NAME = "discover"
SUMMARY = "list every import path of an object and print (or --write) a contract"
DESCRIPTION = """\
Onboarding: import every module of the object's top-level package, each in a fresh
interpreter, and list the paths that serve the very object (re-exports, renamed
aliases, shims, lazy __getattr__), the modules left out (they import it for their own
use), second implementations of the same name, and their static references; then print
a ready [[tool.pytest-ssot.contracts]] table (--write adds it to pyproject.toml, keeping
its comments and layout)."""
EPILOG = """\
exit codes:
  0 the table was printed (and, with --write, added)
  2 bad argument, the object does not resolve, configuration error, or --write refused
""" + INTERRUPTED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("canonical", metavar="MODULE:NAME",
                        help="the canonical path of the class or function")
    parser.add_argument("--write", action="store_true",
                        help="add the contract to pyproject.toml (comments and layout kept)")
    parser.add_argument("--name", metavar="NAME",
                        help="the contract's name (default: from NAME, e.g. "
                             "WebSocketManager -> web-socket-manager)")
    parser.add_argument("--rootdir", metavar="DIR",
                        help="the project root (default: the nearest folder upwards with a "
                             "pyproject.toml, else the working directory)")


def _rootdir(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    cwd = Path.cwd().resolve()
    return next((d for d in (cwd, *cwd.parents) if (d / "pyproject.toml").is_file()), cwd)


def run(args: argparse.Namespace) -> int:
    """``pytest-ssot discover``: 0 on success, 2 on a usage or configuration error."""
    from ...config import contract_from_mapping, load_config
    from ...config.syspath import project_sys_path
    from ...errors import ConfigError
    from ...domain.paths import PathSyntaxError, parse_path
    from ...services.discover import (DiscoverError, contract_name, discover, render_report,
                                      render_table, table_mapping, write_contract)

    try:
        canonical = parse_path(args.canonical)
    except PathSyntaxError as exc:
        print(f"pytest-ssot discover: {exc}", file=sys.stderr)
        return 2
    root = _rootdir(args.rootdir)
    if not root.is_dir():
        print(f"pytest-ssot discover: --rootdir {root}: no such folder", file=sys.stderr)
        return 2
    name = args.name or contract_name(canonical)
    try:
        settings = load_config(root, with_entry_points=False)
        contract_from_mapping({"name": name, "canonical": str(canonical)}, "--name", "discover")
        found = discover(canonical, root, sys_path=project_sys_path(root, lenient=True), settings=settings)
        table = render_table(found, name)
        contract_from_mapping(table_mapping(table), "discover", "contract")  # always valid
    except (ConfigError, DiscoverError) as exc:
        print(f"pytest-ssot discover: {exc}", file=sys.stderr)
        return 2
    for line in render_report(found):
        print(line)
    print("")
    if not args.write:
        print("# paste into pyproject.toml (or run again with --write):")
    print(table, end="")
    if args.write:
        try:
            write_contract(root / "pyproject.toml", table)
        except DiscoverError as exc:
            print(f"pytest-ssot discover: {exc}", file=sys.stderr)
            return 2
        print(f"\nadded contract '{name}' to {root / 'pyproject.toml'}")
    return 0
