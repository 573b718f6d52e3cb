"""`pytest-ssot fix` under faults (issue 11, item 7): read-only files, folders it cannot
write, files that do not parse, nonsense `--jobs`, too many open files. Each: one clear
line per file, the run goes on for the others, and the exit code is not 0."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pytest_ssot.cli import main
from pytest_ssot import parallel
from pytest_ssot.codemod import driver, shares, workers, writing
from test_codemod import PROJECT
from helpers import write_tree, fork_anyway

LEGACY = "from chat.ws.manager import WebSocketManager\n"
FIXED = "from chat.ws.websocket_manager import WebSocketManager\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, PROJECT)
    for name in ("a.py", "b.py"):
        (tmp_path / "chat" / "app" / name).write_text(LEGACY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["fix", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_only_file_is_listed_not_rewritten(project: Path, capsys) -> None:
    a = project / "chat" / "app" / "a.py"
    a.chmod(0o444)
    code, out, err = run(capsys)
    assert code == 1, out + err
    assert a.read_text() == LEGACY and a.stat().st_mode & 0o777 == 0o444
    assert "chat/app/a.py:1: error: not writable: read-only file (mode 0444)" in out
    assert (project / "chat" / "app" / "b.py").read_text() == FIXED  # the others go on
    assert "Traceback" not in out + err
    # the reference it could not write is still counted as left, at its own line
    assert ("rewrote 1 reference(s) in 1 file(s); 1 left for a person (listed above); "
            "1 file(s) not processed (errors above)") in out


def test_folder_that_cannot_be_written_is_one_line_per_file(
        project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    real = writing.write_atomic

    def refuse(path: Path, data: bytes, **kw: object) -> None:
        if path.name == "a.py":  # as root a chmod'ed folder is still writable: simulate
            raise PermissionError(errno.EACCES, "Permission denied", str(path.parent))
        real(path, data, **kw)

    monkeypatch.setattr(writing, "write_atomic", refuse)
    code, out, err = run(capsys)
    assert code == 1
    assert "chat/app/a.py:1: error: not writable: cannot write: Permission denied" in out
    assert (project / "chat" / "app" / "b.py").read_text() == FIXED
    assert "Traceback" not in out + err


def test_unparsable_file_names_its_line_and_fails(project: Path, capsys) -> None:
    (project / "chat" / "app" / "broken.py").write_text(LEGACY + "\ndef (:\n")
    code, out, err = run(capsys)
    assert code == 1
    assert "chat/app/broken.py:3: error: does not parse: SyntaxError: invalid syntax" in out
    assert (project / "chat" / "app" / "a.py").read_text() == FIXED


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_a_whole_number_from_one(project: Path, capsys, jobs: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fix", "--jobs", jobs])
    assert exc.value.code == 2
    assert "--jobs: expected a whole number >= 1" in capsys.readouterr().err
    assert (project / "chat" / "app" / "a.py").read_text() == LEGACY


def test_jobs_is_capped_at_files_and_cores() -> None:
    assert driver.effective_jobs(200, 3) <= 3
    assert driver.effective_jobs(None, 0) == 1
    assert driver.effective_jobs(1, 500) == 1


def test_too_many_open_files_is_one_clear_error(project: Path, capsys,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fds(*_a: object, **_k: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 2)
    monkeypatch.setattr(parallel, "pipe", no_fds)  # a worker's pipe cannot be made
    code, out, err = run(capsys)
    assert code == 1
    assert "too many open files starting 2 workers" in err and "--jobs" in err
    assert "Traceback" not in out + err
    assert (project / "chat" / "app" / "a.py").read_text() == LEGACY


def test_special_files_never_hang_the_readers_index(project: Path, capsys) -> None:
    import os

    (project / "chat" / "app" / "m.py").write_text(
        "import chat.ws.manager as m\n\nx = m.WebSocketManager\n")  # asks the index
    os.mkfifo(project / "chat" / "app" / "pipe.py")
    (project / "chat" / "app" / "zero.py").symlink_to("/dev/zero")
    code, out, err = run(capsys)
    assert "Traceback" not in out + err
    assert (project / "chat" / "app" / "m.py").read_text().startswith(
        "import chat.ws.websocket_manager as m\n")


@pytest.mark.parametrize("stage", ["prepare", "readers", "rewrite"])
def test_a_worker_that_dies_costs_only_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            stage: str) -> None:
    """A worker killed at any stage (the OOM killer, a stray signal): its part is done by
    the parent, and the outcome is the one a single process gives."""
    import os
    import sys

    from pytest_ssot.codemod import fix
    from pytest_ssot.config import load_config
    from test_codemod import _many_files, _outcome

    one, many = tmp_path / "one", tmp_path / "many"
    _many_files(one)
    _many_files(many)
    alone = fix(load_config(one, with_entry_points=False), one,
                sys_path=[str(one), *sys.path], jobs=1)
    parent = os.getpid()
    real = getattr(shares.Share, stage)

    def dies(self, *args):
        if os.getpid() != parent:
            (tmp_path / "died").touch()
            os._exit(9)
        return real(self, *args)

    monkeypatch.setattr(shares.Share, stage, dies)
    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 2)
    shared = fix(load_config(many, with_entry_points=False), many,
                 sys_path=[str(many), *sys.path], jobs=2)
    assert (tmp_path / "died").exists(), "no worker died: the parent's recovery was not tried"
    assert _outcome(one, alone) == _outcome(many, shared)


def test_a_bug_in_a_worker_is_raised_as_in_one_process(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    parent = os.getpid()
    real = shares.Share.rewrite

    def deep_in_the_worker(self, *args):
        if os.getpid() != parent:
            raise ZeroDivisionError("our bug")
        return real(self, *args)

    monkeypatch.setattr(shares.Share, "rewrite", deep_in_the_worker)
    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 2)
    with pytest.raises(ZeroDivisionError, match="our bug") as raised:
        main(["fix"])
    assert (project / "chat" / "app" / "a.py").read_text() == LEGACY
    # The worker's frames do not cross the pipe: its traceback is chained to the error.
    assert "deep_in_the_worker" in str(raised.value.__cause__)


def test_ctrl_c_while_writing_says_how_far_it_got(project: Path, monkeypatch) -> None:
    """Ctrl-C between two rewritten files: each file is whole (old or new text), and the
    user learns how many were written, not only a KeyboardInterrupt."""
    real = writing.write_atomic
    written: list[str] = []

    def then_ctrl_c(path: Path, data: bytes, **kw: object) -> None:
        if written:
            raise KeyboardInterrupt
        real(path, data, **kw)
        written.append(path.name)

    monkeypatch.setattr(writing, "write_atomic", then_ctrl_c)
    with pytest.raises(driver.Interrupted) as stopped:
        main(["fix"])
    assert (stopped.value.written, stopped.value.due) == (1, 2)
    texts = sorted((project / "chat" / "app" / n).read_text() for n in ("a.py", "b.py"))
    assert texts == sorted([FIXED, LEGACY])


def test_fix_that_cannot_fork_does_the_work_itself(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No process left for a worker (ulimit -u): the shares without one are done in this
    process, with the outcome one process gives."""
    import errno
    import os
    import sys

    from pytest_ssot.codemod import fix
    from pytest_ssot.config import load_config
    from test_codemod import _many_files, _outcome

    one, many = tmp_path / "one", tmp_path / "many"
    _many_files(one)
    _many_files(many)
    alone = fix(load_config(one, with_entry_points=False), one,
                sys_path=[str(one), *sys.path], jobs=1)
    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 3)
    real_fork, real_start = os.fork, workers.Workers.start
    starting = [0]  # fix's forks so far, while it starts its workers (the scan's pass)

    def start(self) -> None:
        starting[0] = 1
        try:
            real_start(self)
        finally:
            starting[0] = 0

    def fork() -> int:  # fix's second worker finds no process left
        if starting[0]:
            starting[0] += 1
            if starting[0] > 2:
                raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(workers.Workers, "start", start)
    monkeypatch.setattr(os, "fork", fork)
    shared = fix(load_config(many, with_entry_points=False), many,
                 sys_path=[str(many), *sys.path], jobs=3)
    assert _outcome(one, alone) == _outcome(many, shared)


