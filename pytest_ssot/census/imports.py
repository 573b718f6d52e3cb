"""The test-time census of import statements: every ``import`` and ``importlib.import_module``
that names a watched path, whether the module was loaded before or not."""

from __future__ import annotations

import sys
import types
from typing import Any

from .recorder import Recorder, _transparent


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

