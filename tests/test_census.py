"""The production census, ``pytest_ssot.census`` (SPEC 14): stdlib only, never raises into
the application, bounded, thread- and fork-safe; and the reader that merges its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from helpers import write_tree
from pytest_ssot import census
from pytest_ssot.census import Recorder, Watch, read_census

PYPROJECT = """
[project]
name = "svc"

[tool.pytest-ssot]

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "{pkg}.real:Thing"
legacy = ["{pkg}.shim", "{pkg}:Thing"]
factories = ["{pkg}.real:make"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A package with a unique name (modules stay in sys.modules), a silent shim, and a
    pyproject.toml declaring them; the census is uninstalled afterwards."""
    pkg = "censuspkg_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    write_tree(tmp_path, {
        f"{pkg}/__init__.py": "from .real import Thing\n",
        f"{pkg}/real.py": "class Thing:\n    pass\n\n\ndef make():\n    return Thing()\n",
        f"{pkg}/shim.py": f"from {pkg}.real import Thing\n",  # silent: no warning
        "use.py": f"""
            import importlib


            def load():
                return importlib.import_module("{pkg}." + "shim")


            def touch(m):
                return m.Thing
        """,
    })
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT.format(pkg=pkg)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path, pkg
    census.uninstall()
    for name in [m for m in sys.modules if m.split(".")[0] in (pkg, "use")]:
        del sys.modules[name]


def _hits(path: Path) -> list[dict]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["kind"] == "hits"]


def test_silent_shim_import_and_attribute_reads_are_counted(project) -> None:
    root, pkg = project
    assert census.install(path="c.jsonl", interval=0)
    import use

    m = use.load()
    for _ in range(3):
        use.touch(m)
    census.flush()
    lines = [json.loads(x) for x in (root / "c.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "start" and lines[0]["schema"] == census.SCHEMA
    assert all(x["project"] == "svc" for x in lines)
    got = {(h["path"], h["caller"]): h["count"] for h in _hits(root / "c.jsonl")}
    assert got == {(f"{pkg}.shim", "use.py:5"): 1, (f"{pkg}.shim", "use.py:9"): 3}


def test_module_attribute_entry_and_no_hit_for_canonical(project) -> None:
    """A re-export bound in the package's namespace: counted with ``bound_attributes``."""
    root, pkg = project
    census.install(path="c.jsonl", interval=0, bound_attributes=True)
    import importlib

    package = importlib.import_module(pkg)
    Thing = importlib.import_module(f"{pkg}.real").Thing

    assert package.real.Thing is Thing  # canonical: no hit
    assert package.Thing is Thing  # legacy pkg:Thing
    census.flush()
    assert [(h["path"], h["count"]) for h in _hits(root / "c.jsonl")] == [(f"{pkg}:Thing", 1)]


def test_by_default_only_names_a_module_getattr_serves_are_counted(project) -> None:
    """The default costs nothing on reads of a module's own names: the bound re-export is
    not counted, the name the PEP 562 ``__getattr__`` serves (a lazy shim entry) is."""
    root, pkg = project
    (root / pkg / "__init__.py").write_text(
        "from .real import Thing\n\n\ndef __getattr__(name):\n"
        "    if name == 'OldThing':\n        return Thing\n"
        "    raise AttributeError(name)\n")
    census.install(path="c.jsonl", interval=0,
                   contracts=[{"name": "c", "legacy": [f"{pkg}:Thing", f"{pkg}:OldThing"]}])
    import importlib

    package = importlib.import_module(pkg)
    assert type(package) is type(sys)  # its class is not switched
    assert package.Thing is package.OldThing
    with pytest.raises(AttributeError):
        package.Missing
    census.flush()
    assert [(h["path"], h["count"]) for h in _hits(root / "c.jsonl")] == [(f"{pkg}:OldThing", 1)]
    census.uninstall()
    assert not hasattr(package.__getattr__, "_ssot_census")


def test_uninstall_restores_modules(project) -> None:
    root, pkg = project
    census.install(path=None, contracts=[f"{pkg}.shim"], interval=0)
    import use

    m = use.load()
    assert type(m) is not type(sys)
    census.uninstall()
    assert type(m) is type(sys)
    assert census.recorder._FINDER not in sys.meta_path


def test_threads_count_exactly(project) -> None:
    root, pkg = project
    census.install(path="c.jsonl", interval=0)
    import use

    m = use.load()

    def work() -> None:
        for _ in range(2000):
            m.Thing

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    census.flush()
    assert sum(h["count"] for h in _hits(root / "c.jsonl") if h["caller"] != "use.py:5") \
        == 16000


def test_distinct_callers_are_capped_with_an_overflow_count() -> None:
    rec = Recorder([Watch("a.b", "c", "legacy")], max_callers=2)
    w = rec.watch_by_path["a.b"]
    for i in range(5):
        exec(compile("rec.hit(w, sys._getframe())", f"/x/f{i}.py", "exec"),
             {"rec": rec, "w": w, "sys": sys})
    counts, overflow = rec.take()
    assert len(counts) == 2 and overflow == {"a.b": 3}
    assert len(rec.callers["a.b"]) == 2


def test_a_failing_census_never_raises_into_the_application(project, monkeypatch) -> None:
    root, pkg = project
    census.install(path="c.jsonl", interval=0)
    import use

    m = use.load()

    def boom(*a, **k):
        raise RuntimeError("census bug")

    monkeypatch.setattr(census.service._SERVICE.rec, "hit", boom)
    assert use.touch(m) is not None
    monkeypatch.setattr(census.service._SERVICE.rec, "take", boom)
    census.flush()  # swallowed, counted as a failure
    assert census.service._SERVICE.failures == 1


def test_unwritable_sink_is_one_warning_and_the_service_runs_on(project) -> None:
    root, pkg = project
    (root / "sink").mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert census.install(path="sink", interval=0)
        import use

        use.touch(use.load())
        census.flush()
        census.flush()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "cannot write" in messages[0], messages
    assert census.service._SERVICE.failures == 0


def test_no_pyproject_no_contracts_warns(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.warns(RuntimeWarning, match="no pyproject.toml"):
        assert census.install() is False


FORK = """
import os, sys, json
sys.path.insert(0, {root!r})
import pytest_ssot.census as census
census.install(path="c.jsonl", interval=0)
import use
m = use.load()
use.touch(m)            # the parent's hit, not yet flushed
pid = os.fork()
if pid == 0:
    use.touch(m); use.touch(m)
    sys.exit(0)          # atexit: the child's own records
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_fork_child_writes_its_own_records_only(project) -> None:
    root, pkg = project
    subprocess.run([sys.executable, "-c", FORK.format(root=str(root))], check=True, cwd=root)
    lines = [json.loads(x) for x in (root / "c.jsonl").read_text().splitlines()]
    starts = [x["pid"] for x in lines if x["kind"] == "start"]
    assert len(set(starts)) == 2
    per_pid = {}
    for h in _hits(root / "c.jsonl"):
        per_pid.setdefault(h["pid"], {})[h["caller"]] = h["count"]
    assert sorted(per_pid.values(), key=len) == [{"use.py:9": 2},
                                                  {"use.py:5": 1, "use.py:9": 1}]


def test_census_imports_only_the_standard_library() -> None:
    code = ("import sys; import pytest_ssot.census; "
            "bad = [m for m in ('pytest', '_pytest', 'pluggy', 'hypothesis', 'libcst') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_opentelemetry_counter_receives_hits(project) -> None:
    pytest.importorskip("opentelemetry.sdk.metrics")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    root, pkg = project
    reader = InMemoryMetricReader()
    assert census.install(meter_provider=MeterProvider(metric_readers=[reader]), interval=0)
    import use

    m = use.load()
    use.touch(m)
    use.touch(m)
    census.flush()
    assert not (root / "ssot-census.jsonl").exists()  # otel only: no file
    points = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                assert metric.name == "ssot.census.hits"
                for p in metric.data.data_points:
                    points[(p.attributes["ssot.path"], p.attributes["ssot.caller"])] = p.value
    assert points == {(f"{pkg}.shim", "use.py:5"): 1, (f"{pkg}.shim", "use.py:9"): 2}


# ------------------------------------------------------------------------- the reader

START = {"schema": census.SCHEMA, "project": "svc", "kind": "start", "pid": 1}


def _hit(caller: str, count: int, last: str = "2026-01-02T00:00:00Z") -> dict:
    return {"schema": census.SCHEMA, "project": "svc", "kind": "hits", "pid": 1,
            "path": "p.shim", "contract": "c", "caller": caller, "count": count,
            "first_seen": "2026-01-01T00:00:00Z", "last_seen": last}


def _file(tmp_path: Path, name: str, records: list[dict], tail: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)
    return path


def test_merge_sums_counts_and_keeps_the_latest_sighting(tmp_path) -> None:
    a = _file(tmp_path, "a", [START, _hit("x.py:1", 2)])
    b = _file(tmp_path, "b", [START, _hit("x.py:1", 3, "2026-03-01T00:00:00Z"),
                              _hit("y.py:2", 1)])
    merge = read_census([a, b], project="svc")
    assert merge.skipped == [] and merge.notes == []
    rows = merge.by_path()["p.shim"]
    assert [(r["caller"], r["count"], r["last_seen"]) for r in rows] == [
        ("x.py:1", 5, "2026-03-01T00:00:00Z"), ("y.py:2", 1, "2026-01-02T00:00:00Z")]


def test_a_flush_cut_off_is_a_note_not_a_skip(tmp_path) -> None:
    full = json.dumps(_hit("z.py:3", 9)).encode()
    cut = _file(tmp_path, "cut", [START, _hit("x.py:1", 2)], tail=full[:20])
    merge = read_census([cut], project="svc")
    assert merge.files == [str(cut)] and merge.skipped == []
    assert "incomplete" in merge.notes[0][1]
    assert merge.by_path()["p.shim"][0]["count"] == 2
    # a restarted service appends after the partial line, starting a fresh line
    again = tmp_path / "again"
    again.write_bytes(cut.read_bytes() + b"\n" + json.dumps(START).encode() + b"\n"
                      + json.dumps(_hit("x.py:1", 1)).encode() + b"\n")
    merge = read_census([again], project="svc")
    assert merge.skipped == [] and len(merge.notes) == 1
    assert merge.by_path()["p.shim"][0]["count"] == 3


def test_damage_in_the_middle_skips_the_file(tmp_path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(json.dumps(START).encode() + b"\nnot json\n"
                    + json.dumps(_hit("x.py:1", 2)).encode() + b"\n")
    merge = read_census([bad], project="svc")
    assert merge.files == [] and "damaged" in merge.skipped[0][1]


def test_the_service_isolates_a_partial_line_it_finds(tmp_path, project) -> None:
    root, pkg = project
    (root / "c.jsonl").write_bytes(json.dumps(START | {"project": "svc"}).encode()
                                   + b"\n{\"schema\": \"pytest-ssot-cen")
    census.install(path="c.jsonl", interval=0)
    import use

    use.load()
    census.flush()
    merge = read_census([root / "c.jsonl"], project="svc")
    assert merge.skipped == [] and len(merge.notes) == 1
    assert merge.by_path()[f"{pkg}.shim"][0]["caller"] == "use.py:5"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=400))
def test_any_truncation_is_merged_partly_or_skipped_never_raised(tmp_path_factory, cut) -> None:
    path = tmp_path_factory.mktemp("t") / "c"
    data = b"".join(json.dumps(r).encode() + b"\n"
                    for r in [START, _hit("x.py:1", 2), _hit("y.py:2", 3)])
    path.write_bytes(data[:cut])
    merge = read_census([path], project="svc")
    assert (merge.files == [str(path)]) != bool(merge.skipped)
    total = sum(h["count"] for h in merge.hits.values())
    assert total <= 5
    if merge.skipped:
        assert total == 0 and cut < len(json.dumps(START)) + 1


def test_a_flush_that_fails_keeps_its_hits_for_the_next_one(project, monkeypatch) -> None:
    """A full disk at a flush (or a short write): the hits of that window are written by
    the next flush that succeeds, never dropped - a census file missing them would let a
    merge call a used shim removable."""
    import errno

    root, pkg = project
    assert census.install(path="c.jsonl", interval=0)
    import use

    m = use.load()
    census.flush()
    use.touch(m)
    real_write = os.write
    state = {"calls": 0}

    def full(fd, data):
        state["calls"] += 1
        if state["calls"] == 1:
            return real_write(fd, bytes(data)[:10])  # a short write, then a full disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(census.service.os, "write", full)
    census.flush()
    monkeypatch.setattr(census.service.os, "write", real_write)
    use.touch(m)
    census.flush()
    merge = read_census([root / "c.jsonl"], project="svc")
    assert merge.skipped == [], merge.skipped
    rows = {(r["caller"], r["count"]) for r in merge.by_path()[f"{pkg}.shim"]}
    assert rows == {("use.py:5", 1), ("use.py:9", 2)}, rows
    assert merge.skipped == []
