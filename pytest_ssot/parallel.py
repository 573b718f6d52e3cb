"""The one forked worker pool: the scan's walk, the fix and the history share work with it.

Base layer: stdlib only, no pytest, nothing of ours. Workers are forked, so they inherit
the caller's state (contracts, contents, plans) for free; each talks to this process
through its own pipes, in frames of bytes the caller encodes (marshal, pickle). This
process always does a share of its own. A worker that cannot be forked (no process left,
no memory) or that dies (the OOM killer, a stray signal) costs only time: the caller does
its share here, with the same answer (``share_out`` does it for one-shot work). However
the caller's block ends (done, Ctrl-C, an error), no worker outlives it.
"""

from __future__ import annotations

import os
import signal
import struct
from array import array
from typing import Any, Callable, Iterator, Sequence

__all__ = ["can_fork", "Link", "Pool", "TaskQueue", "share_out", "STOPS", "WORKER_FAILED"]

# The signals that stop a run (Ctrl-C; SIGTERM and SIGHUP end the command as Ctrl-C does).
STOPS = frozenset(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                  if hasattr(signal, n))

WORKER_FAILED = 70  # a worker's exit status when its work raised (the parent redoes it)

_HEAD = struct.Struct("<Q")  # a frame: its length, then its bytes
_CHUNK = 1 << 20


def can_fork() -> bool:
    """May this process fork workers? Only where ``fork`` exists and no other thread runs:
    a thread may hold a lock the child then waits for forever (CPython 3.12 warns of it).
    ``pytest -n`` runs the scan in its controller, beside execnet's threads: there the walk
    stays in one process."""
    if not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1  # every thread, C ones too
    except OSError:
        import threading

        return threading.active_count() == 1


