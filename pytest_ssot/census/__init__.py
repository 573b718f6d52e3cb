"""Runtime census: which callers still reach a legacy or factory path, counted where it runs.

Standard library only, importable without pytest: a service enables it at start-up with

    import pytest_ssot.census
    pytest_ssot.census.install(path="ssot-census.jsonl")

and the test session uses the same recorder (``census_plugin.py``). What counts as a *hit*:

- the import of a declared legacy or factory module (a meta-path finder placed first on
  ``sys.meta_path``: silent shims count too, not only the ones that warn);
- an attribute read that a watched module serves: any public name of a legacy or factory
  module, and the declared name ``A`` of a ``module:A`` entry (the module's class is
  switched to a subclass whose ``__getattribute__`` notes the read; the module's own code
  reads its globals directly and is not slowed).

The caller is the first frame outside the shim, pytest-ssot, importlib and the standard
library, as ``file:line`` (relative to the project root, or to ``site-packages``).
Nothing here raises into the application: a failure inside the census costs the hit, never
the import or the attribute. Memory is bounded (``max_callers`` distinct callers per path,
then an overflow count), updates hold a lock, and a forked child starts with empty counts
(its parent's hits are the parent's to write).

Census files are JSON lines; every line carries ``schema`` and ``project`` so that a file
from another project or a newer version is recognised and skipped by ``read_census``.
"""

from __future__ import annotations

import atexit
import json
import os
import stat
import sys
import threading
import time
import types
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["SCHEMA", "install", "uninstall", "flush", "Recorder", "Watch", "read_census",
           "CensusMerge", "project_identity", "find_pyproject", "watches_from_contracts"]

SCHEMA_NAME = "pytest-ssot-census"
SCHEMA_VERSION = 1
SCHEMA = f"{SCHEMA_NAME}/{SCHEMA_VERSION}"
OVERFLOW = "<other callers>"
_UNSET: Any = object()


class Watch:
    """One declared path the census watches: ``pkg.mod`` (a module) or ``pkg.mod:A``."""

    __slots__ = ("path", "contract", "role", "module", "attr")

    def __init__(self, path: str, contract: str, role: str) -> None:
        self.path, self.contract, self.role = path, contract, role
        self.module, _, attr = path.partition(":")
        self.attr = attr or None

    def __repr__(self) -> str:
        return f"Watch({self.path!r}, {self.contract!r}, {self.role!r})"


# ---------------------------------------------------------------- contracts and identity

def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.pytest-ssot]`` table, upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        try:
            if b"pytest-ssot" in candidate.read_bytes():
                return candidate
        except OSError:
            continue
    return None


def _toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: tomli when it is there
        import tomli as tomllib  # type: ignore[no-redef]
    with open(path, "rb") as f:
        return tomllib.load(f)


def project_identity(pyproject: Path | None) -> str:
    """What names a project in census files: ``[project] name``, else its folder's name."""
    if pyproject is None:
        return ""
    try:
        name = _toml(pyproject).get("project", {}).get("name")
    except Exception:
        name = None
    return name if isinstance(name, str) and name else pyproject.parent.name


def watches_from_contracts(contracts: Iterable[Any]) -> list[Watch]:
    """Watches from contract tables as ``[tool.pytest-ssot]`` has them (mappings), from
    ``Contract`` objects, or from plain path strings (legacy paths of one contract)."""
    out: list[Watch] = []
    for c in contracts:
        if isinstance(c, str):
            out.append(Watch(c, "", "legacy"))
            continue
        if isinstance(c, Mapping):
            name, legacy, factories = (c.get("name", ""), c.get("legacy", ()),
                                       c.get("factories", ()))
        else:
            name, legacy, factories = c.name, c.legacy, c.factories
        for role, entries in (("legacy", legacy), ("factory", factories)):
            for e in entries:
                if isinstance(e, Mapping):
                    e = e.get("path")
                if e is not None and str(e):
                    out.append(Watch(str(e), str(name), role))
    return out


# ---------------------------------------------------------------- callers

