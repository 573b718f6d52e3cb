"""A corpus of small projects, each with its own tests, for `pytest-ssot fix`: a legacy
module (four shim styles: re-export, module ``__getattr__``, star re-export, ``__all__``)
and code and tests that use it in the ways that depend on binding time: patches
(``monkeypatch``, ``mock.patch`` strings, ``patch.object``, ``setattr``/``delattr``),
reloads, ``TYPE_CHECKING`` blocks, string annotations, circular and conditional imports,
star imports and ``__all__`` edits. ``projects()`` gives ``{path: text}`` for one tree
holding every project (each a package ``pN`` with tests in ``tests/pN``) and its
pyproject; the projects share nothing, so one scan, one fix and one test run serve all."""

from __future__ import annotations

import textwrap

SHIMS = {
    "reexport": "from {p}.engine import Engine, make\n",
    "getattr": """
        __all__ = ["Engine", "make"]


        def __getattr__(name):
            if name in ("Engine", "make"):
                from {p} import engine
                return getattr(engine, name)
            raise AttributeError(name)
    """,
    "star": "from {p}.engine import *\n",
    "all": 'from {p}.engine import Engine, make\n\n__all__ = ["Engine", "make"]\n',
}

ENGINE = """
    __all__ = ["Engine", "make"]


    class Engine:
        kind = "real"


    def make(**kw):
        return Engine()
"""

# feature -> (app module, its test); {p}: the package, {m}: the app module's name
FEATURES = {
    "monkeypatch_late_read": ("""
        import {p}.legacy as lg


        def build():
            return lg.Engine()
    """, """
        import {p}.legacy as lg
        from {p} import {m}


        def test_patch_reaches_the_late_read(monkeypatch):
            class Fake:
                kind = "fake"

            monkeypatch.setattr(lg, "Engine", Fake)
            assert {m}.build().kind == "fake"


        def test_unpatched():
            assert {m}.build().kind == "real"
    """),
    "string_patch": ("""
        from {p} import legacy


        def build():
            return legacy.Engine()
    """, """
        from unittest import mock

        from {p} import {m}


        def test_string_patch():
            with mock.patch("{p}.legacy.Engine") as fake:
                {m}.build()
            assert fake.called
    """),
    "reload": ("""
        import {p}.legacy


        def cls():
            return {p}.legacy.Engine
    """, """
        import importlib

        import {p}.legacy
        from {p} import {m}


        def test_reload_keeps_reads_consistent():
            importlib.reload({p}.legacy)
            assert {m}.cls() is {p}.legacy.Engine
            assert {m}.cls()().kind == "real"
    """),
    "type_checking": ("""
        from __future__ import annotations

        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            import {p}.legacy as lgt
            from {p}.legacy import Engine


        def use(e: Engine) -> "lgt.Engine":
            return e
    """, """
        from {p} import {m}


        def test_type_checking_only():
            assert {m}.use(1) == 1
    """),
    "circular": ("""
        from {p}.legacy import Engine
        from {p} import helper_{m}


        def build():
            return helper_{m}.wrap(Engine())
    """, """
        from {p} import {m}


        def test_circular():
            assert {m}.build() == ("{p}.{m}", "real")
    """),
    "conditional": ("""
        import sys

        try:
            from {p}.legacy import make
        except ImportError:  # pragma: no cover
            make = None
        if sys.version_info >= (3,):
            import {p}.legacy as cl
        else:  # pragma: no cover
            cl = None


        def build():
            return make(), cl.Engine
    """, """
        from {p} import {m}


        def test_conditional():
            obj, cls = {m}.build()
            assert obj.kind == "real" and isinstance(obj, cls)
    """),
    "star_import": ("""
        from {p}.legacy import *


        def build():
            return Engine()
    """, """
        from {p} import {m}


        def test_star():
            assert {m}.build().kind == "real"
    """),
    "string_annotations": ("""
        import {p}.legacy as lg


        def f(x: "lg.Engine") -> "lg.Engine":
            return x
    """, """
        import typing

        import {p}.engine
        from {p} import {m}


        def test_annotations_resolve():
            assert typing.get_type_hints({m}.f)["x"] is {p}.engine.Engine
    """),
    "all_edits": ("""
        from {p}.legacy import Engine
        from {p}.legacy import make

        __all__ = ["Engine"]
        __all__.append("make")
    """, """
        import {p}.engine
        import {p}.{m} as api


        def test_all():
            assert set(api.__all__) == {{"Engine", "make"}}
            assert api.Engine is {p}.engine.Engine and api.make is {p}.engine.make
    """),
    "getattr_and_patch_object": ("""
        import {p}.legacy as lg


        def build():
            return getattr(lg, "make")()
    """, """
        from unittest import mock

        import {p}.legacy as lg
        from {p} import {m}


        def test_patch_object():
            with mock.patch.object(lg, "make") as fake:
                {m}.build()
            fake.assert_called_once()
    """),
    "setattr_restore": ("""
        import {p}.legacy as lg


        def kind():
            return lg.Engine.kind
    """, """
        import {p}.legacy as lg
        from {p} import {m}


        def test_setattr_then_restore():
            old = lg.Engine

            class Other:
                kind = "other"

            setattr(lg, "Engine", Other)
            try:
                assert {m}.kind() == "other"
            finally:
                setattr(lg, "Engine", old)
            assert {m}.kind() == "real"
    """),
    "plain_chain_shortened": ("""
        import {p}


        def build():
            return {p}.legacy.make(a=1,
                                  b=2)
    """, """
        import {p}.legacy
        from {p} import {m}


        def test_plain_chain():
            assert {m}.build().kind == "real"
    """),
}

# two features per project, each shim style with each pair: 24 projects
PAIRS = [("monkeypatch_late_read", "circular"), ("string_patch", "type_checking"),
         ("reload", "conditional"), ("star_import", "string_annotations"),
         ("all_edits", "getattr_and_patch_object"), ("setattr_restore", "plain_chain_shortened")]


def projects() -> dict[str, str]:
    files: dict[str, str] = {}
    contracts = []
    n = 0
    for shim in SHIMS:
        for pair in PAIRS:
            p = f"p{n:02d}"
            n += 1
            files[f"{p}/__init__.py"] = ""
            files[f"{p}/engine.py"] = textwrap.dedent(ENGINE)
            files[f"{p}/legacy.py"] = textwrap.dedent(SHIMS[shim]).format(p=p)
            files[f"tests/{p}/__init__.py"] = ""
            for feature in pair:
                m = f"app_{feature}"
                app, test = FEATURES[feature]
                files[f"{p}/{m}.py"] = textwrap.dedent(app).format(p=p, m=m)
                files[f"tests/{p}/test_{feature}.py"] = textwrap.dedent(test).format(p=p, m=m)
                if feature == "circular":
                    files[f"{p}/helper_{m}.py"] = (
                        f"from {p} import {m}\n\n\ndef wrap(e):\n"
                        f"    return ({m}.__name__, e.kind)\n")
            contracts.append(f'[[tool.pytest-ssot.contracts]]\nname = "{p}"\n'
                             f'canonical = "{p}.engine:Engine"\nlegacy = ["{p}.legacy"]\n'
                             f'factories = ["{p}.legacy:make"]\n'
                             f'replacements = {{"{p}.legacy:make" = "{p}.engine:make"}}\n')
    files["tests/__init__.py"] = ""
    files["pyproject.toml"] = ('[tool.pytest-ssot]\npaths = ["."]\n\n' + "\n".join(contracts))
    return files
