"""Nothing lost when pytest-ssot replaces a user's file (issue 22, items 8 and 11; SPEC 12):
`fix` and `discover --write` write compare-and-swap - a file changed since it was read is
left untouched and listed - and keep owner, group, mode and hard links, or list the file,
untouched, with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ssot import atomic as _atomic
from pytest_ssot.atomic import ChangedSinceRead, WouldNotKeep, write_atomic
from pytest_ssot.cli import main
from test_codemod import PROJECT
from helpers import write_tree

LEGACY = "from chat.ws.manager import WebSocketManager\n"
FIXED = "from chat.ws.websocket_manager import WebSocketManager\n"

root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="needs root (chown to another user)")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, PROJECT)
    for name in ("a.py", "b.py"):
        (tmp_path / "chat" / "app" / name).write_text(LEGACY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def run_fix(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["fix", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


# ----------------------------------------------------------------- the write layer


def test_compare_and_swap_refuses_a_file_changed_since_read(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    with pytest.raises(ChangedSinceRead):
        write_atomic(f, b"new\n", expect=b"olD\n")  # same size: content, not size/mtime
    assert f.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temporary file left
    write_atomic(f, b"new\n", expect=b"old\n")
    assert f.read_bytes() == b"new\n"


def test_compare_and_swap_checks_after_the_new_text_is_ready(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit landing between the first look and the rename is still seen."""
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    real = _atomic._create_temp

    def edit_meanwhile(folder: Path, name: str) -> tuple[int, str]:
        with open(f, "ab") as fh:
            fh.write(b"# added by someone\n")
        return real(folder, name)

    monkeypatch.setattr(_atomic, "_create_temp", edit_meanwhile)
    with pytest.raises(ChangedSinceRead):
        write_atomic(f, b"new\n", expect=b"old\n")
    assert f.read_bytes() == b"old\n# added by someone\n"


def test_compare_and_swap_refuses_a_file_replaced_or_removed(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    with pytest.raises(ChangedSinceRead):
        write_atomic(tmp_path / "gone.py", b"new\n", expect=b"old\n")
    assert not (tmp_path / "gone.py").exists()


def test_a_hard_linked_file_is_not_split(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    os.link(f, tmp_path / "other.py")
    with pytest.raises(WouldNotKeep, match="hard-linked"):
        write_atomic(f, b"new\n", expect=b"old\n")
    assert os.stat(f).st_ino == os.stat(tmp_path / "other.py").st_ino
    assert f.read_bytes() == b"old\n"


@root_only
def test_root_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_bytes(b"old\n")
    os.chown(f, 65534, 65534)
    os.chmod(f, 0o750)
    write_atomic(f, b"new\n", expect=b"old\n")
    st = os.stat(f)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65534, 65534, 0o750)
    assert f.read_bytes() == b"new\n"


# ----------------------------------------------------------------- fix


def test_fix_leaves_a_file_its_own_import_changed(project: Path, capsys) -> None:
    """Deterministic: the legacy module, imported by fix for its identity proof, appends a
    line to a file fix has already read. That line is kept; the file is listed."""
    a = project / "chat" / "app" / "a.py"
    manager = project / "chat" / "ws" / "manager.py"
    manager.write_text(manager.read_text() + f"\nwith open({str(a)!r}, 'a') as _f:\n"
                       "    _f.write('# appended during the import\\n')\n")
    code, out = run_fix(capsys)
    assert code == 1, out
    assert "# appended during the import" in a.read_text()
    assert a.read_text().startswith(LEGACY)  # not rewritten over the new line
    assert "chat/app/a.py:1: error: changed while fixing; run again" in out
    assert "no rewrite applies" not in out
    assert (project / "chat" / "app" / "b.py").read_text() == FIXED


def test_fix_lists_a_hard_linked_file_untouched(project: Path, capsys) -> None:
    a = project / "chat" / "app" / "a.py"
    os.link(a, project / "a_copy.py")
    code, out = run_fix(capsys)
    assert code == 1, out
    assert a.read_text() == LEGACY and os.stat(a).st_nlink == 2
    assert "chat/app/a.py:1: error: not writable: hard-linked (2 links)" in out
    assert "no rewrite applies" not in out
    assert (project / "chat" / "app" / "b.py").read_text() == FIXED


@root_only
def test_fix_as_root_keeps_owner_group_and_mode(project: Path, capsys) -> None:
    a = project / "chat" / "app" / "a.py"
    os.chown(a, 65534, 65534)
    os.chmod(a, 0o750)
    code, out = run_fix(capsys)
    assert code == 0, out
    st = os.stat(a)
    assert a.read_text() == FIXED
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65534, 65534, 0o750)


