"""The probe core: every verdict rule of SPEC 3, fork and spawn, zygotes, real shims."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ORDER_PACKAGE, VERDICT_PACKAGE, write_tree
from pytest_ssot.domain.paths import parse_path
from pytest_ssot.probe import probe_paths

CANON = parse_path("pkg.canon:Canon")

# path -> (verdict, text expected in the evidence, is_canonical)
EXPECTED = {
    "pkg.canon:Canon": ("resolves", None, True),
    "pkg:Old": ("warns", "pkg.Old is deprecated", True),
    "pkg:Gone": ("absent", "pkg.Gone was removed", None),
    "pkg:Boom": ("broken", "RuntimeError: lazy attribute exploded", None),
    "pkg:Nope": ("absent", "no attribute 'Nope' and no submodule 'Nope'", None),
    "pkg.shim": ("warns", "pkg.shim is deprecated", None),
    "pkg.shim:Canon": ("warns", "pkg.shim is deprecated", True),
    "pkg.silent:Canon": ("resolves", None, True),
    "pkg.second:Canon": ("resolves", None, False),
    "pkg.future": ("warns", "going away", None),
    "pkg.pending": ("warns", "soon", None),
    "pkg.userwarn": ("resolves", None, None),
    "pkg.lazywarn": ("resolves", None, None),
    "pkg.lazywarn:Canon": ("warns", "access pkg.lazywarn.Canon", True),
    "pkg.needsdep": ("broken", "No module named 'not_installed_dependency_xyz'", None),
    "pkg.ownimporterror": ("broken", "ImportError: cannot configure the legacy manager", None),
    "pkg.exits": ("broken", "exited with code 3", None),
    "pkg.sysexit": ("broken", "SystemExit: exit code 2", None),
    "pkg.killed": ("broken", "killed by signal SIGKILL", None),
    "pkg.syntax": ("broken", "SyntaxError", None),
    "pkg.noisy": ("resolves", None, None),
    "pkg.sub:mod": ("resolves", None, False),
    "pkg.sub:nothing": ("absent", "no submodule 'nothing'", None),
    "pkg.missing": ("absent", "no module named 'pkg.missing'", None),
    "nopkg_xyz.sub": ("absent", "no module named 'nopkg_xyz'", None),
    "pkg.canon:Missing": ("absent", "has no attribute 'Missing'", None),
    "pkg.brokenparent.child": ("broken", "RuntimeError: parent package fails", None),
    "pkg.brokenparent:child": ("broken", "RuntimeError: parent package fails", None),
    "orderpkg.shimsub": ("resolves", None, None),
    "orderpkg:shimsub": ("absent", "shimsub was removed", None),
    "orderpkg:other": ("absent", "other was removed", None),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("proj")
    write_tree(root, {**VERDICT_PACKAGE, **ORDER_PACKAGE})
    return [str(root), *sys.path]


def _evidence(v) -> str:
    return " ".join(str(x) for x in (v.warning, v.error, v.reason) if x)


@pytest.fixture(params=["fork", "spawn"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "spawn":
        monkeypatch.setenv("PYTEST_SSOT_PROBE_SPAWN", "1")
    return request.param


def test_every_verdict_rule(project: list[str], mode: str) -> None:
    paths = [parse_path(p) for p in EXPECTED]
    verdicts = probe_paths(paths, sys_path=project, timeout=10, canonical=CANON)
    got = {v.path: v for v in verdicts}
    for path, (verdict, evidence, identical) in EXPECTED.items():
        v = got[path]
        assert v.verdict == verdict, (path, v)
        if evidence:
            assert evidence in _evidence(v), (path, v)
        assert v.is_canonical is identical, (path, v)


def test_timeout_is_broken_and_bounded(project: list[str]) -> None:
    v, ok = probe_paths([parse_path("pkg.hang"), parse_path("pkg.sub.mod")],
                        sys_path=project, timeout=1.5)
    assert v.verdict == "broken"
    assert "timed out" in v.error and "1.5 s" in v.error
    assert ok.verdict == "resolves"


def test_module_entry_reports_reexport_not_identity(project: list[str]) -> None:
    shim, second = probe_paths([parse_path("pkg.shim"), parse_path("pkg.second")],
                               sys_path=project, timeout=10, canonical=CANON)
    assert shim.is_canonical is None and shim.exports_canonical is True
    assert second.is_canonical is None and second.exports_canonical is False


def test_extra_deprecation_category(project: list[str]) -> None:
    plain, = probe_paths([parse_path("pkg.userwarn")], sys_path=project, timeout=10)
    declared, = probe_paths([parse_path("pkg.userwarn")], sys_path=project, timeout=10,
                            categories=[parse_path("pkg.userwarn:MovedWarning")])
    assert plain.verdict == "resolves"
    assert plain.warnings == (("MovedWarning", "moved"),)
    assert declared.verdict == "warns" and declared.warning_category == "MovedWarning"


@pytest.mark.parametrize("env", ["ignore", "error", "ignore::DeprecationWarning"])
def test_warning_filters_of_the_session_do_not_matter(project: list[str], env: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONWARNINGS", env)
    v, = probe_paths([parse_path("pkg.shim")], sys_path=project, timeout=10)
    assert v.verdict == "warns"


def test_canonical_import_time_is_recorded(project: list[str]) -> None:
    v, = probe_paths([CANON], sys_path=project, timeout=10, canonical=CANON)
    assert v.import_ms is not None and 0 <= v.import_ms < 10_000


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(sorted(EXPECTED)), min_size=1, max_size=8))
def test_batching_never_changes_a_verdict(project: list[str], chosen: list[str]) -> None:
    """Shared parent processes and batch order give the answer a lone probe gives."""
    paths = [parse_path(p) for p in chosen]
    batch = probe_paths(paths, sys_path=project, timeout=10, canonical=CANON)
    for path, v in zip(chosen, batch):
        assert v.verdict == EXPECTED[path][0], (path, v)


needs_numpy = pytest.mark.skipif(importlib.util.find_spec("numpy") is None,
                                 reason="numpy not installed")


@needs_numpy
def test_numpy_core_shims() -> None:
    import numpy

    if int(numpy.__version__.split(".")[0]) < 2:
        pytest.skip("numpy.core is a shim only in numpy >= 2")
    # Checked against `from M import A` in a fresh interpreter with filters "always":
    # numpy keeps `import numpy.core.<sub>` silent on purpose (old pickles import it) and
    # warns on attribute access through numpy.core's and the submodules' __getattr__.
    expected = {
        "numpy.core.multiarray": "resolves",
        "numpy.core.multiarray:array": "warns",
        "numpy.core:umath": "warns",
        "numpy.core:numeric": "warns",
        "numpy._core.multiarray": "resolves",
        "numpy.core:definitely_not_here": "absent",
        "numpy:float_": "absent",  # removed in numpy 2.0; numpy.__getattr__ says so
        "numpy:ndarray": "resolves",
    }
    got = {v.path: v for v in probe_paths([parse_path(p) for p in expected],
                                          sys_path=sys.path, timeout=60,
                                          canonical=parse_path("numpy:ndarray"))}
    assert {p: v.verdict for p, v in got.items()} == expected
    assert "numpy._core" in got["numpy.core:umath"].warning
    assert got["numpy.core.multiarray:array"].is_canonical is False
    assert got["numpy:ndarray"].verdict == "resolves"


@pytest.mark.skipif(importlib.util.find_spec("pydantic") is None, reason="no pydantic")
def test_pydantic_moved_name_is_absent() -> None:
    v, = probe_paths([parse_path("pydantic:BaseSettings")], sys_path=sys.path, timeout=60)
    assert v.verdict == "absent"
    assert "pydantic-settings" in v.reason


def test_probes_never_touch_this_process(project: list[str]) -> None:
    probe_paths([parse_path("pkg.shim"), parse_path("pkg.canon")], sys_path=project, timeout=10)
    assert "pkg" not in sys.modules and "pkg.shim" not in sys.modules


def test_a_project_module_named_like_a_probe_script_is_the_projects(
        tmp_path, mode: str) -> None:
    """The server's own parts (``_server.py``, ``_server_tasks.py``, loaded by file under a
    name no import can spell) never stand in for project modules of the same names."""
    for name in ("_server", "_server_tasks"):
        (tmp_path / f"{name}.py").write_text("MARK = 'the project'\n")
    paths = [parse_path("_server:MARK"), parse_path("_server_tasks:MARK")]
    verdicts = probe_paths(paths, sys_path=[str(tmp_path), *sys.path], timeout=10)
    assert [(v.verdict, v.reason) for v in verdicts] == [("resolves", None)] * 2
