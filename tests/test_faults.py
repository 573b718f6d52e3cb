"""The fault suite: every way we know to make pytest-ssot pass wrongly, hang, traceback or
lose data, run as a user would (SPEC 12; the README's "What happens when things go wrong").

One small project per case. Each case asserts the exit code, that no traceback into
pytest-ssot reached the user, that the message names what to fix, and that nothing passed
silently.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from typing import Callable
from pathlib import Path

import pytest

from helpers import device_node, fork_anyway, write_tree
from isolation_corpus import CONFTEST as ISOLATION_CONFTEST
from isolation_corpus import CORRECT as ISOLATION_APP

CONTRACT = """
[tool.pytest-ssot]
{settings}

[[tool.pytest-ssot.contracts]]
name = "canon"
canonical = "pkg.canon:Canon"
legacy = ["pkg.old"]
{extra}
"""

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/canon.py": "class Canon:\n    pass\n",
    "pkg/old.py": "from pkg.canon import Canon\n",
    "app_code.py": "from pkg.old import Canon\n",
}


def project(pytester: pytest.Pytester, settings: str = "", extra: str = "",
            files: dict[str, str] | None = None) -> Path:
    """A project with one contract (its legacy path still referenced), importable."""
    pytester.makepyprojecttoml(CONTRACT.format(settings=settings, extra=extra)
                               + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {**PACKAGE, **(files or {})})
    return pytester.path


def no_traceback_of_ours(result: pytest.RunResult) -> None:
    text = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback (most recent call last)" not in text, text
    assert "INTERNALERROR" not in text, text
    assert "pytest_ssot/" not in text.replace("\\", "/"), text


# --------------------------------------------------------------------------- golden path

GOLDEN_TESTS = """
from pytest_ssot import golden_path

@golden_path
def test_login():
    pass

def test_other():
    pass