def _stdlib_dirs() -> tuple[str, ...]:
    # Where ``os`` and a C extension module live (sysconfig costs milliseconds to import).
    dirs = {os.path.dirname(os.__file__)}
    dynload = getattr(sys.modules.get("_json"), "__file__", None)
    if dynload:
        dirs.add(os.path.dirname(os.path.dirname(dynload)))
    return tuple(os.path.normcase(os.path.abspath(d)) + os.sep for d in dirs if d)


# The whole pytest_ssot package (this module is its census/__init__.py): no caller of ours counts.
_OWN_DIR = os.path.normcase(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep

# The warnings machinery skips frames whose file name holds "importlib" and "_bootstrap"
# (that is how importlib's own frames stay out of a ``stacklevel``). The census's wrappers
# carry such a name, so a shim's ``stacklevel=2`` warning still names the user's line and
# a filter by module (``error::DeprecationWarning:app.views``) still matches.
_TRANSPARENT = "<pytest_ssot.census wrapper, transparent like importlib._bootstrap>"


def _transparent(func: Any) -> Any:
    func.__code__ = func.__code__.replace(co_filename=_TRANSPARENT)
    return func


class Recorder:
    """Counts hits per (path, caller, context) in memory. Thread-safe; bounded."""

    def __init__(self, watches: Sequence[Watch], *, root: Path | None = None,
                 max_callers: int = 256, project: str = "",
                 bound_attributes: bool = True) -> None:
        self.project = project
        # ``module:A`` entries whose ``A`` is bound in the module's namespace (a plain
        # re-export) are seen only by switching the module's class, which makes every read
        # of that module's attributes cost ~0.3 us: the test run does, a service may.
        self.bound_attributes = bound_attributes
        self.root = (os.path.normcase(str(root.resolve())) + os.sep) if root else None
        self.max_callers = max(1, int(max_callers))
        self.imports: dict[str, Watch] = {}        # module name -> watch (import = hit)
        self.served: dict[str, dict[str, Watch]] = {}  # module -> attr ("*": any) -> watch
        for w in watches:
            if w.attr is None:
                self.imports.setdefault(w.module, w)
                self.served.setdefault(w.module, {}).setdefault("*", w)
            else:
                self.imports.setdefault(f"{w.module}.{w.attr}", w)  # a submodule entry
                self.served.setdefault(w.module, {}).setdefault(w.attr, w)
        self.context: str | None = None
        self.paused = False  # pytest-ssot's own checks are not callers
        self.counts: dict[tuple[str, str, str | None], list[Any]] = {}
        self.callers: dict[str, set[str]] = {}
        self.overflow: dict[str, int] = {}
        self.watch_by_path = {w.path: w for w in watches}
        self.lock = threading.Lock()
        self._skip_cache: dict[str, bool] = {}
        self._where_cache: dict[str, str] = {}
        self._shim_files: set[str] = set()
        self._stdlib = _stdlib_dirs()
        self.modules: dict[int, tuple[types.ModuleType, dict[str, Watch]]] = {}

    # -- where a hit comes from

    def _skipped(self, filename: str) -> bool:
        skip = self._skip_cache.get(filename)
        if skip is None:
            norm = os.path.normcase(os.path.abspath(filename)) if filename[:1] != "<" else ""
            skip = (filename.startswith("<frozen") or filename == _TRANSPARENT
                    or norm.startswith(_OWN_DIR)
                    or norm in self._shim_files
                    or (norm.startswith(self._stdlib) and "-packages" + os.sep not in norm))
            self._skip_cache[filename] = skip
        return skip

    def caller(self, frame: types.FrameType | None) -> str:
        while frame is not None and self._skipped(frame.f_code.co_filename):
            frame = frame.f_back
        return self._format((frame.f_code.co_filename, frame.f_lineno) if frame else ("", 0))

    def where(self, filename: str) -> str:
        norm = os.path.normcase(os.path.abspath(filename)) if filename[:1] != "<" else filename
        if self.root and norm.startswith(self.root):
            return Path(os.path.abspath(filename)).relative_to(self.root.rstrip(os.sep)
                                                                ).as_posix()
        for marker in ("site-packages", "dist-packages"):
            i = norm.rfind(marker + os.sep)
            if i >= 0:
                return os.path.abspath(filename)[i + len(marker) + 1:].replace(os.sep, "/")
        return filename.replace(os.sep, "/")

    # -- counting

    def hit(self, watch: Watch, frame: types.FrameType | None) -> None:
        if self.paused:
            return
        skip = self._skip_cache
        while frame is not None:
            code = frame.f_code
            skipped = skip.get(code.co_filename)
            if skipped is None:
                skipped = self._skipped(code.co_filename)
            if not skipped:
                break
            frame = frame.f_back
        # The caller is kept as (file, line) and formatted when counts are taken.
        caller = (code.co_filename, frame.f_lineno) if frame is not None else ("", 0)
        key = (watch.path, caller, self.context)
        with self.lock:
            entry = self.counts.get(key)
            if entry is not None:
                # No clock read here: a repeated hit was last seen before this window's
                # end, which ``take`` stamps (within one flush interval).
                entry[0] += 1
                return
            seen = self.callers.setdefault(watch.path, set())
            if caller not in seen and len(seen) >= self.max_callers:
                self.overflow[watch.path] = self.overflow.get(watch.path, 0) + 1
                return
            seen.add(caller)
            now = time.time()
            self.counts[key] = [1, now, now]

    def _format(self, caller: tuple[str, int]) -> str:
        filename, line = caller
        if not filename:
            return "<unknown>"
        where = self._where_cache.get(filename)
        if where is None:
            where = self._where_cache[filename] = self.where(filename)
        return f"{where}:{line}"

    def take(self) -> tuple[dict[tuple[str, str, str | None], list[Any]], dict[str, int]]:
        """The counts since the last take, ``(path, "file:line", context) -> [count,
        first, last]``, and reset (the caller set stays: the cap holds for the process)."""
        with self.lock:
            counts, overflow = self.counts, self.overflow
            self.counts, self.overflow = {}, {}
        now = time.time()
        out: dict[tuple[str, str, str | None], list[Any]] = {}
        for (path, caller, ctx), entry in counts.items():
            if entry[0] > 1:
                entry[2] = now
            key = (path, self._format(caller), ctx)
            got = out.get(key)
            if got is None:
                out[key] = entry
            else:  # two code objects of one file share a name: one caller
                got[0] += entry[0]
                got[1], got[2] = min(got[1], entry[1]), max(got[2], entry[2])
        return out, overflow

    def reset_after_fork(self) -> None:
        self.lock = threading.Lock()
        self.counts, self.overflow = {}, {}
        self.callers = {}

    # -- watching modules

    def watch_module(self, module: types.ModuleType) -> None:
        name = getattr(module, "__name__", None)
        attrs = self.served.get(name) if isinstance(name, str) else None
        if attrs is None:
            return
        f = getattr(module, "__file__", None)
        if isinstance(f, str) and "*" in attrs:  # a shim's own frames are not callers
            self._shim_files.add(os.path.normcase(os.path.abspath(f)))
            self._skip_cache.clear()
        if id(module) in self.modules:
            return
        self.modules[id(module)] = (module, attrs)
        _WATCHED.setdefault(id(module), []).append((self, attrs))
        if "*" not in attrs and not self.bound_attributes:
            # Only the names a PEP 562 ``__getattr__`` serves (a shim's lazy entries):
            # reads of the module's other names, often a canonical module's, cost nothing.
            _wrap_module_getattr(module)
            return
        cls = type(module)
        if not isinstance(cls, type) or not issubclass(cls, types.ModuleType):
            return
        if getattr(cls, "_ssot_census", False):
            return
        try:
            module.__class__ = _census_class(cls)
        except TypeError:
            pass  # a module class that cannot be switched: its imports still count

    def unwatch_modules(self) -> None:
        for key, (module, _) in self.modules.items():
            hooks = [h for h in _WATCHED.get(key, ()) if h[0] is not self]
            if hooks:
                _WATCHED[key] = hooks
                continue
            _WATCHED.pop(key, None)
            _unwrap_module_getattr(module)
            cls = type(module)
            if getattr(cls, "_ssot_census", False):
                try:
                    module.__class__ = cls.__mro__[1]
                except TypeError:
                    pass
        self.modules.clear()


_ACTIVE: list[Recorder] = []  # the recorders installed in this process (test run, service)
_CLASSES: dict[type, type] = {}
# id(module) -> [(recorder, attr -> watch)]: what a watched module's attribute reads count
_WATCHED: dict[int, list[tuple[Recorder, dict[str, Watch]]]] = {}


def _wrap_module_getattr(module: types.ModuleType) -> None:
    inner = module.__dict__.get("__getattr__")
    if not callable(inner) or getattr(inner, "_ssot_census", False):
        return
    key = id(module)

    @_transparent
    def __getattr__(name: str) -> Any:
        value = inner(name)  # its AttributeError is the caller's, as before
        try:
            for rec, attrs in _WATCHED.get(key, ()):
                w = attrs.get(name)
                if w is not None:
                    rec.hit(w, sys._getframe(1))
        except Exception:
            pass
        return value

    __getattr__._ssot_census = inner  # type: ignore[attr-defined]
    module.__dict__["__getattr__"] = __getattr__


def _unwrap_module_getattr(module: types.ModuleType) -> None:
    mine = module.__dict__.get("__getattr__")
    inner = getattr(mine, "_ssot_census", None)
    if inner is not None and inner is not True:
        module.__dict__["__getattr__"] = inner


def _census_class(base: type) -> type:
    cls = _CLASSES.get(base)
    if cls is not None:
        return cls
    base_get = base.__getattribute__
    watched = _WATCHED

    @_transparent
    def __getattribute__(self: types.ModuleType, name: str) -> Any:
        if name[:2] != "__":
            hooks = watched.get(id(self))
            if hooks:
                try:
                    for rec, attrs in hooks:
                        w = attrs.get(name) or attrs.get("*")
                        if w is not None:
                            rec.hit(w, sys._getframe(1))
                except Exception:
                    pass
        return base_get(self, name)

    cls = type(base.__name__, (base,), {"__getattribute__": __getattribute__,
                                        "_ssot_census": True, "__module__": base.__module__})
    _CLASSES[base] = cls
    return cls


class _Finder:
    """First on ``sys.meta_path``: notes the first import of a watched module, then lets the
    other finders find it; the loader's ``exec_module`` is wrapped (on the instance) so the
    module is watched once it has run."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not _ACTIVE:
            return None
        watched = False
        for rec in _ACTIVE:
            w = rec.imports.get(fullname)
            if w is not None:
                try:
                    rec.hit(w, sys._getframe(1))
                except Exception:
                    pass
            watched = watched or fullname in rec.served
        if not watched:
            return None
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    _wrap_loader(spec)
                    return spec
        except Exception:
            return None  # the machinery asks the others itself, and raises what they raise
        return None

    def invalidate_caches(self) -> None:
        pass


def _wrap_loader(spec: Any) -> None:
    loader = spec.loader
    if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
        return
    inner = loader.exec_module
    if getattr(inner, "_ssot_census", False):
        return

    @_transparent
    def exec_module(module: types.ModuleType) -> None:
        inner(module)
        try:
            for rec in _ACTIVE:
                rec.watch_module(module)
        except Exception:
            pass

    exec_module._ssot_census = True  # type: ignore[attr-defined]
    try:
        loader.exec_module = exec_module
    except Exception:
        pass


_FINDER = _Finder()


def activate(rec: Recorder) -> None:
    """Start counting for ``rec`` in this process (watch what is loaded already)."""
    _ACTIVE.append(rec)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name in list(rec.served):
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType):
            rec.watch_module(module)


def deactivate(rec: Recorder) -> None:
    if rec in _ACTIVE:
        _ACTIVE.remove(rec)
    rec.unwatch_modules()
    if not _ACTIVE and _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


# ---------------------------------------------------------------- every import statement

class ImportWatch:
    """Counts every import statement and ``importlib.import_module`` call that names a
    watched path, cached module or not (the test-time census: a test that imports a
    legacy module another test loaded first still counts). Not used by the production
    service: a wrapped ``__import__`` slows every function-level import of a process."""

    def __init__(self, rec: Recorder) -> None:
        import builtins
        import importlib

        self.rec = rec
        self._builtins, self._importlib = builtins, importlib
        self._orig_import = builtins.__import__
        self._orig_import_module = importlib.import_module

    def start(self) -> None:
        orig, orig_module, rec = self._orig_import, self._orig_import_module, self.rec

        @_transparent
        def __import__(name: str, globals: Any = None, locals: Any = None,
                       fromlist: Any = (), level: int = 0) -> Any:
            module = orig(name, globals, locals, fromlist, level)
            try:
                self.note(name, globals, fromlist, level, sys._getframe(1))
            except Exception:
                pass
            return module

        @_transparent
        def import_module(name: str, package: str | None = None) -> Any:
            module = orig_module(name, package)
            try:
                self.note(getattr(module, "__name__", name), None, (), 0, sys._getframe(1))
            except Exception:
                pass
            return module

        import functools

        functools.update_wrapper(import_module, orig_module)
        self._builtins.__import__ = __import__
        self._importlib.import_module = import_module
        self._mine = (__import__, import_module)

    def stop(self) -> None:
        if getattr(self, "_mine", None) is None:
            return
        if self._builtins.__import__ is self._mine[0]:
            self._builtins.__import__ = self._orig_import
        if self._importlib.import_module is self._mine[1]:
            self._importlib.import_module = self._orig_import_module
        self._mine = None

    def note(self, name: str, globals: Any, fromlist: Any, level: int,
             frame: types.FrameType | None) -> None:
        rec = self.rec
        if level:
            package = (globals or {}).get("__package__") or ""
            parts = package.rsplit(".", level - 1) if level > 1 else [package]
            base = parts[0]
            name = f"{base}.{name}" if name else base
        seen = set()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # `import a.b.c` is also an import of a.b
            w = rec.imports.get(".".join(parts[:i]))
            if w is not None and w.path not in seen:
                seen.add(w.path)
                rec.hit(w, frame)
        for item in fromlist or ():
            if not isinstance(item, str) or item == "*":
                continue
            w = rec.imports.get(f"{name}.{item}") or rec.served.get(name, {}).get(item)
            if w is not None and w.path not in seen:
                seen.add(w.path)
                rec.hit(w, frame)


# ---------------------------------------------------------------- the production service

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


# ---------------------------------------------------------------- reading census files

class CensusMerge:
    """Hits merged from census files: per (path, caller) ``count``, ``last_seen``."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], dict[str, Any]] = {}
        self.files: list[str] = []
        self.skipped: list[tuple[str, str]] = []  # (file, why): never merged
        self.notes: list[tuple[str, str]] = []

    def add(self, rec: Mapping[str, Any], source: str) -> None:
        key = (rec["path"], rec["caller"])
        got = self.hits.get(key)
        if got is None:
            self.hits[key] = {"path": rec["path"], "contract": rec.get("contract", ""),
                              "caller": rec["caller"], "count": rec["count"],
                              "first_seen": rec["first_seen"], "last_seen": rec["last_seen"],
                              "sources": [source]}
            return
        got["count"] += rec["count"]
        got["first_seen"] = min(got["first_seen"], rec["first_seen"])
        got["last_seen"] = max(got["last_seen"], rec["last_seen"])
        if source not in got["sources"]:
            got["sources"].append(source)

    def by_path(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for h in sorted(self.hits.values(), key=lambda h: (h["path"], -h["count"], h["caller"])):
            out.setdefault(h["path"], []).append(h)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "pytest-ssot-census-merge/1", "files": self.files,
                "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
                "notes": [{"file": f, "note": n} for f, n in self.notes],
                "paths": {p: [{k: h[k] for k in ("caller", "count", "first_seen",
                                                  "last_seen", "contract")}
                              for h in hs] for p, hs in self.by_path().items()}}


_HIT_FIELDS = {"path": str, "caller": str, "count": int, "first_seen": str, "last_seen": str}


def _schema_problem(rec: Mapping[str, Any], project: str | None) -> str | None:
    schema = rec.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_NAME + "/"):
        return "not a pytest-ssot census file"
    version = schema.rpartition("/")[2]
    if not version.isdigit():
        return f"unknown census schema {schema!r}"
    if int(version) > SCHEMA_VERSION:
        return (f"written by a newer pytest-ssot ({schema}; this one reads {SCHEMA}): "
                "upgrade pytest-ssot to read it")
    if project is not None and rec.get("project") != project:
        return (f"from another project ({rec.get('project')!r}, this is {project!r})")
    return None


