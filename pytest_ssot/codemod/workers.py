"""The fix's forked workers (on ``parallel.Pool``): each serves one share through three
rounds (facts, readers, rewrite); this process serves the last share itself, asks the
probes while the workers search, and gathers every share's answers in order."""

from __future__ import annotations

import errno
import pickle
from typing import Any

from .. import parallel
from .faults import FixError
from .identity import Identity, Question
from .index import merge_readers
from .result import FixResult, Listing
from .shares import Share

__all__ = ["DIED", "Workers", "share_rounds"]


class _WorkerTraceback(Exception):
    """Where a fix worker raised: its traceback, as text (shown above the error)."""

    def __str__(self) -> str:
        return "in a fix worker:\n" + str(self.args[0])


class Workers:
    """``len(shares) - 1`` forked workers (``parallel.Pool``), each serving one share
    through three rounds (facts, readers, rewrite); this process serves the last share
    itself. A worker that dies (the OOM killer, a stray signal) costs only time: its
    share is done here. A bug in a worker is raised here, as in one process."""

    def __init__(self, shares: list[Share]) -> None:
        self.shares = shares
        self.pool = parallel.Pool()
        self.pids = self.pool.pids  # share index -> pid of a live worker

    def start(self) -> None:
        for i, share in enumerate(self.shares[:-1]):
            try:
                started = self.pool.fork(i, lambda link, share=share: _serve(share, link),
                                         commands=True)
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    raise FixError(f"too many open files starting {len(self.shares)} "
                                   f"workers ({exc.strerror}): run with a smaller --jobs or "
                                   "raise the limit (ulimit -n)") from None
                raise
            if not started:
                # No more processes (EAGAIN) or memory: the shares without a worker are
                # done here, as a dead worker's are.
                break

    def send(self, i: int, command: tuple) -> None:
        """Send ``command`` to worker ``i`` (nothing when it is gone)."""
        self.pool.send(i, pickle.dumps(command, pickle.HIGHEST_PROTOCOL))

    def recv(self, i: int) -> Any:
        """Worker ``i``'s answer to the current round; ``DIED`` when it is gone."""
        got = self.pool.recv(i)
        if got is None:
            return DIED
        try:
            status, value = pickle.loads(got)
        except Exception as exc:  # noqa: BLE001 - an answer that does not unpickle: our bug
            raise RuntimeError(f"a fix worker's answer could not be read: {exc!r}") from None
        if status == "bug":
            error, where = value
            # The worker's own traceback, which the exception does not carry across.
            raise error from _WorkerTraceback(where)
        return value

    def stop(self) -> None:
        """End every worker (also on Ctrl-C or an error here: none outlives this run)."""
        self.pool.stop()


DIED = object()


def _serve(share: Share, link: parallel.Link) -> None:
    """A worker's life: its share's facts, then its part of the readers search, then the
    rewrite of its files, each answered to the parent, until the parent is done."""

    def answer(status: str, value: object) -> None:
        link.send(pickle.dumps((status, value), pickle.HIGHEST_PROTOCOL))

    try:
        answer("ok", share.prepare())
        while True:
            got = link.recv()
            if got is None:
                break
            command, args = pickle.loads(got)
            if command == "readers":
                answer("ok", share.readers(*args))
            elif command == "rewrite":
                answers, readers = args
                identity = Identity(share.ctx.identity.sys_path, share.ctx.identity.timeout)
                identity.answers = answers
                answer("ok", share.rewrite(identity, readers))
            else:
                break
    except Exception as exc:  # noqa: BLE001 - our bug: raised in the parent, as in one process
        import traceback

        tb = traceback.format_exc()
        try:
            answer("bug", (exc, tb))
        except Exception:  # noqa: BLE001 - not picklable: its traceback then
            answer("bug", (RuntimeError("a fix worker failed"), tb))
        raise



def share_rounds(shares: list[Share], identity: Identity, out: FixResult
                 ) -> tuple[list[tuple], Any]:
    """The three rounds over ``shares`` (the last one this process's): every file's facts
    (its failures listed in ``out.errors``), the readers search while this process asks
    the probes, then the rewrite. Returns ``(the rewrite tuples, the readers)``."""
    n_jobs = len(shares)
    workers = Workers(shares)
    try:
        workers.start()
        own = shares[-1]
        firsts: list[Any] = [None] * n_jobs
        firsts[-1] = own.prepare()
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            firsts[i] = shares[i].prepare() if got is DIED else got
        questions: set[Question] = set()
        wants: set[tuple[str, str]] = set()
        failed: list[tuple[str, Listing]] = []
        for q, w, errors in firsts:
            questions |= q
            wants |= w
            failed += errors
        for _rel, listing in sorted(failed, key=lambda t: t[0]):
            out.errors.append(listing)

        # the workers search for readers while this process asks the probes
        for i in range(n_jobs - 1):
            workers.send(i, ("readers", (wants, i, n_jobs)))
        identity.ask(questions)
        parts = [own.readers(wants, n_jobs - 1, n_jobs)]
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            parts.append(shares[i].readers(wants, i, n_jobs) if got is DIED else got)
        readers = merge_readers(wants, parts)

        for i in range(n_jobs - 1):
            workers.send(i, ("rewrite", (identity.answers, readers)))
        results = own.rewrite(identity, readers)
        for i in range(n_jobs - 1):
            got = workers.recv(i)
            results += shares[i].rewrite(identity, readers) if got is DIED else got
    finally:
        workers.stop()
    return results, readers