"""


def _gate(pytester: pytest.Pytester, *args: str, subprocess: bool = False
          ) -> tuple[pytest.RunResult, dict]:
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    result = run("--golden-path", "--golden-path-report", "gate.json", "-p", "no:randomly",
                 *args)
    no_traceback_of_ours(result)
    return result, json.loads((pytester.path / "gate.json").read_text())


def _gate_project(pytester: pytest.Pytester, tests: str, isolation: bool = False) -> None:
    project(pytester)
    if isolation:  # a subprocess run only: the spec registry is global to a process
        pytester.makeconftest(ISOLATION_CONFTEST)
        write_tree(pytester.path, {"app.py": ISOLATION_APP})
    pytester.makepyfile(test_flow=tests)


@pytest.mark.parametrize("mode", [[], ["-p", "no:xdist", "-x"],
                                  ["-m", "not slow", "-k", "not nothing"]])
def test_gate_with_no_golden_test_fails(pytester: pytest.Pytester, mode: list[str]) -> None:
    """Contract items are generated: none of them is golden (SPEC 9)."""
    _gate_project(pytester, "def test_plain():\n    pass\n")
    result, report = _gate(pytester, *mode)
    assert result.ret == 1, result.stdout.str()
    assert report["verdict"] == "fail" and report["tests"] == []
    assert report["reasons"][0].startswith("no golden-path test ran")
    result.stdout.fnmatch_lines(["*GOLDEN PATH: FAIL*", "*mark the release-critical tests*"])


def test_gate_counts_only_marked_tests_under_xdist(pytester: pytest.Pytester) -> None:
    """Contracts and an isolation spec, two workers: one golden test, min_tests = 2."""
    _gate_project(pytester, GOLDEN_TESTS, isolation=True)
    pytester.makepyprojecttoml(
        (pytester.path / "pyproject.toml").read_text()
        + "\n[tool.pytest-ssot.golden-path]\nmin_tests = 2\n")
    result, report = _gate(pytester, "-n", "2", subprocess=True)
    assert result.ret == 1
    assert [t["nodeid"] for t in report["tests"]] == ["test_flow.py::test_login"]
    assert "1 golden-path test(s) collected, fewer than min_tests = 2" in report["reasons"]


def test_gate_passes_with_its_golden_test_only(pytester: pytest.Pytester) -> None:
    _gate_project(pytester, GOLDEN_TESTS)
    result, report = _gate(pytester)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)
    assert result.stdout.lines[-1].strip("= ").startswith("GOLDEN PATH: PASS (1 test(s)")


def test_gate_after_a_failure_with_x_sw_and_lf(pytester: pytest.Pytester) -> None:
    """``-x`` leaves golden tests unrun; ``--sw`` deselects those that passed; ``--lf``
    never even collects them, so the gate refuses it before the run."""
    _gate_project(pytester, GOLDEN_TESTS + "\n@golden_path\ndef test_flaky():\n"
                  "    import os\n    assert os.path.exists('ok')\n\n"
                  "@golden_path\ndef test_last():\n    pass\n")
    result, report = _gate(pytester, "--sw")  # stops at the first failure, like -x
    assert result.ret != 0
    assert "test_flow.py::test_last: not run" in report["reasons"], report
    (pytester.path / "ok").write_text("")
    result, report = _gate(pytester, "--sw")
    assert result.ret == 1
    assert any("test_login: deselected" in r for r in report["reasons"]), report
    result = pytester.runpytest("--golden-path", "--lf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--golden-path runs every @golden_path test; --lf*"])


# --------------------------------------------------------------------------- writes


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_write_atomic_keeps_a_symlink_and_updates_its_target(tmp_path: Path) -> None:
    from pytest_ssot.atomic import write_atomic

    real = tmp_path / "reports" / "real.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "reports" / "later.json")
    write_atomic(dangling, b"x")
    assert dangling.is_symlink() and (tmp_path / "reports" / "later.json").read_bytes() == b"x"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["later.json",
                                                                        "real.json"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_atomic_new_files_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    from pytest_ssot.atomic import write_atomic

    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "new.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == mode


def test_write_atomic_keeps_an_existing_files_mode(tmp_path: Path, umask_022: None) -> None:
    from pytest_ssot.atomic import write_atomic

    path = tmp_path / "baseline.json"
    path.write_text("{}")
    for mode in (0o644, 0o640, 0o755):
        path.chmod(mode)
        write_atomic(path, b"[]")
        assert stat.S_IMODE(path.stat().st_mode) == mode


def test_write_atomic_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    from pytest_ssot.atomic import NotWritableTarget, target_problem, write_atomic

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    link = tmp_path / "to-fifo.json"
    link.symlink_to(fifo)
    device = device_node(tmp_path)
    for path, kind in ((fifo, "a FIFO"), (link, "a FIFO"), (tmp_path, "a folder"),
                       (device, "a device")):
        with pytest.raises(NotWritableTarget):
            write_atomic(path, b"x")
        assert kind in (target_problem(path) or ""), path
    assert stat.S_ISFIFO(fifo.stat().st_mode) and device.is_char_device()
    assert "cannot create files in /proc" in (target_problem(Path("/proc/x")) or "")
    assert target_problem(tmp_path / "new" / "report.json") is None
    assert list(tmp_path.iterdir()) != [] and not any(
        p.name.endswith(".tmp") for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("option", ["--ssot-report", "--golden-path-report"])
@pytest.mark.parametrize("target", ["/proc/x", "fifo.json", "adir", "device"])
def test_unwritable_report_path_is_a_usage_error_before_the_run(
        pytester: pytest.Pytester, option: str, target: str) -> None:
    project(pytester)
    os.mkfifo(pytester.path / "fifo.json")
    (pytester.path / "adir").mkdir()
    if target == "device":
        target = str(device_node(pytester.path))
    pytester.makepyfile(test_x="def test_x():\n    raise AssertionError('must not run')\n")
    result = pytester.runpytest(f"{option}={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    assert f"{option}: " in result.stderr.str()
    assert "must not run" not in result.stdout.str()


def test_report_through_a_symlink_keeps_the_link(pytester: pytest.Pytester,
                                                 umask_022: None) -> None:
    project(pytester)
    (pytester.path / "out").mkdir()
    (pytester.path / "report.json").symlink_to(pytester.path / "out" / "report.json")
    result = pytester.runpytest("--ssot-report=report.json")
    assert result.ret == 1  # the legacy module still resolves, silently
    assert (pytester.path / "report.json").is_symlink()
    doc = json.loads((pytester.path / "out" / "report.json").read_text())
    assert doc["schema"] == "pytest-ssot/1"
    assert stat.S_IMODE((pytester.path / "out" / "report.json").stat().st_mode) == 0o644


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_baseline_that_is_not_a_file_is_a_usage_error(pytester: pytest.Pytester,
                                                      kind: str) -> None:
    """Read as "no baseline, no limit" it would be a silent pass."""
    project(pytester)
    base = pytester.path / ".ssot-baseline.json"
    base.mkdir() if kind == "folder" else os.mkfifo(base)
    for args in ((), ("--ssot-update-baseline",)):
        result = pytester.runpytest(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, args
        no_traceback_of_ours(result)
        result.stderr.fnmatch_lines([f"*key 'baseline': *.ssot-baseline.json is a "
                                     f"{'folder' if kind == 'folder' else 'FIFO'}, not a "
                                     "regular file*"])


def test_scan_cli_refuses_an_unwritable_json_path(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.run(sys.executable, "-m", "pytest_ssot.cli", "scan", "--json", "/proc/x")
    assert result.ret == 2
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["pytest-ssot scan: --json: cannot create files in /proc*"])


# --------------------------------------------------------------------------- special files


def _special_files(root: Path) -> None:
    os.mkfifo(root / "pkg" / "fifo.py")
    (root / "pkg" / "zero.py").symlink_to("/dev/zero")
    from pytest_ssot.scan.files import MAX_FILE_BYTES

    line = b"from pkg.old import Canon\n"
    (root / "pkg" / "huge.py").write_bytes(line * (MAX_FILE_BYTES // len(line) + 1))


def test_special_and_huge_files_are_scan_errors_not_hangs(pytester: pytest.Pytester) -> None:
    project(pytester)
    _special_files(pytester.path)
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=120)
    assert result.ret == 1
    no_traceback_of_ours(result)
    out = result.stdout.str()
    assert "pkg/fifo.py: cannot be read: not a regular file (a FIFO): only regular files " \
           "are scanned" in out
    assert "pkg/zero.py: cannot be read: not a regular file (a device)" in out
    assert "pkg/huge.py: cannot be read: larger than the scan's size limit of 4096 KiB" in out
    cli = pytester.run(sys.executable, "-m", "pytest_ssot.cli", "scan", "--jobs", "2",
                       timeout=120)
    assert cli.ret == 1
    no_traceback_of_ours(cli)
    assert "pkg/fifo.py" in cli.stdout.str() + cli.stderr.str()


def test_read_source_never_reads_past_the_limit(tmp_path: Path) -> None:
    from pytest_ssot.scan.files import read_source

    path = tmp_path / "m.py"
    path.write_bytes(b"x" * 100)
    assert read_source(str(path), limit=100) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(OSError, match=r"size limit of 0 KiB \(101 bytes\)"):
        read_source(str(path), limit=99)
    with pytest.raises(OSError, match=r"\(a device\)"):
        read_source("/dev/zero")
    with pytest.raises(FileNotFoundError):
        read_source(str(tmp_path / "gone.py"))

def test_read_source_goes_on_after_a_short_read(tmp_path: Path, monkeypatch) -> None:
    """A read may return fewer bytes than asked before the end (a network file system, a
    signal): the file is read whole all the same, not cut there silently."""
    import pytest_ssot.scan.files as files

    path = tmp_path / "m.py"
    path.write_bytes(b"import chat.ws.manager\n" * 50)
    real_read = os.read
    monkeypatch.setattr(files.os, "read", lambda fd, n: real_read(fd, min(n, 7)))
    assert files.read_source(str(path)) == path.read_bytes()


# --------------------------------------------------------------------------- nonsense config

CANONICAL_CONTRACT = '''
[[tool.pytest-ssot.contracts]]
name = "other"
canonical = "pkg.other:Other"
legacy = [{legacy}]
'''

CONFIG_MISTAKES = {
    "probe_timeout nan": ("probe_timeout = nan", "", "key 'probe_timeout': expected a finite"),
    "probe_timeout inf": ("probe_timeout = inf", "", "key 'probe_timeout': expected a finite"),
    "probe_timeout 0": ("probe_timeout = 0", "", "key 'probe_timeout': expected a number > 0"),
    "probe_timeout < 0": ("probe_timeout = -1", "", "key 'probe_timeout': expected a number >"),
    "max_import_ms nan": ("", "max_import_ms = nan", "key 'max_import_ms': expected a finite"),
    "max_import_ms -inf": ("", "max_import_ms = -inf", "key 'max_import_ms': expected a fin"),
    "paths empty": ("paths = []", "", "key 'paths': expected at least one folder or file"),
    "legacy = canonical's module": ("", 'factories = ["pkg.canon"]',
                                    "key 'factories': 'pkg.canon' contains the canonical"),
    "legacy = canonical's package": ("", "",
                                     "key 'legacy': 'pkg' contains the canonical path"),
    "another contract's canonical": ("", CANONICAL_CONTRACT.format(legacy='"pkg.canon:Canon"'),
                                     "[contract 'other'] key 'legacy': 'pkg.canon:Canon' is "
                                     "or contains the canonical path 'pkg.canon:Canon' of "
                                     "contract 'canon'"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_MISTAKES))
def test_nonsense_configuration_is_a_usage_error(pytester: pytest.Pytester, case: str) -> None:
    settings, extra, message = CONFIG_MISTAKES[case]
    project(pytester, settings=settings, extra=extra)
    if case == "legacy = canonical's package":
        text = (pytester.path / "pyproject.toml").read_text()
        pytester.makepyprojecttoml(text.replace('legacy = ["pkg.old"]', 'legacy = ["pkg"]'))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    no_traceback_of_ours(result)
    assert "pyproject.toml: [tool.pytest-ssot" in result.stderr.str()
    assert message in result.stderr.str(), result.stderr.str()


@pytest.mark.parametrize("count", ["true", "-1", "1.5", '"2"'])
def test_nonsense_baseline_counts_are_a_usage_error(pytester: pytest.Pytester,
                                                    count: str) -> None:
    project(pytester)
    (pytester.path / ".ssot-baseline.json").write_text(
        '{"schema": "pytest-ssot-baseline/1", "contracts": {"canon": {"app_code.py": %s}}}'
        % count)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json: not a pytest-ssot baseline*"])


def test_a_scan_that_reads_no_file_fails(pytester: pytest.Pytester) -> None:
    """``exclude = ["*"]`` would otherwise pass --ssot-strict with compliance 1.000."""
    project(pytester, settings='exclude = ["*"]')
    result = pytester.runpytest("--ssot-strict", "-k", "scan or references")
    assert result.ret == 1
    no_traceback_of_ours(result)
    result.stdout.fnmatch_lines(["*the static scan read no Python file*",
                                 "*fix: point [[]tool.pytest-ssot[]] key 'paths'*"])
    cli = pytester.run(sys.executable, "-m", "pytest_ssot.cli", "scan")
    assert cli.ret == 1
    cli.stderr.fnmatch_lines(["pytest-ssot scan: the scan read no Python file*"])


# --------------------------------------------------------------------------- scan odds


def _scan(root: Path, **kw):
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan

    return scan(load_config(root, with_entry_points=False), root,
                cache_path=root / ".cache" / "scan.cache", **kw)


def test_unlisted_folder_contributes_no_cached_violation(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Root can list a chmod 000 folder, so the failure is injected where listing happens."""
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, "sub/user.py": "from pkg.old import Canon\n"})
    assert {v.file for v in _scan(tmp_path).violations} == {"app_code.py", "sub/user.py"}
    import pytest_ssot.scan.walk as walk

    real = walk.listing

    def listing(dirpath: str, dir_rel: str, *args):
        if dir_rel == "sub":
            raise PermissionError(13, "Permission denied")
        return real(dirpath, dir_rel, *args)

    monkeypatch.setattr(walk, "listing", listing)
    os.utime(tmp_path / "sub", ns=(1, 1))  # changed since: the stored listing is stale
    warm = _scan(tmp_path)
    assert {v.file for v in warm.violations} == {"app_code.py"}
    assert {"file": "sub", "message": "cannot be listed: Permission denied"} in warm.errors