def test_a_link_to_a_file_outside_the_project_is_not_rewritten(
        project: Path, capsys, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A project file that is a symlink to a file outside the rootdir (another checkout,
    a shared folder) is not the project's to rewrite: listed with the reason, untouched;
    the others are rewritten as before."""
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "shared.py"
    elsewhere.write_text(LEGACY)
    a = project / "chat" / "app" / "a.py"
    a.unlink()
    a.symlink_to(elsewhere)
    code, out, err = run(capsys)
    assert elsewhere.read_text() == LEGACY, out + err
    assert a.is_symlink()
    assert "chat/app/a.py:1: error: not writable: a link to a file outside the project" in out
    assert (project / "chat" / "app" / "b.py").read_text() == FIXED
    assert code == 1 and "Traceback" not in out + err


def test_a_file_of_another_user_is_not_called_read_only(project: Path, capsys,
                                                        monkeypatch) -> None:
    """A 0644 file this user may not write (another owner) says so, with its owner and
    mode, instead of 'read-only file (mode 0644)' (found running fix as nobody)."""
    a = project / "chat" / "app" / "a.py"
    real_access = writing.os.access
    monkeypatch.setattr(writing.os, "access", lambda p, mode, **k: False if Path(p) == a
                        else real_access(p, mode, **k))
    code, out, err = run(capsys)
    assert a.read_text() == LEGACY and code == 1
    assert "chat/app/a.py:1: error: not writable: not writable by this user (owner " in out
    assert "read-only" not in out, out


def test_a_stop_signal_right_after_a_workers_fork_leaves_no_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C landing between a fix worker's fork and the parent's note of it (a window of
    a few bytecodes, hit now and then under load): held back until the worker is known,
    then raised, and the way out kills and reaps that worker too."""
    import os
    import signal
    import sys
    import threading

    from pytest_ssot.codemod import fix
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan
    from test_codemod import _many_files

    _many_files(tmp_path)
    settings = load_config(tmp_path, with_entry_points=False)
    scanned = scan(settings, tmp_path, jobs=1)
    monkeypatch.setattr(driver, "_PARALLEL_MIN", 1)
    fork_anyway(monkeypatch)
    monkeypatch.setattr(driver, "effective_jobs", lambda jobs, files: 2)
    real_fork, forked = os.fork, []

    def fork() -> int:
        pid = real_fork()
        if pid:  # the parent, before it can note the worker: Ctrl-C, to this thread
            forked.append(pid)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path], result=scanned,
                jobs=2)
    finally:
        signal.signal(signal.SIGINT, before)
    assert forked, "no fix worker was forked: the window was never there"
    left = []
    for pid in forked:
        try:
            os.waitpid(pid, os.WNOHANG)  # still ours to reap: fix left it behind
        except ChildProcessError:
            continue  # reaped by fix on its way out
        left.append(pid)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert left == []
