"""The probe server's tasks: what a forked (or spawned) child does with one request.

A sibling script of ``_server.py``, not a module of the ``pytest_ssot`` package: the server
loads it by its file (``_server._sibling``), never through ``sys.path``, under a name no
import statement can spell, and not in ``sys.modules``, so that no project module can
collide with it and no probe sees it. Standard library only, like the server.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import time
import traceback
import warnings

_DEPRECATION = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
_TAIL = 600
# The files whose frames are the server's own (``_raiser`` looks past them): this one, and
# ``_server.py``, which adds itself when it loads this file.
_OUR_FILES = {__file__}


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
    obj = _probe_import(module, attr, pre, pre_ms, res)
    # Which of the watched modules (declared shims) resolving this path loaded: taken
    # before the identity check below imports the canonical (deletion readiness, SPEC 6).
    res["loaded"] = [m for m in task.get("watch") or () if m in sys.modules]
    _probe_warnings(task, log, module, attr, obj, res)
    if res["verdict"] is None:
        res["verdict"] = "warns" if res["warning"] else "resolves"
    canonical = task.get("canonical")
    if canonical and res["verdict"] in ("resolves", "warns"):
        _probe_identity(canonical, module, attr, obj, res)
    return res


def _probe_import(module: str, attr: str | None, pre: BaseException | None, pre_ms: float,
                  res: dict):
    """Import ``module`` and read ``attr`` as ``from module import attr`` does; the object,
    or None with ``res``'s verdict (absent, broken) said."""
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
    return obj


def _probe_warnings(task: dict, log: list, module: str, attr: str | None, obj: object,
                    res: dict) -> None:
    """The path's deprecation warning (SPEC 12), else the first unrelated one; a factory's
    PEP 702 mark; the first warnings recorded."""
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


def _probe_identity(canonical: dict, module: str, attr: str | None, obj: object,
                    res: dict) -> None:
    """Is the path the canonical object (or, a module entry, does it re-export it)?"""
    if canonical["module"] == module and canonical.get("attr") == attr:
        res["is_canonical"] = True
        # where the object is defined: a class/def of that name there is no second one
        where = getattr(obj, "__module__", None) if attr is not None else None
        res["defined_in"] = where if isinstance(where, str) else None
        return
    try:
        canon = _resolve(canonical["module"], canonical.get("attr"))
    except BaseException:  # noqa: BLE001 - the canonical check reports it
        return
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
        if name not in ("warnings", "_py_warnings") and f.f_code.co_filename not in _OUR_FILES:
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