def test_a_scan_worker_that_dies_costs_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed worker's share is walked again in the parent: same answer, no traceback."""
    fork_anyway(monkeypatch)
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/m.py": "import pkg.old\n" for i in range(6)}})
    import pytest_ssot.scan.walk as walk

    parent, real = os.getpid(), walk.Job.run

    def run(self, units, tick=None):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, units, tick)

    monkeypatch.setattr(walk.Job, "run", run)
    result = _scan(tmp_path, jobs=3)
    assert len(result.violations) == 7 and result.errors == []


def test_a_scan_worker_that_dies_midway_has_its_units_walked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers take units from a shared queue: one killed after taking some still costs
    nothing, the parent walks again what no survivor reported."""
    fork_anyway(monkeypatch)
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/e{j}/m.py": "import pkg.old\n"
                                        for i in range(6) for j in range(4)}})
    import pytest_ssot.scan.walk as walk

    parent, real = os.getpid(), walk.Job.files
    seen = [0]

    def files(self, *args, **kwargs):
        seen[0] += 1
        if os.getpid() != parent and seen[0] == 3:  # a worker, after two folders
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(walk.Job, "files", files)
    import pytest_ssot.parallel as parallel

    monkeypatch.setattr(parallel, "_feed", _slow_feed(parallel._feed))
    result = _scan(tmp_path, jobs=2)
    assert len(result.violations) == 25 and result.errors == []


def _slow_feed(feed):  # type: ignore[no-untyped-def]
    """The queue handed out slowly enough that the worker takes units before the parent
    has taken them all."""
    def slow(fd: int, count: int) -> None:
        import time

        try:
            for i in range(count):
                os.write(fd, __import__("array").array("I", [i]).tobytes())
                time.sleep(0.01)
        finally:
            os.close(fd)
    return slow


def test_non_utf8_file_names_in_json_and_sarif(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / os.fsdecode(b"caf\xe9 #1.py")).write_bytes(b"import pkg.old\n")
    result = pytester.runpytest("--ssot-report=r.sarif", "-k", "references")
    no_traceback_of_ours(result)
    sarif = json.loads((pytester.path / "r.sarif").read_bytes().decode("utf-8"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {"app_code.py", "caf%E9%20%231.py"}
    pytester.runpytest("--ssot-report=r.json", "-k", "references")
    doc = json.loads((pytester.path / "r.json").read_bytes().decode("utf-8"))  # strict UTF-8
    assert {v["file"] for v in doc["violations"]} == {"app_code.py", "caf\\xe9 #1.py"}


# --------------------------------------------------------------------------- probes

ODD_MODULES = {
    "pkg/lazy.py": "def __getattr__(name):\n    raise ImportError(f'{name} was removed')\n",
    "pkg/lazyrt.py": "def __getattr__(name):\n    raise RuntimeError(f'{name} exploded')\n",
    "pkg/killer.py": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "pkg/grpkiller.py": "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
}


def test_odd_legacy_modules_get_their_own_verdicts(pytester: pytest.Pytester) -> None:
    """SPEC 3: ImportError from ``__getattr__`` -> absent, anything else -> broken; a
    module that kills the probe server (or its whole process group) is broken alone."""
    legacy = ["pkg.old", "pkg.lazy", "pkg.lazy:Canon", "pkg.lazyrt:Canon", "pkg.killer",
              "pkg.grpkiller"]
    project(pytester, files=ODD_MODULES)
    text = (pytester.path / "pyproject.toml").read_text()
    pytester.makepyprojecttoml(text.replace('legacy = ["pkg.old"]',
                                            f"legacy = {json.dumps(legacy)}"))
    result = pytester.runpytest("--ssot-report=r.json", "-p", "no:randomly")
    no_traceback_of_ours(result)
    doc = json.loads((pytester.path / "r.json").read_text())
    (contract,) = doc["contracts"]
    assert contract["canonical"]["verdict"] == "resolves"
    got = {v["path"]: v["verdict"] for v in contract["legacy"]}
    assert got == {"pkg.old": "resolves", "pkg.lazy": "resolves", "pkg.lazy:Canon": "absent",
                   "pkg.lazyrt:Canon": "broken", "pkg.killer": "broken",
                   "pkg.grpkiller": "broken"}
    errors = {v["path"]: v["error"] for v in contract["legacy"]}
    assert errors["pkg.killer"].startswith("the import killed the probe server")
    assert errors["pkg.lazyrt:Canon"] == "RuntimeError: Canon exploded"
    # passed: canonical, pkg.lazy:Canon, aliases, references, scan; the rest failed
    result.assert_outcomes(passed=5, failed=5)


# --------------------------------------------------------------------------- interrupts


def _processes_with(token: bytes) -> list[int]:
    """Live processes whose environment holds ``token`` (ours inherit it; zombies have
    an empty environment and do not count)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if token in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _none_left(token: bytes, seconds: float = 30) -> list[int]:
    """Our processes still alive after ``seconds`` (the probe server notices its parent's
    death within ~0.2 s on an idle machine; a loaded CI machine is given far longer)."""
    deadline = time.monotonic() + seconds
    while True:
        left = _processes_with(token)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


