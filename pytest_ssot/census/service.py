"""The production service: ``install``, ``flush``, ``uninstall``; a timer thread appends
the counts to a JSON-lines file (and/or an OpenTelemetry counter), after a fork the child
starts afresh, at exit the last counts are written."""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

from .recorder import Recorder, activate, deactivate
from .watches import OVERFLOW, SCHEMA, _toml, find_pyproject, project_identity, \
    watches_from_contracts

_UNSET: Any = object()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class _Service:
    def __init__(self, rec: Recorder, path: Path | None, interval: float,
                 counter: Any) -> None:
        self.rec, self.path, self.interval, self.counter = rec, path, interval, counter
        self.started = False
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.flush_lock = threading.Lock()
        self.failures = 0
        # The counts of a flush that could not be written (a full disk): the next flush
        # writes them, so a census file never silently lacks a window's hits.
        self.pending: tuple[dict[Any, list[Any]], dict[str, int]] | None = None

    def start_timer(self) -> None:
        if self.interval <= 0:
            return
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ssot-census", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self.flush()

    def lines(self, counts: Mapping[tuple[str, str, str | None], list[Any]],
              overflow: Mapping[str, int]) -> list[str]:
        base = {"schema": SCHEMA, "project": self.rec.project, "pid": os.getpid()}
        out = []
        if not self.started:
            out.append(json.dumps({**base, "kind": "start", "time": _iso(time.time()),
                                   "paths": sorted(self.rec.watch_by_path)}))
        for (path, caller, _ctx), (n, first, last) in counts.items():
            w = self.rec.watch_by_path.get(path)
            out.append(json.dumps({**base, "kind": "hits", "path": path,
                                   "contract": w.contract if w else "", "caller": caller,
                                   "count": n, "first_seen": _iso(first),
                                   "last_seen": _iso(last)}))
        for path, n in overflow.items():
            w = self.rec.watch_by_path.get(path)
            out.append(json.dumps({**base, "kind": "hits", "path": path,
                                   "contract": w.contract if w else "", "caller": OVERFLOW,
                                   "count": n, "first_seen": _iso(time.time()),
                                   "last_seen": _iso(time.time())}))
        return out

    def flush(self) -> None:
        try:
            with self.flush_lock:
                counts, overflow = self.rec.take()
                if self.counter is not None:
                    for (path, caller, _ctx), (n, _f, _l) in counts.items():
                        w = self.rec.watch_by_path.get(path)
                        self.counter.add(n, {"ssot.path": path, "ssot.caller": caller,
                                             "ssot.contract": w.contract if w else ""})
                    for path, n in overflow.items():
                        self.counter.add(n, {"ssot.path": path, "ssot.caller": OVERFLOW})
                if self.path is None:
                    return
                if self.pending is not None:
                    counts, overflow = _merged(self.pending, (counts, overflow))
                    self.pending = None
                if self.started and not counts and not overflow:
                    return
                try:
                    self._append(self.lines(counts, overflow))
                except BaseException:
                    self.pending = (counts, overflow)
                    raise
                self.started = True
        except Exception:
            self.failures += 1  # never into the application; the next flush tries again

    def _append(self, lines: list[str]) -> None:
        assert self.path is not None
        data = ("\n".join(lines) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a flush cut off before us: its line stays alone
            # One write (a kill leaves at most this last line partial); a short one (a
            # disk filling up) goes on, and a failure leaves the counts to the next flush.
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(fd, view):]
            except BaseException:
                try:  # what was written of it goes: its counts are written again
                    os.ftruncate(fd, size)
                except OSError:
                    pass
                raise
        finally:
            os.close(fd)

    def after_fork_in_child(self) -> None:
        self.rec.reset_after_fork()
        self.pending = None  # the parent's to write
        self.flush_lock = threading.Lock()
        self.started = False
        if self.thread is not None:
            self.start_timer()


def _merged(a: tuple[dict[Any, list[Any]], dict[str, int]],
            b: tuple[dict[Any, list[Any]], dict[str, int]]
            ) -> tuple[dict[Any, list[Any]], dict[str, int]]:
    counts = {k: list(v) for k, v in a[0].items()}
    for key, (n, first, last) in b[0].items():
        got = counts.get(key)
        if got is None:
            counts[key] = [n, first, last]
        else:
            got[0] += n
            got[1], got[2] = min(got[1], first), max(got[2], last)
    overflow = dict(a[1])
    for path, n in b[1].items():
        overflow[path] = overflow.get(path, 0) + n
    return counts, overflow


