"""The ratchet never switches itself off and never eats a file (issue 22, items 6, 9, 10;
SPEC 7 and 12): a baseline path that is a dangling link, unreadable, a folder or not a
baseline is an error naming it; `--ssot-update-baseline` writes only inside the rootdir
and only over a pytest-ssot baseline; entries of files that could not be read are kept;
a full disk is one line."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from pytest_ssot.cli import main
from test_faults import no_traceback_of_ours, project as _project

NEW = "from pkg.old import Canon  # a new one\n"
WARNS = {"pkg/old.py": "import warnings\nwarnings.warn('pkg.old is deprecated', "
                       "DeprecationWarning)\nfrom pkg.canon import Canon\n"}


def project(pytester: pytest.Pytester, settings: str = "") -> Path:
    """test_faults' project, its legacy module warning: green but for what is tested."""
    return _project(pytester, settings=settings, files=WARNS)


def _baselined(pytester: pytest.Pytester, **kw: str) -> Path:
    """A project whose baseline holds app_code.py's legacy import."""
    root = project(pytester, **kw)
    result = pytester.runpytest("--ssot-update-baseline")
    assert result.ret == 0, result.stdout.str()
    return root


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# ----------------------------------------------------------------- reading (item 6)


def test_a_dangling_baseline_link_is_an_error_not_no_limit(pytester: pytest.Pytester,
                                                           capsys, monkeypatch) -> None:
    root = project(pytester)
    (root / ".ssot-baseline.json").symlink_to("gone/baseline.json")
    (root / "more.py").write_text(NEW)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json is a symbolic link to "
                                 "gone/baseline.json, which does not exist*"])
    assert "no limit" not in result.stdout.str()
    monkeypatch.chdir(root)
    code, out, err = _scan(capsys)
    assert code == 2 and "which does not exist" in err and "no limit" not in out


def test_an_unreadable_baseline_is_a_permission_error_not_bad_json(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = _baselined(pytester)
    base = str(root / ".ssot-baseline.json")
    real = os.open

    def refuse(path, flags, *a, **kw):  # as any user but root would see a 0000 file
        if str(path) == base and not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", refuse)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json: the baseline file cannot be read: "
                                 "Permission denied*"])
    assert "JSON" not in result.stderr.str() and "rewrite it" not in result.stderr.str()
    monkeypatch.chdir(root)
    code, _out, err = _scan(capsys)
    assert code == 2 and "cannot be read: Permission denied" in err and "JSON" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-0000 file")
def test_an_unreadable_baseline_for_real(pytester: pytest.Pytester) -> None:
    root = _baselined(pytester)
    (root / ".ssot-baseline.json").chmod(0)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot be read: Permission denied*"])


# ----------------------------------------------------------------- writing (item 9)


def test_update_never_overwrites_a_file_that_is_not_a_baseline(pytester: pytest.Pytester,
                                                               capsys, monkeypatch) -> None:
    root = project(pytester, settings='baseline = "conftest.py"')
    conftest = "import os\n\nCONFTEST = 1\n"
    (root / "conftest.py").write_text(conftest)
    # reading it: not a baseline, and no advice to rewrite it
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*conftest.py: the baseline file is not valid JSON*point "
                                 "[[]tool.pytest-ssot[]] key 'baseline' at the baseline file*"])
    assert "rewrite it" not in result.stderr.str()
    for run in (lambda: pytester.runpytest("--ssot-update-baseline"),):
        result = run()
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        no_traceback_of_ours(result)
        result.stderr.fnmatch_lines(["*conftest.py exists and is not a pytest-ssot baseline:"
                                     " it is not overwritten*"])
    monkeypatch.chdir(root)
    code, _out, err = _scan(capsys, "--update-baseline")
    assert code == 2 and "not a pytest-ssot baseline: it is not overwritten" in err
    assert (root / "conftest.py").read_text() == conftest


def test_a_file_quoting_the_schema_is_not_a_baseline(pytester: pytest.Pytester) -> None:
    root = project(pytester, settings='baseline = "test_x.py"')
    text = 'SCHEMA = "pytest-ssot-baseline/2"\n'
    (root / "test_x.py").write_text(text)
    result = pytester.runpytest("--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x.py exists and is not a pytest-ssot baseline*"])
    assert (root / "test_x.py").read_text() == text


@pytest.mark.parametrize("how", ["relative", "link"])
def test_update_never_writes_outside_the_rootdir(pytester: pytest.Pytester, capsys,
                                                 monkeypatch, how: str) -> None:
    outside = pytester.path.parent / f"victim-{how}.txt"
    outside.write_text("precious\n")
    os.remove(outside)  # as a file that does not exist yet: not created either
    if how == "relative":
        root = project(pytester, settings=f'baseline = "../{outside.name}"')
    else:
        root = project(pytester)
        (root / ".ssot-baseline.json").symlink_to(outside)
    result = pytester.runpytest("--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*is outside the rootdir*the baseline is written only "
                                 "inside the project*"])
    monkeypatch.chdir(root)
    code, _out, err = _scan(capsys, "--update-baseline")
    assert code == 2 and "outside the rootdir" in err
    assert not outside.exists()
    assert not [p for p in outside.parent.iterdir() if p.name.endswith(".tmp")]
    outside.write_text("precious\n")
    code, _out, err = _scan(capsys, "--update-baseline")
    assert code == 2 and outside.read_text() == "precious\n"