# Wall-clock limits of these tests are for a hang, not a speed: they hold on a busy 2-core
# CI machine (load 4 and more). A run is waited for until it exits (its output goes to
# files, so a child that keeps a pipe open cannot hold the test), within a generous limit.
_GENEROUS = 180.0


def _wait_until(ready: Callable[[], bool], proc: subprocess.Popen,
                seconds: float = _GENEROUS) -> None:
    deadline = time.monotonic() + seconds
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


HANG = "open('started', 'w').close()\nimport time\ntime.sleep(100)\n"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", ["SIGINT to the group", "SIGINT", "SIGTERM"])
def test_interrupt_while_probing_stops_and_leaves_nothing(pytester: pytest.Pytester,
                                                         how: str) -> None:
    """Ctrl-C (SIGINT to the terminal's process group, or to pytest alone) ends the run
    with pytest's usual interrupted ending well before ``probe_timeout``; SIGTERM ends it
    too; no probe server or probe child survives either."""
    project(pytester, settings="probe_timeout = 100", files={"pkg/hang.py": HANG})
    text = (pytester.path / "pyproject.toml").read_text()
    pytester.makepyprojecttoml(text.replace('legacy = ["pkg.old"]',
                                            'legacy = ["pkg.old", "pkg.hang"]'))
    token = f"SSOT_FAULT_TOKEN={os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "SSOT_FAULT_TOKEN": token.partition("=")[2]}
    # pytest as a terminal starts it: Ctrl-C raises KeyboardInterrupt. Whoever runs this
    # suite may ignore SIGINT (a shell's `cmd &` without job control does, and children
    # inherit that), and the run under test would then ignore Ctrl-C as it was asked to.
    main = ("import signal, sys, pytest; "
            "signal.signal(signal.SIGINT, signal.default_int_handler); "
            "sys.exit(pytest.console_main())")
    log = pytester.path.parent / f"{pytester.path.name}.out"
    with open(log, "wb") as output:
        proc = subprocess.Popen([sys.executable, "-c", main, "-p", "no:randomly",
                                 "-p", "no:cacheprovider"], cwd=pytester.path, env=env,
                                stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        _wait_until((pytester.path / "started").exists, proc)
        assert proc.poll() is None, log.read_text()
        if how == "SIGINT to the group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM if how == "SIGTERM" else signal.SIGINT)
        # probe_timeout is 100 s: an exit before it is the interrupt's doing
        proc.wait(timeout=90)
        out = log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if how == "SIGTERM":
        assert proc.returncode == -signal.SIGTERM
    else:
        assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
        assert "KeyboardInterrupt" in out and "Traceback (most recent call last)" not in out
    assert _none_left(token.encode()) == []


def _live_children() -> list[int]:
    me, found = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_interrupt_during_a_parallel_scan_kills_its_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/m.py": "import pkg.old\n" for i in range(6)}})
    import pytest_ssot.scan.walk as walk

    parent = os.getpid()

    def run(self, units, tick=None):
        if os.getpid() != parent:
            time.sleep(100)  # a worker still busy when Ctrl-C arrives
        raise KeyboardInterrupt

    monkeypatch.setattr(walk.Job, "run", run)
    fork_anyway(monkeypatch)
    before = set(_live_children())
    with pytest.raises(KeyboardInterrupt):
        _scan(tmp_path, jobs=3)
    assert set(_live_children()) - before == set()


# --------------------------------------------------------------------------- cache, baseline


@pytest.mark.parametrize("damage", ["garbage", "half-written", "fifo", "stamp fifo"])
def test_a_damaged_scan_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    """A cache is only ever a speed-up: whatever is in its place, the answer is the same."""
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, PACKAGE)
    cold = _scan(tmp_path)
    cache = tmp_path / ".cache" / "scan.cache"
    if damage == "garbage":
        cache.write_bytes(b"\x00not marshal at all" * 10)
    elif damage == "half-written":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    elif damage == "fifo":
        cache.unlink()
        os.mkfifo(cache)
    else:
        stamp = cache.with_name("scan.stamp")
        stamp.unlink(missing_ok=True)
        os.mkfifo(stamp)
    warm = _scan(tmp_path)
    assert (warm.violations, warm.errors, warm.canonical) == (
        cold.violations, cold.errors, cold.canonical)