def _read_one(path: Path, project: str | None) -> tuple[list[dict[str, Any]] | None, str,
                                                        list[str]]:
    """(hit records, or None when the file is skipped; the reason; notes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}", []
    if not data.strip():
        return None, "empty: no census record (truncated?)", []
    lines = data.split(b"\n")
    ends_clean = data.endswith(b"\n")
    if ends_clean:
        lines.pop()
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    parsed: list[Any] = []
    for raw in lines:
        try:
            parsed.append(json.loads(raw))
        except ValueError:
            parsed.append(None)
    for i, rec in enumerate(parsed):
        last = i == len(parsed) - 1
        if rec is None:
            following = parsed[i + 1] if not last else None
            # A kill mid-flush leaves one partial line: last in the file, or followed by
            # the start record of the next process (whose writer began a fresh line).
            if last and not ends_clean or (isinstance(following, dict)
                                           and following.get("kind") == "start"):
                if i == 0:
                    return None, "truncated: its first record is incomplete", notes
                notes.append(f"line {i + 1} is incomplete (a flush was cut off): skipped")
                continue
            return None, f"damaged: line {i + 1} is not a census record", notes
        if not isinstance(rec, dict):
            return None, f"damaged: line {i + 1} is not a census record", notes
        problem = _schema_problem(rec, project)
        if problem is not None:
            return None, problem, notes
        if i == 0 and rec.get("kind") != "start":
            return None, "truncated: it does not begin with a census start record", notes
        if rec.get("kind") == "hits":
            if not all(isinstance(rec.get(k), t) for k, t in _HIT_FIELDS.items()) \
                    or isinstance(rec.get("count"), bool) or rec["count"] < 0:
                return None, f"damaged: line {i + 1} is not a census record", notes
            records.append(rec)
    return records, "", notes


def not_a_census_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a census file (said for what it is), or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a census file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a FIFO, a device or a socket), not a census file"
    return None


def read_census(paths: Iterable[str | os.PathLike[str]], project: str | None = None
                ) -> CensusMerge:
    """Merge census files. A file that is truncated, damaged, from another ``project``
    (when given) or from a newer version is skipped whole and listed in ``skipped``: it is
    never merged as zero hits. A partial last line (a kill mid-flush) is a note."""
    merge = CensusMerge()
    for p in paths:
        path = Path(p)
        records, why, notes = _read_one(path, project)
        for n in notes:
            merge.notes.append((str(p), n))
        if records is None:
            merge.skipped.append((str(p), why))
            continue
        merge.files.append(str(p))
        for rec in records:
            merge.add(rec, str(p))
    return merge


def census_lines(merge: CensusMerge, limit: int | None = None) -> list[str]:
    """The terminal's view of a merge: hits per legacy path and caller."""
    out = []
    for f, why in merge.skipped:
        out.append(f"census file skipped: {f}: {why}")
    for f, note in merge.notes:
        out.append(f"census note: {f}: {note}")
    for path, hits in merge.by_path().items():
        total = sum(h["count"] for h in hits)
        out.append(f"{path}: {total} hit(s) from {len(hits)} caller(s)")
        for h in hits[:limit] if limit else hits:
            out.append(f"  {h['caller']}: {h['count']} (last seen {h['last_seen']})")
        if limit and len(hits) > limit:
            out.append(f"  ... {len(hits) - limit} more caller(s)")
    if not merge.hits and not merge.skipped:
        out.append("no runtime hits on legacy paths")
    return out

