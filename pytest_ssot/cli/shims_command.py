"""``pytest-ssot shims``: its command-line part until it moves to ``cli/commands/shims.py``
(another stream moves it; the registry entry then points there and these names go with
it). The work itself is ``codemod.shims``."""

from __future__ import annotations

import argparse

from .commands import INTERRUPTED

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
    from ..codemod.shims import add_arguments as shims_arguments

    shims_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from .shared import project_settings
    from ..codemod.shims import run as shims

    got = project_settings(args)
    return got if isinstance(got, int) else shims(args, *got)