def test_concurrent_scans_share_a_cache(pytester: pytest.Pytester) -> None:
    """Two cold scans race to write one cache; a third reads it: same answer, whole files."""
    project(pytester, files={f"d{i}/m{j}.py": "import pkg.old\n" if j == 0 else "X = 1\n"
                             for i in range(20) for j in range(5)})
    cmd = [sys.executable, "-m", "pytest_ssot.cli", "scan", "--strict"]  # no baseline: no limit
    runs = [subprocess.Popen(cmd, cwd=pytester.path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE) for _ in range(2)]
    outs = [(*p.communicate(timeout=120), p.returncode) for p in runs]
    warm = subprocess.run(cmd, cwd=pytester.path, capture_output=True, timeout=120)
    outs.append((warm.stdout, warm.stderr, warm.returncode))
    found = [{ln for ln in out.decode().splitlines() if ": [canon] " in ln}
             for out, _err, _code in outs]
    assert len(found[0]) == 21 and found[1] == found[0] == found[2]
    assert all(code == 1 and b"Traceback" not in err for _out, err, code in outs), outs
    assert not [p for p in (pytester.path / ".pytest_cache").rglob("*.tmp")]


def test_a_half_written_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / ".ssot-baseline.json").write_text('{"schema": "pytest-ssot-basel')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json: the baseline file is not valid JSON*"
                                 "rewrite it with*"])


