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
import inspect
import json
import os
import selectors
import signal
import sys
import tempfile
import time
import traceback
import warnings

_DEPRECATION = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
# PYTEST_SSOT_PROBE_SPAWN=1 forces the no-fork path (tests; platforms without fork use it).
_HAS_FORK = hasattr(os, "fork") and not os.environ.get("PYTEST_SSOT_PROBE_SPAWN")
_TAIL = 600
# The script a spawned task runs (``--one``); ``_discover.py`` reuses this machinery and
# points it at itself, so that its own task kinds exist in the spawned interpreter.
_SCRIPT = os.path.abspath(__file__)


# --------------------------------------------------------------------------- helpers


def _fmt_exc(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, SystemExit):
        text = f"exit code {exc.code!r}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _last_frame(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return None
    return f"{last.tb_frame.f_code.co_filename}:{last.tb_lineno}"


def _category_names(cat: type) -> set[str]:
    names = set()
    for klass in getattr(cat, "__mro__", ()):
        names.add(f"{klass.__module__}:{klass.__qualname__}")
    return names


def _is_package(mod) -> bool:
    """``hasattr(mod, "__path__")`` that a module-level ``__getattr__`` cannot break:
    ``hasattr`` lets anything but ``AttributeError`` through (an ``ImportError`` saying a
    name was removed, a ``RuntimeError``), which would end the whole task."""
    try:
        return hasattr(mod, "__path__")
    except BaseException:  # noqa: BLE001 - the module's own __getattr__ answered oddly
        return False


def _resolve(module: str, attr: str | None):
    """Resolve a path the way ``from module import attr`` does; raises on failure."""
    mod = importlib.import_module(module)
    if attr is None:
        return mod
    try:
        return getattr(mod, attr)
    except AttributeError:
        if not _is_package(mod):
            raise
        sub = importlib.import_module(f"{module}.{attr}")
        return getattr(mod, attr, sub)


def _is_deprecation(category: type, extra: list[str]) -> bool:
    if issubclass(category, _DEPRECATION):
        return True
    if not extra:
        return False
    names = _category_names(category)
    for path in extra:
        if path in names:
            return True
        module, _, attr = path.partition(":")
        try:  # a re-exported category: resolve it (the probe is already decided)
            klass = getattr(importlib.import_module(module), attr)
        except BaseException:
            continue
        if isinstance(klass, type) and issubclass(category, klass):
            return True
    return False


# --------------------------------------------------------------------------- tasks
# Each task function runs in a child. ``log`` is the list that records warnings (filters
# "always"); ``pre`` is the exception raised while a zygote imported the parent package.