def _as_nobody() -> list[str] | None:
    """The prefix that runs this Python as nobody; None when it cannot (no setpriv, or an
    interpreter under a folder only root may enter)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    try:
        ok = subprocess.run([*prefix, sys.executable, "-c", "import pytest_ssot, subprocess, "
                             "sys; subprocess.run([sys.executable, '-c', ''], check=True)"],
                            capture_output=True, timeout=60, cwd="/").returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return prefix if ok else None


def test_fix_lists_a_file_whose_owner_it_cannot_keep(
        project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user (simulated: chown refused, as for anyone but root): a file of someone
    else's would become the user's. Listed, untouched."""
    a = project / "chat" / "app" / "a.py"
    real_fstat = os.fstat

    class OtherOwner:
        def __init__(self, st: os.stat_result) -> None:
            self.st = st
            self.st_uid = st.st_uid + 1

        def __getattr__(self, name: str) -> object:
            return getattr(self.st, name)

    def other_owner(fd: int) -> object:
        return OtherOwner(real_fstat(fd))

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_atomic.os, "fstat", other_owner)
    monkeypatch.setattr(_atomic.os, "fchown", refuse)
    code, out = run_fix(capsys)
    assert code == 1, out
    assert "chat/app/a.py:1: error: not writable: owned by " in out
    assert a.read_text() == LEGACY


@pytest.fixture
def public_tmp() -> Path:
    """A folder another user can reach (pytest's own is root's, mode 0700)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ssot-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@root_only
def test_fix_as_a_user_lists_a_file_it_cannot_keep_the_owner_of(public_tmp: Path) -> None:
    """An unprivileged user with a group-writable file of someone else in a folder of
    theirs: a new file would be theirs; the file is listed, untouched."""
    prefix = _as_nobody()
    if prefix is None:
        pytest.skip("needs setpriv")
    tmp_path = public_tmp
    write_tree(tmp_path, PROJECT)
    for name in ("a.py", "b.py"):
        (tmp_path / "chat" / "app" / name).write_text(LEGACY)
    a = tmp_path / "chat" / "app" / "a.py"
    for p in [tmp_path, *tmp_path.rglob("*")]:
        os.chown(p, 65534, 65534)
    os.chown(a, 0, 65534)
    os.chmod(a, 0o664)
    os.chmod(tmp_path, 0o777)
    proc = subprocess.run([*prefix, sys.executable, "-m", "pytest_ssot.cli", "fix"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert "chat/app/a.py:1: error: not writable: owned by root:nogroup" in out
    assert a.read_text() == LEGACY and os.stat(a).st_uid == 0


# ----------------------------------------------------------------- discover --write

TABLE = '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "x"\ncanonical = "a:B"\n'


def test_discover_write_refuses_a_file_changed_since_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_ssot.services import discover

    py = tmp_path / "pyproject.toml"
    py.write_text("[project]\nname = 'p'\n")
    real = _atomic._create_temp

    def edit_meanwhile(folder: Path, name: str) -> tuple[int, str]:
        with open(py, "a") as fh:
            fh.write("# an edit\n")
        return real(folder, name)

    monkeypatch.setattr(_atomic, "_create_temp", edit_meanwhile)
    with pytest.raises(discover.DiscoverError, match="changed while"):
        discover.write_contract(py, TABLE)
    assert py.read_text() == "[project]\nname = 'p'\n# an edit\n"


@root_only
def test_discover_write_refuses_a_read_only_pyproject_of_someone_else(tmp_path: Path) -> None:
    from pytest_ssot.services import discover

    py = tmp_path / "pyproject.toml"
    py.write_text("[project]\nname = 'p'\n")
    os.chown(py, 65534, 65534)
    os.chmod(py, 0o444)
    with pytest.raises(discover.DiscoverError, match="read-only"):
        discover.write_contract(py, TABLE)
    st = os.stat(py)
    assert py.read_text() == "[project]\nname = 'p'\n" and st.st_uid == 65534


def test_discover_write_keeps_a_hard_link(tmp_path: Path) -> None:
    from pytest_ssot.services import discover

    py = tmp_path / "pyproject.toml"
    py.write_text("[project]\nname = 'p'\n")
    os.link(py, tmp_path / "linked.toml")
    with pytest.raises(discover.DiscoverError, match="hard-linked"):
        discover.write_contract(py, TABLE)
    assert os.stat(py).st_nlink == 2


def test_discover_write_refuses_a_pyproject_this_user_may_not_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mode 0644 of another owner, in a folder the user may write (found as nobody)."""
    from pytest_ssot.services import discover

    py = tmp_path / "pyproject.toml"
    py.write_text("[project]\nname = 'p'\n")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **kw: False if (
        str(p) == str(py) and mode == os.W_OK) else real(p, mode, *a, **kw))
    with pytest.raises(discover.DiscoverError, match=r"not writable by this user \(owner "):
        discover.write_contract(py, TABLE)
    assert py.read_text() == "[project]\nname = 'p'\n"