def test_an_xdist_worker_dying_is_a_failure_not_a_crash(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(test_die="import os\n\ndef test_dies():\n    os._exit(1)\n\n"
                                 "def test_fine():\n    pass\n")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly", "--ssot-report=r.json")
    assert result.ret == 1
    no_traceback_of_ours(result)
    result.stdout.fnmatch_lines(["*test_die.py::test_dies*"])
    assert json.loads((pytester.path / "r.json").read_text())["schema"] == "pytest-ssot/1"


# --------------------------------------------------------------------------- the command's end


def _console(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
             failure: BaseException) -> tuple[int, str]:
    """``pytest-ssot`` (``cli.console``) when its work ends with ``failure``: the exit
    code it leaves with, and what it wrote to stderr."""
    import pytest_ssot.cli as cli

    def main() -> int:
        raise failure

    class Left(Exception):
        pass

    def leave(code: int) -> None:
        raise Left(code)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(os, "_exit", leave)
    with pytest.raises(Left) as left:
        cli.console()
    return left.value.args[0], capsys.readouterr().err


def test_ctrl_c_ends_the_command_with_one_line(monkeypatch, capsys) -> None:
    """SPEC 12: Ctrl-C is not a traceback into pytest-ssot; the shell's code for it."""
    code, err = _console(monkeypatch, capsys, KeyboardInterrupt())
    assert (code, err) == (130, "pytest-ssot: interrupted\n")


def test_ctrl_c_while_fix_writes_says_how_far_it_got(monkeypatch, capsys) -> None:
    from pytest_ssot.codemod.driver import Interrupted

    code, err = _console(monkeypatch, capsys, Interrupted(29, 192))
    assert code == 130
    assert err == ("pytest-ssot: interrupted after rewriting 29 of 192 file(s); each file "
                   "holds its old text or its new one: run `pytest-ssot fix` again to "
                   "finish\n")


def test_a_reader_that_goes_away_is_not_a_traceback(monkeypatch, capsys) -> None:
    code, err = _console(monkeypatch, capsys, BrokenPipeError(32, "Broken pipe"))
    assert (code, err) == (1, "")


def test_scan_writes_its_reports_before_its_listing(tmp_path: Path) -> None:
    """``pytest-ssot scan --json r.json | true``: the listing cannot be written, the report
    is written all the same (before it), and no traceback."""
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, "app/m.py": "import pkg.old\n"})
    r, w = os.pipe()
    os.close(r)  # nobody reads the output
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", "--json",
                               "r.json", "--sarif", "r.sarif"], cwd=tmp_path, stdout=w,
                              stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(w)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    assert proc.returncode == 1
    assert json.loads((tmp_path / "r.json").read_text())["violations"][0]["file"] == "app/m.py"
    assert json.loads((tmp_path / "r.sarif").read_text())["runs"]