def _task_probe(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    module, attr = task["module"], task.get("attr")
    res: dict = {"verdict": None, "error": None, "reason": None, "warning": None,
                 "warning_category": None, "is_canonical": None, "exports_canonical": None,
                 "import_ms": None, "where": None}
    obj = None
    exc = pre
    t0 = time.perf_counter()
    mod = None
    if exc is None:
        try:
            mod = importlib.import_module(module)
        except BaseException as e:  # noqa: BLE001 - every failure is a verdict
            exc = e
    res["import_ms"] = round((time.perf_counter() - t0) * 1000 + pre_ms, 3)
    if exc is not None:
        name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if name and (name == module or module.startswith(name + ".")):
            res["verdict"] = "absent"
            res["reason"] = f"no module named {name!r}"
        else:
            res["verdict"] = "broken"
            res["error"] = _fmt_exc(exc)
            res["where"] = _last_frame(exc)
    elif attr is None:
        obj = mod
    else:
        try:
            obj = getattr(mod, attr)
        except AttributeError:
            sub = f"{module}.{attr}"
            if _is_package(mod):
                try:
                    importlib.import_module(sub)
                    obj = getattr(mod, attr, None) or sys.modules[sub]
                except ModuleNotFoundError as e2:
                    if e2.name == sub:
                        res["verdict"] = "absent"
                        res["reason"] = (f"module {module!r} has no attribute {attr!r} "
                                         f"and no submodule {attr!r}")
                    else:
                        res["verdict"], res["error"] = "broken", _fmt_exc(e2)
                        res["where"] = _last_frame(e2)
                except BaseException as e2:  # noqa: BLE001
                    res["verdict"], res["error"] = "broken", _fmt_exc(e2)
                    res["where"] = _last_frame(e2)
            else:
                res["verdict"] = "absent"
                res["reason"] = f"module {module!r} has no attribute {attr!r}"
        except ImportError as e:
            if "__getattr__" in vars(mod):
                res["verdict"] = "absent"
                res["reason"] = f"{module}.__getattr__ raised {_fmt_exc(e)}"
            else:
                res["verdict"], res["error"] = "broken", _fmt_exc(e)
                res["where"] = _last_frame(e)
        except BaseException as e:  # noqa: BLE001
            res["verdict"], res["error"] = "broken", _fmt_exc(e)
            res["where"] = _last_frame(e)

    # Which of the watched modules (declared shims) resolving this path loaded: taken
    # before the identity check below imports the canonical (deletion readiness, SPEC 6).
    res["loaded"] = [m for m in task.get("watch") or () if m in sys.modules]

    recorded = list(log)
    extra = task.get("categories") or []
    for w in recorded:
        if not _is_deprecation(w.category, extra):
            continue
        if _about(w, module, attr, canonical=task.get("canonical")):
            res["warning"] = str(w.message)
            res["warning_category"] = w.category.__name__
            break
        if res.get("unrelated_warning") is None:  # said when the path resolves silently
            res["unrelated_warning"] = f"{w.category.__name__}: {str(w.message)[:_TAIL]}"
            res["unrelated_by"] = getattr(w, "_ssot_raiser", None)
    if (task.get("factory") and res["warning"] is None and res["verdict"] is None
            and attr is not None):
        _factory_warning(obj, res)
    res["warnings"] = [[w.category.__name__, str(w.message)[:_TAIL]] for w in recorded[:20]]
    if res["verdict"] is None:
        res["verdict"] = "warns" if res["warning"] else "resolves"

    canonical = task.get("canonical")
    if canonical and res["verdict"] in ("resolves", "warns"):
        if canonical["module"] == module and canonical.get("attr") == attr:
            res["is_canonical"] = True
            # where the object is defined: a class/def of that name there is no second one
            where = getattr(obj, "__module__", None) if attr is not None else None
            res["defined_in"] = where if isinstance(where, str) else None
        else:
            try:
                canon = _resolve(canonical["module"], canonical.get("attr"))
            except BaseException:  # noqa: BLE001 - the canonical check reports it
                canon = None
            else:
                if attr is None and canonical.get("attr"):
                    # A module entry: the question is whether it re-exports the object.
                    # A module whose __getattr__ raises (ImportError: "moved") does
                    # not re-export the object; its verdict is already decided.
                    try:
                        exported = getattr(obj, canonical["attr"], None)
                    except BaseException:  # noqa: BLE001
                        exported = None
                    res["exports_canonical"] = exported is canon
                else:
                    res["is_canonical"] = obj is canon
    return res


def _about(w: warnings.WarningMessage, module: str, attr: str | None,
           canonical: dict | None) -> bool:
    """A warning counts as the path's only when it is about the path (SPEC 12): raised by
    the legacy module's own code (its body, its ``__getattr__``, its submodules), or naming
    the legacy path or the canonical. Another module's deprecation raised while the shim
    imports it (``import asyncore``) is not a deprecation of the shim."""
    if not hasattr(w, "_ssot_raiser"):
        return True  # no stack was seen (another Python's warnings machinery): as before
    raiser = w._ssot_raiser  # type: ignore[attr-defined]
    if isinstance(raiser, str) and (raiser == module or raiser.startswith(module + ".")):
        return True
    text = str(w.message)
    names = [module]  # (an attribute's module too: "numpy.core.multiarray is deprecated")
    if canonical:
        c_mod, c_attr = canonical["module"], canonical.get("attr")
        names += [c_mod] if c_attr is None else [f"{c_mod}.{c_attr}", f"{c_mod}:{c_attr}"]
    return any(n in text for n in names)


def _factory_warning(obj: object, res: dict) -> None:
    """PEP 702: a factory marked ``@deprecated`` (``warnings.deprecated``,
    ``typing_extensions.deprecated``) warns when called; its ``__deprecated__`` says so
    without calling it (a call could have side effects). One that calls ``warn`` in its
    body is noted: its warning cannot be seen without calling it."""
    try:
        message = getattr(obj, "__deprecated__", None)
    except BaseException:  # noqa: BLE001 - an odd object: no declaration
        message = None
    if isinstance(message, str):
        res["warning"] = message
        res["warning_category"] = "DeprecationWarning (@deprecated)"
        res["verdict"] = "warns"
        return
    code = getattr(getattr(obj, "__init__", None) if isinstance(obj, type) else obj,
                   "__code__", None)
    if code is not None and "warn" in code.co_names:
        res["warns_when_called"] = True


def _raiser() -> str | None:
    """The module whose code called ``warnings.warn``: the innermost frame that is not
    the warnings machinery's nor this server's."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_globals.get("__name__")
        if name not in ("warnings", "_py_warnings") and f.f_code.co_filename != __file__:
            return name if isinstance(name, str) else None
        f = f.f_back
    return None


def _task_enumerate(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    """List the modules of the alias scope, and say whether aliases make sense."""
    import importlib.machinery
    import importlib.util

    canonical = task["canonical"]
    try:
        canon = _resolve(canonical["module"], canonical.get("attr"))
    except BaseException as e:  # noqa: BLE001
        return {"skip": f"the canonical path does not resolve ({_fmt_exc(e)})"}
    if not (inspect.isclass(canon) or inspect.isroutine(canon) or inspect.ismodule(canon)):
        return {"skip": f"the canonical object is a {type(canon).__name__}, not a class, "
                        "function or module: identity means nothing for it"}
    suffixes = tuple(importlib.machinery.SOURCE_SUFFIXES + importlib.machinery.EXTENSION_SUFFIXES)
    modules: list[str] = []
    errors: list[dict] = []
    for pkg in task["scope"]:
        try:
            spec = importlib.util.find_spec(pkg)
        except BaseException as e:  # noqa: BLE001
            errors.append({"module": pkg, "error": _fmt_exc(e)})
            continue
        if spec is None:
            errors.append({"module": pkg, "error": "not found on sys.path"})
            continue
        modules.append(pkg)
        for location in spec.submodule_search_locations or ():
            for dirpath, dirnames, filenames in os.walk(location):
                rel = os.path.relpath(dirpath, location)
                parts = [] if rel == "." else rel.split(os.sep)
                dirnames[:] = sorted(d for d in dirnames
                                     if d.isidentifier() and d != "__pycache__")
                if parts:
                    modules.append(".".join([pkg, *parts]))
                for fn in sorted(filenames):
                    if not fn.endswith(suffixes):
                        continue
                    stem = fn.split(".", 1)[0]
                    if stem in ("__init__", "__main__") or not stem.isidentifier():
                        continue
                    modules.append(".".join([pkg, *parts, stem]))
    seen = set()
    unique = [m for m in modules if not (m in seen or seen.add(m))]
    return {"modules": unique, "errors": errors}


def _task_alias_module(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    module = task["module"]
    if pre is not None:
        return {"error": _fmt_exc(pre)}
    try:
        mod = importlib.import_module(module)
    except BaseException as e:  # noqa: BLE001 - listed, not fatal
        return {"error": _fmt_exc(e)}
    canonical = task["canonical"]
    try:
        canon = _resolve(canonical["module"], canonical.get("attr"))
    except BaseException as e:  # noqa: BLE001
        return {"error": f"canonical path does not resolve after importing it: {_fmt_exc(e)}"}
    try:
        exported = set(getattr(mod, "__all__", ()) or ())
    except BaseException:  # noqa: BLE001 - a strange __all__ is not ours to judge
        exported = set()
    found = [[name, name in exported] for name, value in list(vars(mod).items())
             if value is canon]
    return {"found": found}


def _task_same(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    """Which names of module ``target`` are the very object ``module:attr``? (the codemod)"""
    if pre is not None:
        return {"error": _fmt_exc(pre)}
    try:
        obj = _resolve(task["module"], task.get("attr"))
    except BaseException as e:  # noqa: BLE001
        return {"error": _fmt_exc(e)}
    if not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)):
        return {"error": f"it is a {type(obj).__name__}, not a class, function or module: "
                         "identity proves nothing"}
    try:
        target = importlib.import_module(task["target"])
    except BaseException as e:  # noqa: BLE001
        return {"error": f"the canonical module fails to import: {_fmt_exc(e)}"}
    return {"names": sorted(n for n, v in list(vars(target).items()) if v is obj)}


_TASKS = {"probe": _task_probe, "enumerate": _task_enumerate, "alias_module": _task_alias_module,
          "same": _task_same}


def _run_task(task: dict, log: list, pre: BaseException | None = None,
              pre_ms: float = 0.0) -> dict:
    try:
        return _TASKS[task["kind"]](task, log, pre, pre_ms)
    except BaseException:  # noqa: BLE001 - our own bug: report it, loudly
        return {"internal_error": traceback.format_exc()}


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
    pending = list(reversed(starters))
    running: dict[int, _Child] = {}
    results: dict = {}
    sel = selectors.DefaultSelector()

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

    def finish(child: _Child, timed_out: float | None = None) -> None:
        sel.unregister(child.fd)
        if timed_out is not None:
            try:
                if child.proc is not None:
                    child.proc.kill()
                else:
                    os.kill(child.pid, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass
        if child.status is None:
            reap(child, block=True)
        if child.proc is not None:
            child.proc.stdout.close()
        else:
            os.close(child.fd)
        del running[child.fd]
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
        results[child.key] = (payload, death)

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

    timeouts: dict[int, float] = {}
    while pending or running:
        if os.getppid() != _PARENT:
            _orphaned()
        while pending and len(running) < limit:
            key, start, timeout = pending.pop()
            child = start()
            running[child.fd] = child
            timeouts[child.fd] = timeout
            sel.register(child.fd, selectors.EVENT_READ, child)
        now = time.monotonic()
        wait = min((c.deadline for c in running.values()), default=now + 1) - now
        events = sel.select(timeout=max(0.0, min(wait, 0.2)))
        for key, _ in events:
            child = key.data
            try:
                chunk = os.read(child.fd, 65536)
            except OSError:
                chunk = b""
            if chunk:
                child.buf += chunk
                if not child.ready and child.buf.startswith(b"R\n") and on_ready_timeout:
                    child.ready = True
                    if ready_keys is not None:
                        ready_keys.add(child.key)
                    child.deadline = time.monotonic() + on_ready_timeout(child.key)
            else:
                finish(child)
        if not events:
            # Exited, but something it started still holds the pipe open: take what it
            # wrote and move on.
            for child in list(running.values()):
                if reap(child, block=False):
                    drain(child)
                    finish(child)
        now = time.monotonic()
        for child in list(running.values()):
            if now >= child.deadline:
                finish(child, timed_out=timeouts[child.fd])
    sel.close()
    return results


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
