"""The second fault catalogue's hang, tracebacks and confusions (issue 22, items 12-14;
SPEC 12): special files named by the environment, closed or full standard streams, a
removed working directory, a NUL or invalid UTF-8 in the configuration, file names with
newlines, probed modules that kill their process group or leave children behind. Each
case: one clear line (or the usual answer), never a hang, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_faults import no_traceback_of_ours, project as _project

WARNS = {"pkg/old.py": "import warnings\nwarnings.warn('pkg.old is deprecated', "
                       "DeprecationWarning)\nfrom pkg.canon import Canon\n"}
CLI = [sys.executable, "-m", "pytest_ssot.cli"]


def project(pytester: pytest.Pytester, settings: str = "",
            files: dict[str, str] | None = None) -> Path:
    return _project(pytester, settings=settings, files={**WARNS, **(files or {})})


def cli(root: Path, *args: str, env: dict | None = None, shell: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    """``pytest-ssot ARGS`` in ``root``; ``shell``: a ``sh -c`` line ending in "$@"."""
    cmd = ["sh", "-c", shell, "sh", *CLI, *args] if shell else [*CLI, *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def clean(proc: subprocess.CompletedProcess) -> str:
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text
    return text


# ----------------------------------------------------------------- item 12: the hang


def test_step_summary_that_is_a_fifo_is_one_line_never_a_hang(
        pytester: pytest.Pytester) -> None:
    root = project(pytester)
    os.mkfifo(root / "summary")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(root / "summary")}
    proc = cli(root, "scan", env=env)  # timeout: a hang fails the test
    out = clean(proc)
    assert proc.returncode == 0, out
    assert "cannot append to GITHUB_STEP_SUMMARY" in proc.stderr
    assert "it is a FIFO; give a regular file" in proc.stderr
    old = os.environ.copy()
    os.environ.update(env)
    try:
        result = pytester.runpytest_subprocess(timeout=120)
    finally:
        os.environ.clear()
        os.environ.update(old)
    no_traceback_of_ours(result)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*pytest-ssot: cannot append to GITHUB_STEP_SUMMARY*"])


@pytest.mark.parametrize("kind", ["folder", "device"])
def test_step_summary_that_is_not_a_regular_file(pytester: pytest.Pytester,
                                                 kind: str) -> None:
    root = project(pytester)
    target = str(root) if kind == "folder" else "/dev/null"
    proc = cli(root, "scan", env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": target})
    clean(proc)
    assert proc.returncode == 0
    assert f"it is a {kind}; give a regular file" in proc.stderr


# ----------------------------------------------------------------- item 13: tracebacks


def test_paths_outside_the_rootdir_is_one_usage_error_under_pytest(
        pytester: pytest.Pytester) -> None:
    project(pytester, settings='paths = ["/"]')
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["ERROR: pytest-ssot: *key 'paths': '/' is outside the "
                                 "rootdir"])
    assert "UsageError" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("key", ["paths", "baseline"])
def test_a_nul_in_a_path_is_a_configuration_error(pytester: pytest.Pytester,
                                                  key: str) -> None:
    value = '["a\\u0000b"]' if key == "paths" else '"a\\u0000b.json"'
    root = project(pytester, settings=f"{key} = {value}")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines([f"*key '{key}': *holds a NUL character*"])
    proc = cli(root, "scan")
    assert proc.returncode == 2 and "holds a NUL character" in clean(proc)


def test_a_pyproject_that_is_not_utf8_is_one_line(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    py = root / "pyproject.toml"
    py.write_bytes(py.read_bytes() + b"# caf\xe9\n")
    for args in (("scan",), ("fix", "--check"), ("history",)):  # root search, then load
        proc = cli(root, *args)
        assert proc.returncode == 2, args
        assert "pyproject.toml: not valid TOML: not UTF-8 (byte 0xe9" in clean(proc)


def test_standard_output_closed(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    proc = cli(root, "scan", "--json", "r.json", shell='"$@" >&-')
    assert proc.returncode == 0, clean(proc)
    assert json.loads((root / "r.json").read_text())["schema"] == "pytest-ssot/1"


def test_both_standard_streams_closed_still_write_the_report(
        pytester: pytest.Pytester) -> None:
    root = project(pytester)
    (root / "more.py").write_text("import pkg.old\n")
    proc = cli(root, "scan", "--json", "r.json", shell='"$@" >&- 2>&-')
    assert proc.returncode == 0
    doc = json.loads((root / "r.json").read_text())
    assert len(doc["violations"]) == 2
    proc = cli(root, "fix", "--check", shell='"$@" >&- 2>&-')
    assert proc.returncode == 1  # a rewrite is due: the answer, with nothing to say it on


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", [("scan",), ("fix", "--check"),
                                     ("discover", "pkg.canon:Canon")])
def test_standard_output_full_is_one_line(pytester: pytest.Pytester,
                                          command: tuple[str, ...]) -> None:
    root = project(pytester)
    proc = cli(root, *command, "--json" if command == ("scan",) else "", "r.json"
               if command == ("scan",) else "", shell='"$@" >/dev/full') \
        if command == ("scan",) else cli(root, *command, shell='"$@" >/dev/full')
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "pytest-ssot: cannot write to standard output: No space left on device")
    if command == ("scan",):
        assert json.loads((root / "r.json").read_text())["schema"] == "pytest-ssot/1"


@pytest.mark.parametrize("command", ["scan", "fix", "history", "discover pkg.canon:Canon",
                                     "scan --rootdir ."])
def test_the_working_directory_removed(pytester: pytest.Pytester, command: str) -> None:
    root = project(pytester)
    proc = cli(root, *command.split(),
               shell='mkdir gone && cd gone && rmdir ../gone && exec "$@"')
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "pytest-ssot: the working directory cannot be used (No such file or directory): it "
        "was removed or is not readable; cd into the project and run again")


# ----------------------------------------------------------------- item 14: confusions

NASTY = "evil\n::error file=x.py,line=1::injected\r.py"


def test_file_names_with_newlines_are_escaped_everywhere(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    (root / NASTY).write_text("import pkg.old\n")
    (root / ".ssot-baseline.json").write_text('{"schema": "pytest-ssot-baseline/2", '
                                              '"contracts": {"canon": {}}}')
    shown = "evil\\n::error file=x.py,line=1::injected\\r.py"
    for env in ({"GITHUB_ACTIONS": "true"}, {}):
        for args in (("scan", "--format", "text"), ("scan",), ("fix", "--diff"),
                     ("scan", "--update-baseline")):
            proc = cli(root, *args, env=env)
            out = clean(proc)
            lines = out.splitlines()
            assert not [ln for ln in lines if ln.startswith("::error file=x.py")], (args, out)
            assert not [ln for ln in lines if "injected\r" in ln], (args, out)
            assert shown in out or "evil%0A" in out, (args, out)
        (root / ".ssot-baseline.json").write_text('{"schema": "pytest-ssot-baseline/2", '
                                                  '"contracts": {"canon": {}}}')
    result = pytester.runpytest_subprocess("-v")
    text = result.stdout.str()
    assert not [ln for ln in text.splitlines() if ln.startswith("::error")], text
    assert shown in text


def test_an_empty_report_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    for option in ("--ssot-report=", "--ssot-html=", "--golden-path-report="):
        result = pytester.runpytest(option)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, option
        result.stderr.fnmatch_lines([f"*{option[:-1]}: expected a file path, got an "
                                     "empty one*"])
    for args in (("scan", "--json="), ("scan", "--sarif="), ("history", "--json=")):
        proc = cli(root, *args)
        assert proc.returncode == 2, args
        assert "expected a file path, got an empty one" in clean(proc)


KILLER = "import os, signal\nos.killpg(os.getpgrp(), signal.SIGKILL)\n"
FORKER = """
import os, sys, time
if os.fork() == 0:
    with open({pidfile!r}, "a") as fh:
        fh.write(str(os.getpid()) + "\\n")
    time.sleep(60)
    os._exit(0)
