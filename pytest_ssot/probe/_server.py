"""The probe server: runs import probes in fresh interpreter states.

This file is executed as a script (``python _server.py``), never imported as part of the
``pytest_ssot`` package, so the interpreter it forks from holds nothing but the standard
library modules below: no pytest, no plugin, no project code. It reads one JSON request on
stdin and writes one JSON answer on stdout.

Why forks: one interpreter start per path costs ~20 ms plus the import of every parent
package. The server starts once; each task runs in a child forked from it, so each task
sees a fresh state and no task ever runs after another in the same state.

Why zygotes: tasks whose modules share a parent package ``P`` (``numpy.core.multiarray``,
``numpy.core.umath``) are forked from a process that imported ``P`` once. Python imports
``P`` before ``P.sub`` anyway, so the state at the fork is exactly the one a fresh
interpreter reaches at that point; warnings raised while importing ``P`` are recorded there
and handed down to every child. If importing ``P`` fails, hangs or kills the process, each
task gets the answer its own fresh import would have given (the same exception, timeout or
death), because its import would have failed at the same point.

Where ``os.fork`` does not exist, every task runs in a new interpreter instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import selectors
import signal
import sys
import tempfile
import time
import warnings

# PYTEST_SSOT_PROBE_SPAWN=1 forces the no-fork path (tests; platforms without fork use it).
_HAS_FORK = hasattr(os, "fork") and not os.environ.get("PYTEST_SSOT_PROBE_SPAWN")
# The script a spawned task runs (``--one``); ``_discover.py`` reuses this machinery and
# points it at itself, so that its own task kinds exist in the spawned interpreter.
_SCRIPT = os.path.abspath(__file__)


def _sibling(stem: str):
    """The sibling script ``<stem>.py``, loaded by its file: never through ``sys.path`` (the
    project's), under a name no import statement can spell, and not put in ``sys.modules``,
    so that no project module collides with it and no probe or alias search sees it. (A
    module file is read from its cached bytecode; this script itself is compiled at every
    start, which is why the tasks live there.)"""
    path = os.path.join(os.path.dirname(_SCRIPT), stem + ".py")
    spec = importlib.util.spec_from_file_location(f"pytest-ssot-probe:{stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The tasks a child runs (``_server_tasks.py``); the names ``_discover.py`` uses are here.
_tasks = _sibling("_server_tasks")
_tasks._OUR_FILES.add(__file__)  # frames of this script are the server's too (``_raiser``)
_DEPRECATION, _TAIL, _TASKS = _tasks._DEPRECATION, _tasks._TAIL, _tasks._TASKS
_fmt_exc, _last_frame, _resolve = _tasks._fmt_exc, _tasks._last_frame, _tasks._resolve
_task_enumerate, _raiser, _run_task = _tasks._task_enumerate, _tasks._raiser, _tasks._run_task


# --------------------------------------------------------------------------- processes


def _fork() -> int:
    with warnings.catch_warnings():
        # Python >= 3.12 warns in the parent when forking with threads; never record it.
        warnings.simplefilter("ignore")
        return os.fork()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class _Child:
    __slots__ = ("key", "pid", "fd", "out", "buf", "deadline", "ready", "status", "proc")

    def __init__(self, key, pid, fd, out, deadline, proc=None):
        self.key, self.pid, self.fd, self.out = key, pid, fd, out
        self.buf = bytearray()
        self.deadline = deadline
        self.ready = False
        self.status = None
        self.proc = proc


def _start_forked(key, body, timeout: float) -> _Child:
    """Fork; the child runs ``body(write_fd)`` with stdio redirected, then ``_exit``."""
    out = tempfile.TemporaryFile()
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = _fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            body(w)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            os._exit(code)
    os.close(w)
    return _Child(key, pid, r, out, time.monotonic() + timeout)


def _start_spawned(key, payload: dict, timeout: float) -> _Child:
    """No fork here: run one task in a new interpreter (``python _server.py --one``)."""
    import subprocess

    out = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, _SCRIPT, "--one"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(payload).encode())
    proc.stdin.close()
    child = _Child(key, proc.pid, proc.stdout.fileno(), out, time.monotonic() + timeout, proc)
    return child


def _tail(out) -> str:
    try:
        out.seek(0, os.SEEK_END)
        size = out.tell()
        out.seek(max(0, size - 2000))
        text = out.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-3:])[-_TAIL:]


def _death_message(code: int | None, sig: int | None, out, timed_out: float | None) -> str:
    if timed_out is not None:
        msg = f"timed out: the import did not finish within {timed_out:g} s (probe_timeout)"
    elif sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        msg = f"the probe interpreter was killed by signal {name} during the import"
    elif code is not None:
        msg = (f"the probe interpreter exited with code {code} during the import "
               "(os._exit or a crash), without a result")
    else:
        msg = "the probe interpreter vanished without a result"
    tail = _tail(out)
    return f"{msg}; its last output: {tail}" if tail else msg


def _pool(starters: list, limit: int, on_ready_timeout=None,
          ready_keys: set | None = None) -> dict:
    """Run children, ``limit`` at a time; return ``{key: (payload | None, death_message)}``.

    ``starters`` holds ``(key, start_fn, timeout)``; ``start_fn()`` returns a ``_Child``.
    A child whose first output line is ``R`` has finished its setup (a zygote): its
    deadline becomes ``on_ready_timeout(key)``.
    """
    return _Pool(on_ready_timeout, ready_keys).run(list(reversed(starters)), limit)


class _Pool:
    """The children running, read through one selector; their results by key."""

    def __init__(self, on_ready_timeout, ready_keys: set | None) -> None:
        self.on_ready_timeout, self.ready_keys = on_ready_timeout, ready_keys
        self.running: dict[int, _Child] = {}
        self.results: dict = {}
        self.timeouts: dict[int, float] = {}
        self.sel = selectors.DefaultSelector()

    def run(self, pending: list, limit: int) -> dict:
        running = self.running
        while pending or running:
            if os.getppid() != _PARENT:
                _orphaned()
            while pending and len(running) < limit:
                key, start, timeout = pending.pop()
                child = start()
                running[child.fd] = child
                self.timeouts[child.fd] = timeout
                self.sel.register(child.fd, selectors.EVENT_READ, child)
            now = time.monotonic()
            wait = min((c.deadline for c in running.values()), default=now + 1) - now
            events = self.sel.select(timeout=max(0.0, min(wait, 0.2)))
            for key, _ in events:
                self.read(key.data)
            if not events:
                # Exited, but something it started still holds the pipe open: take what it
                # wrote and move on.
                for child in list(running.values()):
                    if self.reap(child, block=False):
                        self.drain(child)
                        self.finish(child)
            now = time.monotonic()
            for child in list(running.values()):
                if now >= child.deadline:
                    self.finish(child, timed_out=self.timeouts[child.fd])
        self.sel.close()
        return self.results

    def read(self, child: _Child) -> None:
        """What a child wrote (its setup line ``R`` starts a zygote's deadline); at its
        end of file, its result."""
        try:
            chunk = os.read(child.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.finish(child)
            return
        child.buf += chunk
        if not child.ready and child.buf.startswith(b"R\n") and self.on_ready_timeout:
            child.ready = True
            if self.ready_keys is not None:
                self.ready_keys.add(child.key)
            child.deadline = time.monotonic() + self.on_ready_timeout(child.key)

    @staticmethod
    def reap(child: _Child, block: bool) -> bool:
        """Collect the child's exit status; False when it is still running."""
        if child.proc is not None:
            rc = child.proc.wait() if block else child.proc.poll()
            if rc is None:
                return False
            child.status = (None, -rc) if rc < 0 else (rc, None)
            return True
        pid, status = os.waitpid(child.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        if os.WIFSIGNALED(status):
            child.status = (None, os.WTERMSIG(status))
        else:
            child.status = (os.WEXITSTATUS(status), None)
        return True

    def finish(self, child: _Child, timed_out: float | None = None) -> None:
        self.sel.unregister(child.fd)
        if timed_out is not None:
            try:
                if child.proc is not None:
                    child.proc.kill()
                else:
                    os.kill(child.pid, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass
        if child.status is None:
            self.reap(child, block=True)
        if child.proc is not None:
            child.proc.stdout.close()
        else:
            os.close(child.fd)
        del self.running[child.fd]
        data = bytes(child.buf)
        if child.ready:
            data = data[2:]
        payload = None
        if timed_out is None and data:
            try:
                payload = json.loads(data)
            except ValueError:
                payload = None
        code, sig = child.status
        death = None if payload is not None else _death_message(code, sig, child.out,
                                                                timed_out)
        child.out.close()
        self.results[child.key] = (payload, death)

    @staticmethod
    def drain(child: _Child) -> None:
        os.set_blocking(child.fd, False)
        while True:
            try:
                chunk = os.read(child.fd, 65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            child.buf += chunk


# The process that asked for the probes, and whether this server leads a process group of
# its own (``run_tasks`` starts it with a new session). When the parent is gone (pytest
# killed by SIGTERM or SIGKILL, no chance to clean up), the server kills its whole group:
# no probe outlives the run (SPEC 12). Zygotes watch the server the same way.
_PARENT = os.getppid()
_OWN_GROUP = False


def _orphaned() -> None:
    """Our parent died without cleaning up: end every process of the probe group."""
    if _OWN_GROUP:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(1)


# --------------------------------------------------------------------------- scheduling


def _recording():
    cm = warnings.catch_warnings(record=True)
    log = cm.__enter__()
    warnings.resetwarnings()
    warnings.simplefilter("always")
    if getattr(warnings, "_showwarnmsg_impl", None) == log.append:
        # Each warning also records which module raised it (``_about``).
        def record(msg: warnings.WarningMessage, _append=log.append) -> None:
            try:
                msg._ssot_raiser = _raiser()  # type: ignore[attr-defined]
            except BaseException:  # noqa: BLE001 - then it counts as before
                pass
            _append(msg)

        warnings._showwarnmsg_impl = record  # type: ignore[attr-defined]
    return cm, log


def _task_body(task: dict, pre: BaseException | None = None, pre_ms: float = 0.0):
    def body(w: int) -> None:
        # Inherited from a zygote, ``_LOG`` already holds the parent import's warnings.
        log = _LOG if _LOG is not None else _recording()[1]
        result = _run_task(task, log, pre, pre_ms)
        _write_all(w, json.dumps(result, default=str).encode())
    return body


_LOG: list | None = None


def _zygote_body(parent: str, tasks: list[tuple[str, dict]], timeout: float, limit: int):
    def body(w: int) -> None:
        global _LOG, _PARENT
        _PARENT = os.getppid()  # the server: a zygote ends with it
        _cm, _LOG = _recording()
        t0 = time.perf_counter()
        pre: BaseException | None = None
        try:
            importlib.import_module(parent)
        except BaseException as e:  # noqa: BLE001 - each task answers as it would fresh
            pre = e
        pre_ms = (time.perf_counter() - t0) * 1000
        _write_all(w, b"R\n")
        if pre is not None:
            answers = {key: (_run_task(task, list(_LOG), pre, pre_ms), None)
                       for key, task in tasks}
        else:
            left = max(0.05, timeout - pre_ms / 1000)
            answers = _pool([(key, _bind_fork(key, _task_body(task, None, pre_ms), left), timeout)
                             for key, task in tasks], limit)
        _write_all(w, json.dumps({k: list(v) for k, v in answers.items()}).encode())
    return body


def _bind_fork(key, body, timeout):
    return lambda: _start_forked(key, body, timeout)


def _bind_spawn(key, task, timeout):
    return lambda: _start_spawned(key, {"task": task, "sys_path": sys.path}, timeout)


def run(tasks: list[dict], timeout: float, limit: int) -> list[dict]:
    """Run every task in a fresh state; return one result dict per task, in order."""
    results: dict[str, dict] = {}
    keyed = [(str(i), t) for i, t in enumerate(tasks)]
    if not _HAS_FORK:
        got = _pool([(k, _bind_spawn(k, t, timeout), timeout) for k, t in keyed], limit)
        for k, (payload, death) in got.items():
            results[k] = payload if payload is not None else {"died": death}
        return [results[k] for k, _ in keyed]

    groups: dict[str, list[tuple[str, dict]]] = {}
    for k, t in keyed:
        groups.setdefault(t.get("preimport") or "", []).append((k, t))
    starters = []
    zygotes: dict[str, list[tuple[str, dict]]] = {}
    for parent, members in groups.items():
        if parent and len(members) > 1:
            zkey = "z:" + parent
            zygotes[zkey] = members
            starters.append((zkey, _bind_fork(zkey, _zygote_body(parent, members, timeout,
                                                                 limit), timeout), timeout))
        else:
            starters.extend((k, _bind_fork(k, _task_body(t), timeout), timeout)
                            for k, t in members)
    ready: set = set()
    got = _pool(starters, limit,
                on_ready_timeout=lambda zkey: timeout * (len(zygotes[zkey]) + 1) + 5,
                ready_keys=ready)
    # A zygote that died after importing the parent package was killed by one of its
    # tasks (``os.kill(os.getppid(), ...)``), not by the import they share: ask each of
    # its tasks again from a fresh fork, so only the culprit loses its answer.
    again = [(k, t) for zkey in zygotes if zkey in ready and got[zkey][0] is None
             for k, t in zygotes[zkey]]
    if again:
        for zkey in {z for z in zygotes if z in ready and got[z][0] is None}:
            del zygotes[zkey], got[zkey]
        got.update(_pool([(k, _bind_fork(k, _task_body(t), timeout), timeout)
                          for k, t in again], limit))
    for key, (payload, death) in got.items():
        if key in zygotes:
            for k, _t in zygotes[key]:
                if payload is None:
                    results[k] = {"died": death}
                else:
                    sub_payload, sub_death = payload[k]
                    results[k] = sub_payload if sub_payload is not None else {"died": sub_death}
        else:
            results[key] = payload if payload is not None else {"died": death}
    return [results[k] for k, _ in keyed]


def main() -> int:
    global _OWN_GROUP
    _OWN_GROUP = hasattr(os, "getpgrp") and os.getpgrp() == os.getpid()
    request = json.loads(sys.stdin.buffer.read() or b"{}")
    sys.path[:] = request.get("sys_path") or sys.path
    importlib.invalidate_caches()
    if "--one" in sys.argv:
        out = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        _cm, log = _recording()
        result = _run_task(request["task"], log)
        _write_all(out, json.dumps(result, default=str).encode())
        return 0
    answer = run(request["tasks"], float(request.get("timeout", 30)),
                 int(request.get("parallel") or os.cpu_count() or 1))
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