def test_a_full_disk_names_the_report_it_could_not_write(tmp_path: Path, monkeypatch,
                                                         capsys) -> None:
    import errno

    import pytest_ssot.report as report
    from pytest_ssot.cli import main

    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, PACKAGE)

    def full(path, doc) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")  # no file name, as ENOSPC is

    monkeypatch.setattr(report, "write_json", full)
    assert main(["scan", "--rootdir", str(tmp_path), "--json", "r.json"]) == 1
    assert capsys.readouterr().err == ("pytest-ssot: cannot write --json r.json: No space "
                                       "left on device\n")


def test_the_command_finds_the_project_past_a_subproject_that_merely_names_us(
        tmp_path: Path, monkeypatch, capsys) -> None:
    """A monorepo's subproject lists ``pytest-ssot`` as a dependency: its pyproject.toml has
    no ``[tool.pytest-ssot]`` table, so the command goes on up to the one that has."""
    from pytest_ssot.cli import main

    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, "app/m.py": "import pkg.old\n"})
    sub = tmp_path / "app"
    (sub / "pyproject.toml").write_text('[project]\nname = "app"\n'
                                        'optional-dependencies = {test = ["pytest-ssot>=0.1"]}\n')
    monkeypatch.chdir(sub)
    assert main(["scan", "--strict"]) == 1
    out, err = capsys.readouterr()
    assert "app/m.py:1: [canon] pkg.old" in out, out + err


