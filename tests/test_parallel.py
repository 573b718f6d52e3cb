"""The one forked worker pool (``pytest_ssot.parallel``): what the scan, the fix and the
history rely on. Answers in share order; a worker that cannot be forked, or dies, costs
only time; no worker outlives the pool, whatever ends it (an error, a Ctrl-C, even one
that lands right after a fork)."""

from __future__ import annotations

import errno
import marshal
import os
import signal
import threading
import time

import pytest

from pytest_ssot import parallel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _reaped(pid: int) -> bool:
    """Was ``pid`` (a child of this process) reaped already? If not, it is killed and
    reaped now, so that a failing test leaves nothing behind."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


def test_answers_come_in_share_order_from_workers_and_this_process() -> None:
    parent = os.getpid()

    def work(i: int) -> tuple:
        time.sleep(0.02 * (5 - i))  # the first shares finish last
        return (i, os.getpid())

    got = parallel.share_out(5, work, marshal.dumps, marshal.loads)
    assert [i for i, _pid in got] == [0, 1, 2, 3, 4]
    assert got[-1][1] == parent  # the last share: this process's own
    assert all(pid != parent for _i, pid in got[:-1]), "the others ran in workers"
    assert len({pid for _i, pid in got}) == 5


@pytest.mark.parametrize("death", ["killed", "raises", "exits quietly"])
def test_a_worker_that_dies_has_its_share_done_here(death: str) -> None:
    parent = os.getpid()

    def work(i: int) -> tuple:
        if i == 1 and os.getpid() != parent:
            if death == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            elif death == "raises":
                raise ZeroDivisionError("a bug, seen in the parent when it redoes it")
            os._exit(0)  # no answer at all
        return (i, os.getpid())

    got = parallel.share_out(4, work, marshal.dumps, marshal.loads)
    assert [i for i, _pid in got] == [0, 1, 2, 3]
    assert got[1][1] == parent and got[0][1] != parent


def test_a_bug_in_a_share_is_raised_here_as_in_one_process() -> None:
    def work(i: int) -> int:
        if i == 2:
            raise ZeroDivisionError("our bug")
        return i

    with pytest.raises(ZeroDivisionError, match="our bug"):
        parallel.share_out(3, work, marshal.dumps, marshal.loads)


@pytest.mark.parametrize("fault", ["no process left", "no descriptor left"])
def test_a_worker_that_cannot_be_started_has_its_share_done_here(
        monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """The first worker starts; the second cannot (``ulimit -u``, ``ulimit -n``): it and
    every later share are done here, with the same answer; no descriptor leaks."""
    parent = os.getpid()
    real_fork, real_pipe, calls = os.fork, os.pipe, [0]

    def fork() -> int:
        calls[0] += 1
        if calls[0] > 1:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return real_fork()

    def pipe() -> tuple[int, int]:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.EMFILE, "Too many open files")
        return real_pipe()

    if fault == "no process left":
        monkeypatch.setattr(os, "fork", fork)
    else:
        monkeypatch.setattr(parallel, "pipe", pipe)
    open_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    got = parallel.share_out(4, lambda i: (i, os.getpid()), marshal.dumps, marshal.loads)
    assert [i for i, _pid in got] == [0, 1, 2, 3]
    assert got[0][1] != parent
    assert [pid for _i, pid in got[1:]] == [parent] * 3
    if open_before:
        assert len(os.listdir("/proc/self/fd")) == open_before


def test_a_pipe_that_cannot_be_made_is_the_callers_to_decide(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fds() -> tuple[int, int]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(parallel, "pipe", no_fds)
    with parallel.Pool() as pool, pytest.raises(OSError) as raised:
        pool.fork(0, lambda link: None)
    assert raised.value.errno == errno.EMFILE and not pool.pids


def test_an_error_here_kills_and_reaps_every_worker() -> None:
    """The parent fails (or is interrupted) while its workers still work: none of them
    outlives the pool."""
    with pytest.raises(KeyboardInterrupt), parallel.Pool() as pool:
        for i in range(2):
            assert pool.fork(i, lambda link: time.sleep(60))
        pids = list(pool.pids.values())
        raise KeyboardInterrupt
    assert all(_reaped(pid) for pid in pids)
    assert not pool.pids


def test_a_stop_signal_right_after_a_fork_is_held_until_the_worker_is_known(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C between ``os.fork`` and the pool's note of the worker: raised only once the
    worker is noted, so the way out kills and reaps it (before, it was left running)."""
    real_fork, forked = os.fork, []

    def fork() -> int:
        pid = real_fork()
        if pid:  # the parent, before the note: Ctrl-C to this very thread
            forked.append(pid)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), parallel.Pool() as pool:
            pool.fork(0, lambda link: time.sleep(60))
            pytest.fail("the held Ctrl-C was lost")  # pragma: no cover
    finally:
        signal.signal(signal.SIGINT, before)
    assert forked and all(_reaped(pid) for pid in forked)