def pipe() -> tuple[int, int]:
    """A pipe of a worker's link (one place: where descriptors run out, ``Pool.fork``
    raises its ``OSError`` for the caller to decide)."""
    return os.pipe()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _send(fd: int, data: bytes) -> None:
    _write_all(fd, _HEAD.pack(len(data)))
    _write_all(fd, data)


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes, or ``None`` when the pipe ends first (its writer is gone)."""
    buf = bytearray()
    while len(buf) < size:
        chunk = os.read(fd, min(size - len(buf), _CHUNK))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv(fd: int) -> bytes | None:
    head = _read_exactly(fd, _HEAD.size)
    if head is None:
        return None
    return _read_exactly(fd, _HEAD.unpack(head)[0])


class Link:
    """A worker's end of its link to this process: frames up (``send``) and, for a worker
    forked with ``commands=True``, frames down (``recv``: ``None`` once the parent is
    gone or done)."""

    def __init__(self, up: int, down: int) -> None:
        self.up, self.down = up, down

    def send(self, data: bytes) -> None:
        _send(self.up, data)

    def recv(self) -> bytes | None:
        return _recv(self.down) if self.down >= 0 else None


class Pool:
    """Forked workers, each known by the index of its share; a context manager: however
    the block ends, every worker still known is killed and reaped (none outlives it).

    ``fork`` starts one; ``send``/``recv`` talk to one in rounds (``recv``'s ``None``: it is
    gone, and forgotten: its share is the caller's to do here); ``frames`` takes what all
    of them send, as it comes."""

    def __init__(self) -> None:
        self.pids: dict[int, int] = {}  # share index -> pid of its live worker
        self._ends: dict[int, tuple[int, int]] = {}  # share index -> (its up, its down)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def fork(self, index: int, serve: Callable[[Link], object], *,
             commands: bool = False) -> bool:
        """Fork a worker that runs ``serve(link)``, then ends: status 0, or
        ``WORKER_FAILED`` if ``serve`` raised (its traceback would interleave with the
        parent's output: the caller redoes the share and sees the error then).

        ``False``: no process could be forked (EAGAIN: no process left to the user; no
        memory): the caller does the share itself. An ``OSError`` of the pipes (EMFILE) is
        raised: the caller decides.

        The worker is noted while the stop signals are held back: a Ctrl-C or SIGTERM
        landing between the fork and the note would otherwise unwind past a worker nobody
        knows of, left running (seen under load); held, it is raised right after, when the
        way out kills the worker."""
        up_r, up_w = pipe()
        try:
            down_r, down_w = pipe() if commands else (-1, -1)
        except OSError:
            os.close(up_r)
            os.close(up_w)
            raise
        mask = hasattr(signal, "pthread_sigmask")
        old = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS) if mask else None
        try:
            try:
                pid = os.fork()
            except OSError:
                for fd in (up_r, up_w, down_r, down_w):
                    if fd >= 0:
                        os.close(fd)
                return False
            if pid == 0:  # worker
                self._serve(serve, old, Link(up_w, down_r), (up_r, down_w))
            os.close(up_w)
            if down_r >= 0:
                os.close(down_r)
            self.pids[index] = pid
            self._ends[index] = (up_r, down_w)
        finally:
            if mask:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)  # type: ignore[arg-type]
        return True

    def _serve(self, serve: Callable[[Link], object], old: Any, link: Link,
               parents: tuple[int, int]) -> None:
        """A worker's life: never returns."""
        code = 0
        try:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            # The parent's ends, its own and the earlier workers': a worker holding another
            # worker's command pipe open would keep that one waiting after the parent left.
            for fd in (*parents, *(fd for ends in self._ends.values() for fd in ends)):
                if fd >= 0:
                    os.close(fd)
            serve(link)
        except BaseException:  # noqa: BLE001 - the parent sees a worker's death and redoes
            code = WORKER_FAILED
        finally:
            os._exit(code)

    def send(self, index: int, data: bytes) -> None:
        """A frame to worker ``index`` (forked with ``commands=True``); nothing when it is
        gone."""
        ends = self._ends.get(index)
        if ends is None:
            return
        try:
            _send(ends[1], data)
        except OSError:
            self.bury(index)

    def recv(self, index: int) -> bytes | None:
        """Worker ``index``'s next frame; ``None`` when it is gone (then buried)."""
        ends = self._ends.get(index)
        if ends is None:
            return None
        try:
            got = _recv(ends[0])
        except OSError:
            got = None
        if got is None:
            self.bury(index)
        return got

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """``(index, frame)`` from every worker as it comes, until each has closed its
        end (ended or died: then it is reaped). A frame cut short by a death is dropped."""
        import selectors

        sel = selectors.DefaultSelector()
        bufs: dict[int, bytearray] = {}
        by_fd: dict[int, int] = {}
        for index, (up, _down) in self._ends.items():
            sel.register(up, selectors.EVENT_READ)
            bufs[up] = bytearray()
            by_fd[up] = index
        try:
            while by_fd:
                for key, _ in sel.select():
                    fd = key.fd
                    chunk = os.read(fd, _CHUNK)
                    buf = bufs[fd]
                    if not chunk:
                        sel.unregister(fd)
                        self.bury(by_fd.pop(fd))
                        continue
                    buf += chunk
                    while len(buf) >= _HEAD.size:
                        size = _HEAD.unpack_from(buf)[0]
                        if len(buf) < _HEAD.size + size:
                            break
                        frame = bytes(buf[_HEAD.size:_HEAD.size + size])
                        del buf[:_HEAD.size + size]
                        yield by_fd[fd], frame
        finally:
            sel.close()

    def bury(self, index: int) -> None:
        """Forget worker ``index``: close its ends, kill it if it still runs, reap it."""
        for fd in self._ends.pop(index, ()):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        pid = self.pids.pop(index, None)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)  # (one that has ended: a no-op)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass

    def stop(self) -> None:
        """End every worker still known (also on Ctrl-C or an error here)."""
        for index in list(self._ends):
            self.bury(index)


def share_out(count: int, work: Callable[[int], Any], dumps: Callable[[Any], bytes],
              loads: Callable[[bytes], Any]) -> list:
    """``[work(0), ..., work(count - 1)]``, in that order: share ``count - 1`` (the last)
    in this process, the others in forked workers (their answers cross as ``dumps``
    bytes). A share whose worker could not be forked, or died, is done here after this
    process's own (a bug of ours is raised then, as in one process). Workers are forked
    until one fork fails: the shares after it are done here too."""
    results: list = [None] * count
    came: list[bool] = [False] * count
    with Pool() as pool:
        for index in range(count - 1):
            try:
                started = pool.fork(index, lambda link, i=index: link.send(dumps(work(i))))
            except OSError:  # no descriptor for its pipe: as no process for it
                started = False
            if not started:
                break
        results[-1], came[-1] = work(count - 1), True
        for index in range(count - 1):
            got = pool.recv(index)
            if got is not None:
                results[index], came[index] = loads(got), True
    for index in range(count):
        if not came[index]:
            results[index] = work(index)
    return results


def _feed(fd: int, count: int) -> None:
    """Write the indexes ``0 .. count - 1`` to the queue, then close it (its end)."""
    try:
        view = memoryview(array("I", range(count)).tobytes())
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass  # every reader is gone (Ctrl-C): nothing left to hand out
    finally:
        os.close(fd)


class TaskQueue:
    """Work handed out as it is taken: the indexes ``0 .. count - 1`` in a pipe, whoever
    is free reads the next (a read of 4 bytes from a pipe is atomic: no two processes get
    the same index), so that no process waits for another's heavier share (a fixed split
    left one process 45 % longer at work).

    Fork the workers first (each calls ``in_worker``), then ``start`` (the feeder is a
    thread: a fork beside a live thread can deadlock); ``close`` when done."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.r, self.w = os.pipe()
        self._feeder: Any = None

    def in_worker(self) -> None:
        os.close(self.w)  # or the queue would never end

    def start(self) -> None:
        import threading

        # Fed from a thread: a pipe holds 64 KiB (16,384 indexes) before a write blocks.
        self._feeder = threading.Thread(target=_feed, args=(self.w, self.count),
                                        daemon=True)
        self._feeder.start()

    def take(self, items: Sequence, taken: list[int]) -> Iterator:
        """The items this process takes, one at a time, until the queue is empty; their
        indexes are noted in ``taken``."""
        size = array("I").itemsize
        while True:
            got = os.read(self.r, size)
            if len(got) < size:
                return
            index = array("I", got)[0]
            taken.append(index)
            yield items[index]

    def close(self) -> None:
        os.close(self.r)
        if self._feeder is not None:
            # Done (every index was read) or failing on its closed pipe: gone before any
            # later fork of this process.
            self._feeder.join()
        else:
            os.close(self.w)