def test_update_rewrites_a_broken_baseline_of_its_own(pytester: pytest.Pytester) -> None:
    """Merge-conflict markers or a half-written file are ours to repair."""
    root = _baselined(pytester)
    base = root / ".ssot-baseline.json"
    base.write_text("<<<<<<< HEAD\n" + base.read_text() + "=======\n>>>>>>> branch\n")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(["*not valid JSON*rewrite it with*"])
    assert pytester.runpytest("--ssot-update-baseline").ret == 0
    assert json.loads(base.read_text())["schema"] == "pytest-ssot-baseline/2"


# ----------------------------------------------------------------- unknown files (item 10)


def test_entries_of_files_that_cannot_be_parsed_are_kept(pytester: pytest.Pytester,
                                                         capsys, monkeypatch) -> None:
    root = _baselined(pytester)
    base = root / ".ssot-baseline.json"
    before = json.loads(base.read_text())["contracts"]["canon"]
    assert list(before) == ["app_code.py"]
    (root / "app_code.py").write_text("from pkg.old import Canon\n\ndef broken(:\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the scan error fails scan::parse
    assert "fixed" not in result.stdout.str() and "tighten" not in result.stdout.str()
    result = pytester.runpytest("--ssot-update-baseline")
    result.stdout.fnmatch_lines(["*0 entries added, 0 dropped*",
                                 "*1 entry of 1 file(s) that could not be read or parsed "
                                 "kept as they were*"])
    assert json.loads(base.read_text())["contracts"]["canon"] == before
    monkeypatch.chdir(root)
    code, out, _err = _scan(capsys, "--update-baseline")
    assert "0 dropped" in out and "(fixed)" not in out
    assert json.loads(base.read_text())["contracts"]["canon"] == before
    # readable again: the reference is still there, within the baseline
    (root / "app_code.py").write_text("from pkg.old import Canon\n")
    code, out, _err = _scan(capsys)
    assert code == 0 and "within the baseline" in out


def test_entries_of_unreadable_files_are_kept(pytester: pytest.Pytester, capsys,
                                              monkeypatch) -> None:
    root = _baselined(pytester)
    base = root / ".ssot-baseline.json"
    before = base.read_text()
    (root / "app_code.py").unlink()
    os.mkfifo(root / "app_code.py")  # a scan error (not a regular file), as EACCES is
    monkeypatch.chdir(root)
    code, out, _err = _scan(capsys)
    assert code == 1 and "fixed" not in out
    code, out, _err = _scan(capsys, "--update-baseline")
    assert "0 dropped" in out and base.read_text() == before


# ----------------------------------------------------------------- disk full (item 13)


def test_disk_full_while_writing_the_baseline_is_one_line(pytester: pytest.Pytester, capsys,
                                                         monkeypatch) -> None:
    root = _baselined(pytester)
    base = root / ".ssot-baseline.json"
    before = base.read_text()
    (root / "more.py").write_text(NEW)
    from pytest_ssot import atomic as _atomic

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(_atomic.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    result = pytester.runpytest("--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json could not be written (No space left "
                                 "on device); the old file is unchanged*"])
    monkeypatch.chdir(root)
    code, _out, err = _scan(capsys, "--update-baseline")
    assert code == 2 and "No space left on device" in err
    assert base.read_text() == before
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_update_never_replaces_a_baseline_this_user_may_not_write(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a folder the user may write, renaming over someone else's 0644 baseline would
    work and hand the file to the user: refused, named (found as user nobody)."""
    root = _baselined(pytester)
    base = root / ".ssot-baseline.json"
    before = base.read_text()
    (root / "more.py").write_text(NEW)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **kw: False if (
        str(p) == str(base) and mode == os.W_OK) else real(p, mode, *a, **kw))
    result = pytester.runpytest("--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    no_traceback_of_ours(result)
    result.stderr.fnmatch_lines(["*.ssot-baseline.json is not writable by this user (owner "
                                 "*, mode 0644); left untouched*"])
    assert base.read_text() == before


def test_an_unreadable_pyproject_stops_the_root_search(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Not "no pyproject.toml found": the loading then says it cannot be read."""
    from pytest_ssot.cli.shared import find_rootdir

    (tmp_path / "pyproject.toml").write_text("[tool.pytest-ssot]\n")
    (tmp_path / "sub").mkdir()
    real = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "pyproject.toml":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert find_rootdir(tmp_path / "sub") == tmp_path