def test_a_worker_starts_with_the_stop_signals_it_was_forked_with(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Held back only around the fork: the worker itself (and this process after) can be
    stopped by Ctrl-C as before."""
    got = parallel.share_out(
        2, lambda i: sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])), marshal.dumps,
        marshal.loads)
    assert got[0] == got[1]
    assert not set(got[0]) & parallel.STOPS


def test_rounds_of_commands_and_answers() -> None:
    """``commands=True``: the worker answers each command in turn; once this process is
    done, the worker's ``recv`` ends."""
    def serve(link: parallel.Link) -> None:
        while True:
            got = link.recv()
            if got is None:
                return
            link.send(got * 2)

    with parallel.Pool() as pool:
        assert pool.fork(0, serve, commands=True) and pool.fork(1, serve, commands=True)
        for word in (b"ab", b"x" * 300_000):  # bigger than a pipe holds
            for i in (0, 1):
                pool.send(i, word)
            assert [pool.recv(i) for i in (0, 1)] == [word * 2] * 2
        pids = list(pool.pids.values())
    assert all(_reaped(pid) for pid in pids)


def test_a_gone_worker_answers_none_and_is_forgotten() -> None:
    with parallel.Pool() as pool:
        assert pool.fork(0, lambda link: os._exit(9), commands=True)
        pid = pool.pids[0]
        assert pool.recv(0) is None
        assert 0 not in pool.pids and _reaped(pid)
        pool.send(0, b"nobody listens")  # nothing: it is gone
        assert pool.recv(0) is None


def test_frames_come_as_sent_and_a_cut_frame_is_dropped() -> None:
    def chatty(link: parallel.Link) -> None:
        for k in range(3):
            link.send(b"P%d" % k)
        link.send(b"R" + b"y" * 200_000)

    def dies_midway(link: parallel.Link) -> None:
        link.send(b"P0")
        os.write(link.up, (100).to_bytes(8, "little") + b"cut")  # a frame cut short
        os._exit(9)

    with parallel.Pool() as pool:
        assert pool.fork(0, chatty) and pool.fork(1, dies_midway)
        got: dict[int, list[bytes]] = {0: [], 1: []}
        for index, frame in pool.frames():
            got[index].append(frame)
        assert not pool.pids  # every worker reaped once its pipe ended
    assert got[0] == [b"P0", b"P1", b"P2", b"R" + b"y" * 200_000]
    assert got[1] == [b"P0"]


def test_the_task_queue_hands_every_index_to_exactly_one_process() -> None:
    items = list(range(5000))
    queue = parallel.TaskQueue(len(items))
    try:
        with parallel.Pool() as pool:
            def worker(link: parallel.Link) -> None:
                queue.in_worker()
                taken: list[int] = []
                for _item in queue.take(items, taken):
                    time.sleep(0)
                link.send(marshal.dumps(taken))

            assert pool.fork(0, worker) and pool.fork(1, worker)
            queue.start()
            mine: list[int] = []
            for _item in queue.take(items, mine):
                pass
            theirs = [marshal.loads(pool.recv(i)) for i in (0, 1)]  # type: ignore[arg-type]
    finally:
        queue.close()
    every = mine + theirs[0] + theirs[1]
    assert sorted(every) == items  # none lost, none twice
