"""The recorder and its hooks: counting hits per (path, caller, context), finding the
caller, watching modules (the meta-path finder, the switched module class, the wrapped
PEP 562 ``__getattr__``), and turning a recorder on and off in this process."""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any, Sequence

from .watches import Watch


def _stdlib_dirs() -> tuple[str, ...]:
    # Where ``os`` and a C extension module live (sysconfig costs milliseconds to import).
    dirs = {os.path.dirname(os.__file__)}
    dynload = getattr(sys.modules.get("_json"), "__file__", None)
    if dynload:
        dirs.add(os.path.dirname(os.path.dirname(dynload)))
    return tuple(os.path.normcase(os.path.abspath(d)) + os.sep for d in dirs if d)


# The whole pytest_ssot package (this module is its census/recorder.py): no caller of ours counts.
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