from pkg.canon import Canon
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: reaped by init soon
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except OSError:
        return True


def test_discover_survives_a_module_that_kills_its_group_and_leaves_no_child(
        pytester: pytest.Pytester) -> None:
    pidfile = pytester.path / "pids"
    root = project(pytester, files={"pkg/killer.py": KILLER,
                                    "pkg/forker.py": FORKER.format(pidfile=str(pidfile))})
    proc = cli(root, "discover", "pkg.canon:Canon", timeout=120)
    out = clean(proc)
    assert proc.returncode == 0, out
    assert "pkg.killer: its import killed the discovery probe (killed by signal SIGKILL)" \
        in out
    assert "pkg.old:Canon" in out and "pkg.forker:Canon" in out  # the others still found
    pids = [int(p) for p in pidfile.read_text().split()]
    assert pids
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)], "a child of a probed module outlived discover"


@pytest.mark.parametrize("line", ['cache_dir = "a\\u0000b"', 'pythonpath = [".", "x\\u0000"]'])
def test_a_nul_in_pytests_paths_is_one_line_for_the_commands(pytester: pytest.Pytester,
                                                             line: str) -> None:
    root = project(pytester)
    py = root / "pyproject.toml"
    py.write_text(py.read_text().replace('pythonpath = ["."]', line))
    for args in (("scan",), ("fix", "--check")):
        proc = cli(root, *args)
        assert proc.returncode == 2, args
        assert "[tool.pytest.ini_options] key" in clean(proc)
        assert "holds a NUL character" in proc.stderr


def test_a_pyproject_that_is_not_utf8_under_pytest(pytester: pytest.Pytester) -> None:
    """pytest reads (and chokes on) pyproject.toml unless given its ini file with ``-c``;
    ours then says it."""
    root = project(pytester)
    py = root / "pyproject.toml"
    py.write_bytes(py.read_bytes().replace(b'pythonpath = ["."]', b"") + b"# caf\xe9\n")
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    result = pytester.runpytest_subprocess("-c", "pytest.ini")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*pyproject.toml: not valid TOML: not UTF-8 (byte 0xe9*"])


def test_a_cache_folder_that_cannot_be_made_runs_the_scan_without_a_cache(
        pytester: pytest.Pytester) -> None:
    """pytest's cache folder cannot be created (a read-only checkout, another user's
    project; here a file where the folder should be): the scan runs cold and its items
    give their answers, never a PermissionError/FileExistsError as a failed item."""
    project(pytester)
    (pytester.path / "cachefile").write_text("not a folder\n")
    result = pytester.runpytest_subprocess("-o", "cache_dir=cachefile", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    no_traceback_of_ours(result)
    assert "Error: [Errno" not in result.stdout.str()
