"""``pytest-ssot``: the static scan without pytest (``scan``), the codemod (``fix``), and
onboarding (``discover``, in ``discover.py``), the migration over time (``history``).

The rootdir is found as pytest finds a configuration file: the nearest directory, from the
working directory upwards, whose ``pyproject.toml`` holds a ``[tool.pytest-ssot]`` table
(or ``--rootdir``). The scan cache lives where pytest keeps it (``.pytest_cache``, or the
``cache_dir`` ini option), so CI that restores pytest's cache restores ours.
"""

from __future__ import annotations

import argparse
import sys

from .shared import cache_path, ini_options, jobs_option, project_settings


def _scan(args: argparse.Namespace) -> int:
    from .commands.scan import run

    return run(args)


class OutputFailed(OSError):
    """Standard output or error could not be written (``> /dev/full``, a dead terminal)."""


class _Guarded:
    """A standard stream whose write errors are ``OutputFailed``: one line at the end,
    not a traceback from wherever a ``print`` happened to be. (A reader going away stays
    ``BrokenPipeError``, handled as ``| head``.)"""

    def __init__(self, stream: object, name: str) -> None:
        self._stream = stream
        self._name = name

    def _guard(self, call: object, *args: object) -> object:
        try:
            return call(*args)  # type: ignore[operator]
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:  # ValueError: written after a close
            raise OutputFailed(getattr(exc, "errno", None) or 0,
                               f"cannot write to {self._name}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)  # type: ignore[attr-defined,return-value]

    def flush(self) -> None:
        self._guard(self._stream.flush)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _standard_streams() -> None:
    """Standard input, output or error closed (``>&-``): /dev/null in their place before
    any file is opened - else the first file opened (a report's temporary file) would get
    descriptor 1 and the listing would be written into it."""
    import os

    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:  # closed when Python started
            setattr(sys, name, open(fd, "w", encoding="utf-8", errors="backslashreplace",
                                    closefd=False))
        setattr(sys, name, _Guarded(getattr(sys, name), f"standard {name[3:]}put"
                                    if name == "stdout" else "standard error"))


def _say(message: str) -> None:
    """One line on stderr, if stderr can take it."""
    try:
        print(message, file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class Stopped(KeyboardInterrupt):
    """The command was sent SIGTERM or SIGHUP: it ends as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        import signal

        return f"by {signal.Signals(self.signum).name}"


def console() -> None:
    """The ``pytest-ssot`` command: ``main``, then out without tearing the interpreter
    down. A scan leaves tens of MB of cached results in memory, and freeing them object by
    object took ~10 ms of a warm scan of 64,000 files; every file was written and closed
    already, and the output is flushed here. (``main`` itself returns, for callers in a
    process of their own.)"""
    import os
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    # A CI timeout (SIGTERM) or a closed terminal (SIGHUP) ends the command as Ctrl-C
    # does: the way out stops its workers (a default death left them running, holding
    # the output's pipe open).
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
    _standard_streams()
    try:
        os.getcwd()
    except OSError as exc:  # every path we are given or find is relative to it
        _say(f"pytest-ssot: the working directory cannot be used ({exc.strerror}): it was "
             "removed or is not readable; cd into the project and run again")
        os._exit(2)
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors and --help
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt as exc:  # SPEC 12: one line, not a traceback
        # (workers and probe servers are stopped where they were started, on the way here)
        detail = str(exc)
        print("pytest-ssot: interrupted" + (f" {detail}" if detail else ""), file=sys.stderr)
        code = 128 + (exc.signum if isinstance(exc, Stopped) else signal.SIGINT)
    except BrokenPipeError:  # the reader went away (`pytest-ssot scan | head`)
        # Nothing more can be said on stdout; what is still buffered goes nowhere.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass  # a stdout that is no file: nothing is flushed to it at the end either
        code = 1
    except OutputFailed as exc:
        _say(f"pytest-ssot: {exc.strerror}")
        code = 1
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        _say(f"pytest-ssot: {getattr(exc, 'strerror', None) or exc}")
        code = code or 1  # the output could not be written: not a success
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 1
    os._exit(code)


_INTERRUPTED = "  130 interrupted (Ctrl-C; 128 + the signal's number for SIGTERM, SIGHUP)"

_DESCRIPTION = """\
Single source of truth checks for import consolidation, without pytest. Given the
contracts in the [tool.pytest-ssot] table of pyproject.toml (a canonical import path per
object, its legacy paths and factories), these commands find every reference to a legacy
path in the code (scan), rewrite the references that provably mean the same (fix), find
the import paths of an object to write a first contract (discover), and show the
migration over git history (history). The pytest plugin (pytest --ssot-strict,
--ssot-report) runs the same scan beside the runtime checks."""

_HELP = {
    "scan": ("the static reference scan alone, held against the baseline", """\
Scan the configured paths for references to legacy and factory paths (imports,
attribute chains, mock.patch strings, calls of deprecated factories, second definitions)
and hold them against the baseline (.ssot-baseline.json): a violation the baseline does
not hold fails, one it holds is listed as such. --update-baseline writes the current
violations as the new baseline and prints what was added and dropped.""", """\
exit codes:
  0 no violation beyond the baseline (with --strict: no violation at all)
  1 new violations (--strict: any), files that could not be scanned, or no file read
  2 configuration or usage error
""" + _INTERRUPTED),
    "fix": ("rewrite references to legacy paths into the canonical path", """\
Rewrite references to legacy paths into the canonical path where the rewrite provably
keeps the program's meaning (imports, aliases, attribute chains, mock.patch strings;
calls of a factory with a declared replacement), keeping formatting and comments. A file
is replaced only when it is unchanged since it was read. What cannot be rewritten safely
is listed, untouched, with its reason.""", """\
exit codes:
  0 done: every due change written (or, with --check/--diff, none due)
  1 --check: a change is due; or a file could not be processed
  2 configuration or usage error
""" + _INTERRUPTED),
    "discover": ("list every import path of an object and print (or --write) a contract",
                 """\
Onboarding: import every module of the object's top-level package, each in a fresh
interpreter, and list the paths that serve the very object (re-exports, renamed
aliases, shims, lazy __getattr__), the modules left out (they import it for their own
use), second implementations of the same name, and their static references; then print
a ready [[tool.pytest-ssot.contracts]] table (--write adds it to pyproject.toml, keeping
its comments and layout).""", """\
exit codes:
  0 the table was printed (and, with --write, added)
  2 bad argument, the object does not resolve, configuration error, or --write refused
""" + _INTERRUPTED),
    "census": ("merge runtime census files: hits per legacy path and caller", """\
Merge census files written by pytest_ssot.census.install() in services (several
services, several days) and print the runtime hits per legacy path and caller, with
when each caller was last seen. pytest --ssot-census=FILE and scan --census FILE use the
same files: a legacy path with runtime hits is not removable.""", """\
exit codes:
  0 every file was merged
  1 a file was skipped (truncated, damaged, from another project or a newer version:
    its evidence is missing, never counted as zero hits)
  2 a file does not exist, or a usage error
""" + _INTERRUPTED),
    "shims": ("write warning PEP 562 shims for legacy modules with no code of their own",
              """\
Generate deprecation shims from the contracts: a legacy module with no code of its own
becomes a module __getattr__ serving the names it served, each with a DeprecationWarning
naming the canonical path and the deadline; a package re-export (pkg:Name) gets a lazy
entry merged into the package (an existing __getattr__ is extended). PEP 702
declarations make mypy and pyright flag the old imports. What cannot be changed safely
is listed, untouched.""", """\
exit codes:
  0 every shim is up to date (or was written)
  1 --check found a shim missing or stale, or a file could not be written
  2 configuration or usage error
""" + _INTERRUPTED),
    "history": ("the migration over time: violations and compliance of each commit", """\
The scan of each commit of a range (default: the first-parent history of HEAD, sampled
evenly to at most 50 commits), read from git's objects without a checkout: date,
violations per contract and area, canonical references, compliance. A file content is
analysed once whatever the number of commits that hold it. --json and --html write the
same as data and as a dashboard with a burndown chart.""", """\
exit codes:
  0 the history was shown (and written)
  2 not a git repository, a bad range or date, configuration or usage error
""" + _INTERRUPTED),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-ssot")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``: the distribution's version, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"pytest-ssot {_version()}")
        parser.exit()


def _parser(argv: list[str] | None) -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="pytest-ssot", description=_DESCRIPTION, formatter_class=raw,
        epilog="exit codes: see each command's --help (0 success, 1 a failed check, "
               "2 a configuration or usage error)")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str) -> argparse.ArgumentParser:
        short, description, codes = _HELP[name]
        return sub.add_parser(name, help=short, description=description, epilog=codes,
                              formatter_class=raw)

    p_scan = command("scan")
    from .commands.scan import add_arguments

    add_arguments(p_scan)
    p_fix = command("fix")
    p_fix.add_argument("paths", nargs="*", metavar="PATHS",
                       help="files or folders to fix (default: the configured paths)")
    p_fix.add_argument("--check", action="store_true",
                       help="change nothing; exit 1 when a change is due")
    p_fix.add_argument("--diff", action="store_true",
                       help="print a unified diff of the changes (implies nothing is written)")
    p_fix.add_argument("--explain", action="store_true",
                       help="print, per rewritten file, the facts each rewrite rests on")
    p_fix.add_argument("--rootdir", metavar="DIR", help="the project root (default: found "
                                                        "from the working directory)")
    p_fix.add_argument("--jobs", type=jobs_option, default=None, metavar="N",
                       help="worker processes (default: one per core; never more than the "
                            "cores or the files)")
    p_discover = command("discover")
    p_shims = command("shims")
    from .commands.shims import add_arguments as shims_arguments

    shims_arguments(p_shims)
    p_history = command("history")
    p_census = command("census")
    from .commands.census import add_arguments as census_arguments  # stdlib only: cheap

    census_arguments(p_census)
    # A command's own options are added only when it runs (or help is asked for): its
    # module is not imported by a run of another command (``scan`` is run often).
    words = sys.argv[1:] if argv is None else argv
    wanted = next((w for w in words if not w.startswith("-")), None)
    if wanted == "discover" or wanted not in ("scan", "fix", "history", "shims"):
        from ..services.discover import add_arguments as discover_arguments

        discover_arguments(p_discover)
    if wanted == "history" or wanted not in ("scan", "fix", "discover", "shims"):
        from .commands.history import add_arguments as history_arguments

        history_arguments(p_history)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser(argv)
    args = parser.parse_args(argv)
    if args.command == "scan":
        return _scan(args)
    if args.command == "discover":
        from ..services.discover import run as discover

        return discover(args)
    if args.command == "history":
        return _history(args)
    if args.command == "census":
        from .commands.census import run as census

        return census(args)
    if args.command == "shims":
        from .commands.shims import run as shims

        return shims(args)
    return _fix(args)


def _history(args: argparse.Namespace) -> int:
    from .commands.history import run

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    return run(args, root, settings, cache_path(root, settings).parent)


def _fix(args: argparse.Namespace) -> int:
    from .commands.fix import run

    got = project_settings(args)
    if isinstance(got, int):
        return got
    root, settings = got
    # The identity probes import the project as the test session would.
    extra = [str((root / p).resolve()) for p in ini_options(root).get("pythonpath", [])]
    base = str(root / "src") if (root / "src").is_dir() else str(root)
    return run(args, root, settings, [*extra, base, *sys.path], cache_path(root, settings))