_SLOW_WORKERS = """
import os, sys, time
import pytest_ssot.scan as scan_module
import pytest_ssot.scan.walk as walk
import pytest_ssot.parallel as parallel
parent = os.getpid()
real_run = walk.Job.run
def run(self, units, tick=None):
    if os.getpid() != parent:
        open("worker-started", "w").close()
        time.sleep(100)  # busy when the signal comes
    return real_run(self, units, tick)
walk.Job.run = run
parallel.can_fork = lambda: True
scan_module._PARALLEL_MIN_FILES = 0
os.cpu_count = lambda: 4
from pytest_ssot.cli import console
sys.argv = ["pytest-ssot", "scan", "--jobs", "3"]
console()
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_the_command_stopped_by_a_signal_takes_its_workers_along(tmp_path: Path,
                                                                 sig: str) -> None:
    """A CI timeout (SIGTERM) or a closed terminal (SIGHUP) while the scan's workers walk:
    the command ends at once with one line, and no worker of it is left running."""
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/m.py": "import pkg.old\n" for i in range(6)}})
    token = f"SSOT_FAULT_TOKEN={os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "SSOT_FAULT_TOKEN": token.partition("=")[2]}
    out_path = tmp_path.parent / f"{tmp_path.name}.out"
    err_path = tmp_path.parent / f"{tmp_path.name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _SLOW_WORKERS], cwd=tmp_path, env=env,
                                stdout=out, stderr=err, start_new_session=True)
    try:
        _wait_until((tmp_path / "worker-started").exists, proc)
        assert proc.poll() is None, (out_path.read_text(), err_path.read_text())
        os.kill(proc.pid, getattr(signal, sig))
        # the workers sleep 100 s: an exit before that is the signal's doing
        proc.wait(timeout=90)
        # the command kills and reaps its workers before it exits: none is left
        left = _processes_with(token.encode())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in _processes_with(token.encode()):
            os.kill(pid, signal.SIGKILL)
    assert left == []
    assert proc.returncode == 128 + getattr(signal, sig)
    assert err_path.read_text() == f"pytest-ssot: interrupted by {sig}\n"


_SIGNAL_AT_FORK = _SLOW_WORKERS.replace("from pytest_ssot.cli import console", """
import signal
real_fork = os.fork
forks = [0]
def fork():
    pid = real_fork()
    if pid:
        forks[0] += 1
        if forks[0] == 2:  # the stop comes as the second worker starts: nothing held yet
            os.kill(os.getpid(), signal.SIGTERM)
    return pid
os.fork = fork
from pytest_ssot.cli import console""")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_signal_right_after_a_fork_leaves_no_worker(tmp_path: Path) -> None:
    """A stop signal that lands between a worker's fork and the parent's note of it (a
    window of a few bytecodes, hit now and then under load) is held back until the worker
    is known: the command still kills it on its way out."""
    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/m.py": "import pkg.old\n" for i in range(6)}})
    token = f"SSOT_FAULT_TOKEN={os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "SSOT_FAULT_TOKEN": token.partition("=")[2]}
    err_path = tmp_path.parent / f"{tmp_path.name}.err"
    with open(err_path, "wb") as err:  # a file: a leaked worker holding a pipe holds no test
        proc = subprocess.Popen([sys.executable, "-c", _SIGNAL_AT_FORK], cwd=tmp_path,
                                env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        proc.wait(timeout=90)  # the workers sleep 100 s
        left = _processes_with(token.encode())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in _processes_with(token.encode()):
            os.kill(pid, signal.SIGKILL)
    assert left == []
    assert proc.returncode == 128 + signal.SIGTERM, err_path.read_text()
    assert err_path.read_text() == "pytest-ssot: interrupted by SIGTERM\n"


def _fork_fails(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> None:
    """``os.fork`` works ``after`` times, then fails as when the user's process limit is
    reached (EAGAIN)."""
    import errno

    real_fork = os.fork
    calls = [0]

    def fork() -> int:
        calls[0] += 1
        if calls[0] > after:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)


@pytest.mark.parametrize("after", [0, 1])
def test_a_scan_that_cannot_fork_walks_with_fewer_workers(tmp_path: Path, monkeypatch,
                                                          after: int) -> None:
    """No process left for a worker (ulimit -u): the same answer, not a traceback."""
    import pytest_ssot.scan as scan_module

    (tmp_path / "pyproject.toml").write_text(CONTRACT.format(settings="", extra=""))
    write_tree(tmp_path, {**PACKAGE, **{f"d{i}/m.py": "import pkg.old\n" for i in range(6)}})
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan

    settings = load_config(tmp_path, with_entry_points=False)
    alone = scan(settings, tmp_path, jobs=1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(scan_module, "_PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    _fork_fails(monkeypatch, after)
    shared = scan(settings, tmp_path, jobs=3)  # cold, as the first
    assert (shared.violations, shared.errors) == (alone.violations, alone.errors)
    assert sum(v.file.endswith("/m.py") for v in shared.violations) == 6
