"""``pytest-ssot``: the console entry, its parser built from the command registry
(``commands.REGISTRY``: the static scan, the codemod, onboarding, shims, the migration
over time, the runtime census; one module each).

The rootdir is found as pytest finds a configuration file: the nearest directory, from the
working directory upwards, whose ``pyproject.toml`` holds a ``[tool.pytest-ssot]`` table
(or ``--rootdir``). The scan cache lives where pytest keeps it (``.pytest_cache``, or the
``cache_dir`` ini option), so CI that restores pytest's cache restores ours.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import FAILED, SsotError


class OutputFailed(OSError, SsotError):
    """Standard output or error could not be written (``> /dev/full``, a dead terminal)."""

    exit_code = FAILED


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


_DESCRIPTION = """\
Single source of truth checks for import consolidation, without pytest. Given the
contracts in the [tool.pytest-ssot] table of pyproject.toml (a canonical import path per
object, its legacy paths and factories), these commands find every reference to a legacy
path in the code (scan), rewrite the references that provably mean the same (fix), find
the import paths of an object to write a first contract (discover), and show the
migration over git history (history). The pytest plugin (pytest --ssot-strict,
--ssot-report) runs the same scan beside the runtime checks."""

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
    """The parser of every command in ``commands.REGISTRY``. A run of one command imports
    that command's module only; ``--help`` at the top, no command or an unknown one
    import them all (the listing names each with its summary)."""
    from .commands import REGISTRY, load

    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="pytest-ssot", description=_DESCRIPTION, formatter_class=raw,
        epilog="exit codes: see each command's --help (0 success, 1 a failed check, "
               "2 a configuration or usage error)")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    words = sys.argv[1:] if argv is None else argv
    # (an option before the command is the top level's own: --help may list them all)
    only = words[0] if words and words[0] in REGISTRY else None
    for name in REGISTRY:
        if only is not None and name != only:
            sub.add_parser(name)  # never shown: the run is another command's
            continue
        command = load(name)
        command.add_arguments(sub.add_parser(
            name, help=command.SUMMARY, description=command.DESCRIPTION,
            epilog=command.EPILOG, formatter_class=raw))
    return parser


def main(argv: list[str] | None = None) -> int:
    from .commands import load

    args = _parser(argv).parse_args(argv)
    return load(args.command).run(args)
