"""The discovery probe: which modules of a package serve a given object, and how.

Executed as a script (``python _discover.py``), never imported as part of ``pytest_ssot``:
like ``_server.py`` (whose process machinery it reuses, imported as the sibling script it
is), it holds nothing but the standard library before the project's code is imported. It
reads one JSON request on stdin and writes one JSON answer on stdout:

    {"canonical": {"module": M, "attr": A}, "sys_path": [...], "timeout": T, "parallel": N}

1. One child resolves the canonical object and lists every module of its top-level package.
2. Every module is then imported in a child of its own (forked from a process that imported
   its parent package, see ``_server``), never after another module of the list: a module
   that raises, calls ``sys.exit``, ``os._exit``, hangs or kills its interpreter is one
   entry in the answer's failures, not the end of the discovery. Each child reports:

   - the module-level names bound to the very object (``is``), and which are in ``__all__``;
   - the names its ``__getattr__`` (PEP 562) serves as the object: the canonical name, the
     names in ``__all__`` and ``__dir__()`` that are not plain attributes;
   - the deprecation warnings raised while the module's own top-level code ran (warnings
     raised by other modules it imports are not its own), and those raised when a lazy
     name was accessed;
   - its shape: a package ``__init__``, whether it defines classes or functions of its own,
     and whether it binds a different class or function under the canonical name.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import os
import sys
import warnings

import _server  # the sibling script: sys.path[0] is this folder when run as a script

_DEPRECATION = _server._DEPRECATION
_MAX_LAZY_NAMES = 200  # names asked of one module's __getattr__ (a generated __all__ is long)


def _object_kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj):
        return "function"
    if inspect.ismodule(obj):
        return "module"
    return type(obj).__name__


def _task_scope(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    """Resolve the canonical object; list the modules of its top-level package."""
    canonical = task["canonical"]
    try:
        canon = _server._resolve(canonical["module"], canonical.get("attr"))
    except BaseException as e:  # noqa: BLE001 - reported, the discovery cannot go on
        return {"error": _server._fmt_exc(e), "where": _server._last_frame(e)}
    kind = _object_kind(canon)
    top = canonical["module"].split(".")[0]
    listing = _server._task_enumerate({"scope": [top], "canonical": canonical}, log, None, 0.0)
    return {"kind": kind, "defined_in": getattr(canon, "__module__", None),
            "qualname": getattr(canon, "__qualname__", None),
            "modules": listing.get("modules", []), "errors": listing.get("errors", [])}


class _Attribution:
    """Records every deprecation warning with the module it belongs to.

    Installed as ``warnings.showwarning`` (filters are "always"), so it sees each warning
    as it is emitted. Its owner is the innermost module of the discovered package on the
    stack, starting at the caller of ``warnings.warn``: a shim's own top-level
    ``warnings.warn`` belongs to the shim, a package ``__getattr__`` that warns while a
    module runs ``from pkg import Old`` belongs to the package, and a warning helper from
    another library belongs to the package module that called it. The warning's location
    cannot tell: ``stacklevel=2`` names the importer.
    """

    def __init__(self, package: str) -> None:
        self.package = package
        self.records: list[tuple[str, str, str | None]] = []

    def _owner(self) -> str | None:
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_globals.get("__name__") or ""
            if name == self.package or name.startswith(self.package + "."):
                return name
            frame = frame.f_back
        return None

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        if isinstance(category, type) and issubclass(category, _DEPRECATION):
            self.records.append((category.__name__, str(message)[:_server._TAIL],
                                 self._owner()))

    def take(self) -> list[tuple[str, str, str | None]]:
        out, self.records = self.records, []
        return out


def _assigned(node: ast.AST, out: list) -> None:
    """The names a module-level assignment binds (``X = Y``, ``X = Y = Z``, ``A, B = ...``,
    ``X: T = Y``): an explicit alias, as opposed to a name an import binds."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return
    stack = list(targets)
    while stack:
        t = stack.pop()
        if isinstance(t, ast.Name):
            out.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            stack.extend(t.elts)
        elif isinstance(t, ast.Starred):
            stack.append(t.value)


def _defines_code(mod: object) -> tuple[bool | None, list | None, str | None]:
    """Does the module's source define classes or functions of its own (other than the
    PEP 562 hooks)? And the names its module-level assignments bind. ``None`` when there
    is no Python source to read."""
    spec = getattr(mod, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(mod, "__file__", None)
    if not origin or not str(origin).endswith(".py"):
        return None, None, None
    try:
        with open(origin, "rb") as fh:
            source = importlib.util.decode_source(fh.read())
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError, UnicodeError) as exc:
        return None, None, f"{type(exc).__name__}: {exc}"
    assigned: list = []

    def names(body: list) -> None:
        for node in body:
            _assigned(node, assigned)
            for field in ("body", "orelse", "finalbody"):
                if isinstance(node, (ast.If, ast.Try)) and getattr(node, field, None):
                    names(getattr(node, field))
            if isinstance(node, ast.Try):
                for h in node.handlers:
                    names(h.body)

    names(tree.body)

    def walk(body: list) -> bool:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name not in ("__getattr__", "__dir__"):
                    return True
            elif isinstance(node, ast.ClassDef):
                return True
            elif isinstance(node, ast.If):
                if walk(node.body) or walk(node.orelse):
                    return True
            elif isinstance(node, ast.Try):
                if walk(node.body) or walk(node.orelse) or walk(node.finalbody) or any(
                        walk(h.body) for h in node.handlers):
                    return True
        return False

    return walk(tree.body), sorted(set(assigned)), None