_SERVICE: _Service | None = None
_FORK_HOOKED = False


def _after_fork() -> None:
    try:
        if _SERVICE is not None:
            _SERVICE.after_fork_in_child()
    except Exception:
        pass


def _at_exit() -> None:
    if _SERVICE is not None:
        _SERVICE.flush()


def install(path: str | os.PathLike[str] | None = _UNSET, *,
            contracts: Sequence[Any] | None = None, pyproject: str | os.PathLike[str] | None = None,
            project: str | None = None, interval: float = 60.0, max_callers: int = 256,
            otel: bool = False, meter_provider: Any = None,
            bound_attributes: bool = False) -> bool:
    """Start the production census in this process; returns whether it is counting.

    ``path``: the JSON-lines file (default ``ssot-census.jsonl``; ``None``: no file).
    ``contracts``: contract tables or legacy paths; default: the nearest ``pyproject.toml``
    with ``[tool.pytest-ssot]`` (or ``pyproject``). ``otel=True`` (or a ``meter_provider``)
    also adds each flush to the OpenTelemetry counter ``ssot.census.hits``, with the
    attributes ``ssot.path``, ``ssot.caller`` and ``ssot.contract``; with ``otel`` and no
    ``path`` given, nothing is written to a file. Never raises: a problem is one warning.
    """
    global _SERVICE, _FORK_HOOKED
    try:
        if _SERVICE is not None:
            uninstall()
        use_otel = bool(otel) or meter_provider is not None
        if path is _UNSET:
            path = None if use_otel else "ssot-census.jsonl"
        found = Path(pyproject) if pyproject is not None else find_pyproject()
        if contracts is None:
            if found is None:
                warnings.warn("pytest-ssot census: no pyproject.toml with [tool.pytest-ssot] "
                              "found and no contracts given; nothing is counted",
                              RuntimeWarning, stacklevel=2)
                return False
            data = _toml(found)
            table = data.get("tool", {}).get("pytest-ssot", {})
            contracts = table.get("contracts", []) if isinstance(table, dict) else []
            name = data.get("project", {}).get("name")
            if project is None and isinstance(name, str) and name:
                project = name
        watches = watches_from_contracts(contracts or [])
        root = found.parent if found is not None else Path.cwd()
        rec = Recorder(watches, root=root, max_callers=max_callers,
                       project=project if project is not None else project_identity(found),
                       bound_attributes=bound_attributes)
        counter = None
        if use_otel:
            try:
                if meter_provider is None:
                    from opentelemetry import metrics

                    meter_provider = metrics.get_meter_provider()
                meter = meter_provider.get_meter("pytest_ssot.census")
                counter = meter.create_counter(
                    "ssot.census.hits", unit="1",
                    description="runtime resolutions of legacy or factory paths")
            except Exception as exc:
                warnings.warn(f"pytest-ssot census: OpenTelemetry unavailable ({exc}); "
                              "install the 'otel' extra", RuntimeWarning, stacklevel=2)
        target = Path(path).resolve() if path is not None else None
        if target is not None:
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666))
            except OSError as exc:
                warnings.warn(f"pytest-ssot census: cannot write {target}: "
                              f"{exc.strerror or exc}; hits are counted but not written",
                              RuntimeWarning, stacklevel=2)
                target = None
        service = _Service(rec, target, interval, counter)
        _SERVICE = service
        activate(rec)
        if not _FORK_HOOKED:
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_after_fork)
            atexit.register(_at_exit)
            _FORK_HOOKED = True
        service.start_timer()
        return True
    except Exception as exc:  # the census never stops the service it counts
        try:
            warnings.warn(f"pytest-ssot census not installed: {exc}", RuntimeWarning,
                          stacklevel=2)
        except Exception:
            pass
        return False


def flush() -> None:
    """Write (or add to the counter) what was counted since the last flush."""
    if _SERVICE is not None:
        _SERVICE.flush()


def uninstall() -> None:
    """Flush, stop counting and restore the watched modules (tests, shutdown)."""
    global _SERVICE
    service, _SERVICE = _SERVICE, None
    if service is None:
        return
    service.stop.set()
    service.flush()
    deactivate(service.rec)
