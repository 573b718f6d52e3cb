"""The commands of ``pytest-ssot``: one module each, named in ``REGISTRY``.

A command module declares ``NAME``, ``SUMMARY`` (its line in ``pytest-ssot --help``),
``DESCRIPTION`` and ``EPILOG`` (its own ``--help``), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). ``cli`` builds the parser from the registry and
imports a command's module only when that command runs or a listing of every command is
asked for (``scan`` is run often: it does not compile the others). Adding a command: a
module here, one line in ``REGISTRY``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["INTERRUPTED", "REGISTRY", "load"]

# The exit codes' last line, in every command's --help.
INTERRUPTED = "  130 interrupted (Ctrl-C; 128 + the signal's number for SIGTERM, SIGHUP)"

# name -> module, in the order ``pytest-ssot --help`` lists them
REGISTRY: dict[str, str] = {
    "scan": "pytest_ssot.cli.commands.scan",
    "fix": "pytest_ssot.cli.commands.fix",
    "discover": "pytest_ssot.cli.commands.discover",
    "shims": "pytest_ssot.cli.commands.shims",
    "history": "pytest_ssot.cli.commands.history",
    "census": "pytest_ssot.cli.commands.census",
}


def load(name: str) -> ModuleType:
    """The module of the command ``name`` (a ``KeyError`` for an unknown one)."""
    return importlib.import_module(REGISTRY[name])