def _task_module(task: dict, log: list, pre: BaseException | None, pre_ms: float) -> dict:
    """Import one module in this fresh state and say how it serves the object."""
    module = task["module"]
    canonical = task["canonical"]
    name = canonical["attr"]
    hook = _Attribution(canonical["module"].split(".")[0])
    # Warnings raised while the zygote imported the parent package are in ``log`` already:
    # they count for the path's verdict ("importing it warns"), never as this module's own.
    inherited = [(w.category.__name__, str(w.message)[:_server._TAIL]) for w in log
                 if isinstance(w.category, type) and issubclass(w.category, _DEPRECATION)]
    warnings.showwarning = hook
    if pre is not None:
        return {"error": f"its parent package fails: {_server._fmt_exc(pre)}",
                "where": _server._last_frame(pre)}
    try:
        mod = importlib.import_module(module)
    except BaseException as e:  # noqa: BLE001 - listed, not fatal
        return {"error": _server._fmt_exc(e), "where": _server._last_frame(e)}
    at_import = hook.take()
    own = [[c, m] for c, m, owner in at_import if owner == module]
    any_warning = [[c, m] for c, m, _owner in at_import] + [list(w) for w in inherited]
    try:
        canon = _server._resolve(canonical["module"], canonical.get("attr"))
    except BaseException as e:  # noqa: BLE001
        return {"error": "the canonical path does not resolve after importing it: "
                         + _server._fmt_exc(e)}
    namespace = dict(vars(mod))
    try:
        exported = [n for n in (getattr(mod, "__all__", ()) or ()) if isinstance(n, str)]
    except Exception:  # noqa: BLE001 - a strange __all__ is not ours to judge
        exported = []
    bound = [[n, n in exported] for n, v in namespace.items() if v is canon]

    lazy: list[list] = []
    lazy_errors: list[list[str]] = []
    if callable(namespace.get("__getattr__")):
        asked = [name] + exported
        if callable(namespace.get("__dir__")):
            try:
                asked += [n for n in namespace["__dir__"]() if isinstance(n, str)]
            except Exception:  # noqa: BLE001 - a failing __dir__ only hides names
                pass
        seen: set[str] = set()
        for n in asked:
            if n in namespace or n in seen or len(seen) >= _MAX_LAZY_NAMES:
                continue
            seen.add(n)
            try:
                value = getattr(mod, n)
            except BaseException as e:  # noqa: BLE001 - the name is simply not served
                if n == name and not isinstance(e, AttributeError):
                    lazy_errors.append([n, _server._fmt_exc(e)])
                hook.take()
                continue
            got = hook.take()
            if value is canon:
                lazy.append([n, n in exported, [[c, m] for c, m, _o in got]])

    other = namespace.get(name)
    second = (other is not None and other is not canon
              and (inspect.isclass(other) or inspect.isroutine(other))
              and getattr(other, "__module__", None) == module)
    defines, assigned, source_error = _defines_code(mod)
    return {"bound": bound, "lazy": lazy, "lazy_errors": lazy_errors, "own_warnings": own,
            "warnings": any_warning, "package": hasattr(mod, "__path__"),
            "defines_code": defines, "assigned": assigned, "source_error": source_error,
            "second_implementation": bool(second)}


_server._TASKS["discover_scope"] = _task_scope
_server._TASKS["discover_module"] = _task_module
# Where forking is impossible each task runs in ``python <this script> --one``.
_server._SCRIPT = os.path.abspath(__file__)


def main() -> int:
    if "--one" in sys.argv:
        return _server.main()
    request = json.loads(sys.stdin.buffer.read() or b"{}")
    sys.path[:] = request.get("sys_path") or sys.path
    importlib.invalidate_caches()
    timeout = float(request.get("timeout", 30))
    limit = int(request.get("parallel") or os.cpu_count() or 1)
    canonical = request["canonical"]
    if "modules" in request:  # asked again for these only (one of them killed the probe)
        scope = {"modules": request["modules"]}
    else:
        [scope] = _server.run([{"kind": "discover_scope", "canonical": canonical,
                                "preimport": ""}], timeout, limit)
    answer: dict = {"scope": scope, "modules": {}}
    if "modules" in scope and not request.get("only_scope"):
        tasks = [{"kind": "discover_module", "module": m, "canonical": canonical,
                  "preimport": m.rpartition(".")[0]} for m in scope["modules"]]
        for task, result in zip(tasks, _server.run(tasks, timeout, limit)):
            answer["modules"][task["module"]] = result
    sys.stdout.write(json.dumps(answer, default=str))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
