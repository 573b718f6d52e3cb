"""The runtime census as a user sees it (SPEC 14): the test run's callers of legacy paths,
dynamic references the scan cannot see, census files from production blocking deletion."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import write_tree

SHIM = """
import warnings
warnings.warn("{name} is deprecated", DeprecationWarning, stacklevel=2)
from app.core.real import Manager
"""

FILES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/real.py": "class Manager:\n    pass\n",
    "app/core/manager.py": SHIM.format(name="app.core.manager"),
    "app/core/old.py": SHIM.format(name="app.core.old"),
    # The name is computed: the static scan cannot see this reference.
    "app/loader.py": """
        import importlib


        def load(base="app.core"):
            return importlib.import_module(f"{base}.manager")
    """,
    "tests/test_load.py": """
        from app.loader import load


        def test_dynamic():
            assert load().Manager


        def test_canonical_only():
            from app.core.real import Manager
            assert Manager
    """,
}

PYPROJECT = """
[project]
name = "sample"

[tool.pytest.ini_options]
pythonpath = ["."]

[tool.pytest-ssot]
paths = ["app", "tests"]

[[tool.pytest-ssot.contracts]]
name = "mgr"
canonical = "app.core.real:Manager"
legacy = ["app.core.manager", "app.core.old"]
"""

SERVICE = """
import sys
sys.path.insert(0, {root!r})
import pytest_ssot.census
pytest_ssot.census.install(path={census!r}, pyproject={pyproject!r})
from app.loader import load
for _ in range(3):
    load()
"""


def _project(pytester: pytest.Pytester) -> Path:
    write_tree(pytester.path, FILES)
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    return pytester.path


def _entry(doc: dict, path: str) -> dict:
    return next(e for e in doc["contracts"][0]["legacy"] if e["path"] == path)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["xdist-off", "xdist-n2"])
def test_done_when_dynamic_caller_found_and_blocks_removal(pytester: pytest.Pytester,
                                                           xdist: list[str]) -> None:
    """Done when (issue 27): importlib.import_module with a computed name; the census names
    the test and the caller line as dynamic, the static scan does not, and the shim is
    not removable; the untouched shim stays removable."""
    root = _project(pytester)
    result = pytester.runpytest_subprocess(*xdist, "--ssot-report=r.json", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    doc = json.loads((root / "r.json").read_text())
    assert not [v for v in doc["violations"] if v["file"] == "app/loader.py"]
    hits = doc["census"]["test_run"]["app.core.manager"]
    loader = next(c for c in hits["callers"] if c["caller"] == "app/loader.py:5")
    assert loader["tests"] == ["tests/test_load.py::test_dynamic"]
    assert loader["dynamic"] is True
    assert "app.core.old" not in doc["census"]["test_run"]
    manager = _entry(doc, "app.core.manager")
    assert manager["removable"] is False
    assert {"kind": "runtime", "caller": "app/loader.py:5", "source": "test run"}.items() \
        <= next(b for b in manager["blockers"] if b["caller"] == "app/loader.py:5").items()
    assert _entry(doc, "app.core.old")["removable"] is True
    result.stdout.fnmatch_lines([
        "deletion readiness mgr:",
        "  can be deleted now: app.core.old",
        "  not yet: app.core.manager (2 runtime caller(s): app/loader.py:5 (in 1 test(s), "
        "dynamic), tests/test_load.py:5 (in 1 test(s), dynamic))",
        "runtime census app.core.manager: 2 caller(s) in 1 test(s)",
        "  app/loader.py:5 (1 test(s), e.g. tests/test_load.py::test_dynamic)  dynamic: "
        "the scan cannot see this reference",
        "  tests/test_load.py:5 (1 test(s), e.g. tests/test_load.py::test_dynamic)  "
        "dynamic: the scan cannot see this reference",
    ])


def test_xdist_gives_the_same_census(pytester: pytest.Pytester) -> None:
    """Module-level imports in several test files, spread over workers: the same callers
    and tests as without xdist (a hit counts once per test and caller)."""
    root = _project(pytester)
    for i in range(4):
        (root / f"tests/test_mod{i}.py").write_text(
            "import app.core.old\n\n\n"
            + "".join(f"def test_{j}():\n    from app.core.old import Manager\n"
                      f"    assert Manager\n\n\n" for j in range(3)))
    docs = []
    for args in ([], ["-n", "2"]):
        result = pytester.runpytest_subprocess(*args, "--ssot-report=r.json", "-p",
                                               "no:randomly")
        assert result.ret == 0, result.stdout.str()
        docs.append(json.loads((root / "r.json").read_text())["census"]["test_run"])
    assert docs[0] == docs[1]
    old = docs[0]["app.core.old"]
    # 4 collecting modules (module-level import) + 12 tests importing inside the body
    assert old["hits"] == 16
    assert {c["caller"] for c in old["callers"]} == {
        f"tests/test_mod{i}.py:{line}" for i in range(4) for line in (1, 5, 10, 15)}
    assert all(c["dynamic"] is False for c in old["callers"])  # the scan sees them all


def test_production_census_file_blocks_removal(pytester: pytest.Pytester) -> None:
    """Done when (issue 27): a simulated production run (a subprocess) writes a census
    file; its merge blocks removal with the caller named and when it was last seen."""
    root = _project(pytester)
    (root / "tests/test_load.py").write_text("def test_nothing():\n    pass\n")
    census = root / "prod.jsonl"
    subprocess.run([sys.executable, "-c", SERVICE.format(
        root=str(root), census=str(census), pyproject=str(root / "pyproject.toml"))],
        check=True, cwd=root)
    lines = [json.loads(x) for x in census.read_text().splitlines()]
    assert lines[0]["kind"] == "start" and lines[0]["project"] == "sample"
    assert [(x["path"], x["caller"], x["count"]) for x in lines[1:]] == [
        ("app.core.manager", "app/loader.py:5", 1)]  # the first import; then cached

    result = pytester.runpytest_subprocess("--ssot-census=prod.jsonl", "--ssot-report=r.json",
                                           "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    doc = json.loads((root / "r.json").read_text())
    manager = _entry(doc, "app.core.manager")
    assert manager["removable"] is False
    blocker = next(b for b in manager["blockers"] if b["kind"] == "runtime")
    assert blocker["caller"] == "app/loader.py:5"
    assert blocker["source"] == "census"
    assert blocker["last_seen"] == lines[1]["last_seen"]
    result.stdout.fnmatch_lines([
        "  not yet: app.core.manager (1 runtime caller(s): app/loader.py:5 (last seen *, "
        "dynamic))",
        "census files app.core.manager: 1 hit(s) from 1 caller(s)",
    ])

    # The command merges the same file and prints hits per path and caller.
    out = pytester.run("pytest-ssot", "census", "prod.jsonl", "--json", "m.json")
    assert out.ret == 0
    out.stdout.fnmatch_lines(["app.core.manager: 1 hit(s) from 1 caller(s)",
                              "  app/loader.py:5: 1 (last seen *)"])
    merged = json.loads((root / "m.json").read_text())
    assert merged["paths"]["app.core.manager"][0]["caller"] == "app/loader.py:5"

    # and `scan --census` reports the shim as not removable
    scan = pytester.run("pytest-ssot", "scan", "--census", "prod.jsonl", "--json", "s.json")
    assert scan.ret == 0, scan.stdout.str()
    sdoc = json.loads((root / "s.json").read_text())
    blocked = sdoc["census"]["files"]["paths"]["app.core.manager"][0]
    assert blocked["caller"] == "app/loader.py:5" and blocked["dynamic"] is True
    scan.stdout.fnmatch_lines(["*app.core.manager*not removable*app/loader.py:5*"])


BAD_FILES = {
    "empty.jsonl": (b"", "empty*"),
    "cut.jsonl": (b'{"schema": "pytest-ssot-census/1", "project": "sample", "kind": "hits"',
                  "truncated*"),
    "newer.jsonl": (b'{"schema": "pytest-ssot-census/9", "project": "sample", "kind": '
                    b'"start"}\n', "written by a newer pytest-ssot*"),
    "other.jsonl": (b'{"schema": "pytest-ssot-census/1", "project": "other", "kind": '
                    b'"start"}\n', "from another project*"),
}


def test_bad_census_files_are_reported_and_skipped(pytester: pytest.Pytester) -> None:
    """Never merged as zero hits: the run says which file was skipped and why."""
    root = _project(pytester)
    (root / "tests/test_load.py").write_text("def test_nothing():\n    pass\n")
    for name, (content, _) in BAD_FILES.items():
        (root / name).write_bytes(content)
    result = pytester.runpytest_subprocess(
        *(f"--ssot-census={name}" for name in BAD_FILES), "--ssot-report=r.json",
        "-p", "no:randomly")
    result.stdout.fnmatch_lines([f"census file skipped: *{name}: {why}"
                                 for name, (_, why) in BAD_FILES.items()])
    doc = json.loads((root / "r.json").read_text())
    assert doc["census"]["files"]["files"] == []
    assert [Path(s["file"]).name for s in doc["census"]["files"]["skipped"]] == list(BAD_FILES)
    # what a skipped file held is unknown: no shim is called removable on its account
    old = _entry(doc, "app.core.old")
    assert old["removable"] is False
    assert any("census file(s) skipped" in b.get("reason", "") for b in old["blockers"])


def test_missing_census_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess("--ssot-census=nope.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-census: nope.jsonl: no such file*"])


def test_no_table_no_census(pytester: pytest.Pytester) -> None:
    """A project without [tool.pytest-ssot] never imports the census."""
    pytester.makepyfile(test_x="""
        import sys

        def test_x():
            assert "pytest_ssot.census" not in sys.modules
            assert "pytest_ssot.plugin.census" not in sys.modules
    """)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_html_pages_show_runtime_hits_beside_references(pytester: pytest.Pytester) -> None:
    """``--ssot-html`` and ``history --html --census``: a runtime-hits column and the
    runtime callers, the dynamic one marked."""
    pytest.importorskip("jinja2")
    root = _project(pytester)
    census = root / "prod.jsonl"
    subprocess.run([sys.executable, "-c", SERVICE.format(
        root=str(root), census=str(census), pyproject=str(root / "pyproject.toml"))],
        check=True, cwd=root)
    result = pytester.runpytest_subprocess("--ssot-html=page.html",
                                           "--ssot-census=prod.jsonl", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    page = (root / "page.html").read_text()
    assert '<th class="num">runtime hits</th>' in page
    # 1 test reached it through the loader and one through the test's own line; 1 hit
    # in the census file
    assert '<td class="num" data-runtime="app.core.manager">3</td>' in page
    assert '<td class="num" data-runtime="app.core.old"></td>' in page
    assert "app/loader.py:5" in page and "the scan cannot see this reference" in page

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}
    for cmd in (["git", "init", "-q"], ["git", "add", "app", "tests", "pyproject.toml"],
                ["git", "commit", "-qm", "one"]):
        subprocess.run(cmd, cwd=root, check=True, env={**__import__("os").environ, **env})
    out = pytester.run("pytest-ssot", "history", "--html", "h.html", "--census", "prod.jsonl")
    assert out.ret == 0, out.stdout.str() + out.stderr.str()
    hpage = (root / "h.html").read_text()
    assert '<td class="num" data-runtime="app.core.manager">1</td>' in hpage
    assert "app/loader.py:5" in hpage


def test_census_without_contracts_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    (pytester.path / "c.jsonl").write_text("")
    result = pytester.runpytest_subprocess("--ssot-census=c.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-census: no contracts in [[]tool.pytest-ssot[]]*"])


def test_a_crashed_worker_makes_removability_unknown(pytester: pytest.Pytester) -> None:
    """A worker that dies takes its census with it: no shim is called removable then."""
    root = _project(pytester)
    (root / "tests/test_crash.py").write_text(
        "import os\n\n\ndef test_crash():\n    os._exit(1)\n")
    result = pytester.runpytest_subprocess("-n", "2", "--ssot-report=r.json", "-p",
                                           "no:randomly")
    doc = json.loads((root / "r.json").read_text())
    old = _entry(doc, "app.core.old")
    assert old["removable"] is False
    assert any("crashed xdist worker" in b.get("reason", "") for b in old["blockers"])
    result.stdout.fnmatch_lines(["*not yet: app.core.old (*crashed xdist worker*"])


def test_census_command_reports_skipped_files_and_exits_1(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    start = {"schema": "pytest-ssot-census/1", "project": "sample", "kind": "start", "pid": 1}
    hit = {**start, "kind": "hits", "path": "app.core.manager", "contract": "mgr",
           "caller": "svc/x.py:3", "count": 4, "first_seen": "2026-01-01T00:00:00Z",
           "last_seen": "2026-01-05T00:00:00Z"}
    (root / "good.jsonl").write_text(json.dumps(start) + "\n" + json.dumps(hit) + "\n"
                                     + json.dumps(hit)[:30])
    (root / "other.jsonl").write_text(json.dumps({**start, "project": "else"}) + "\n")
    out = pytester.run("pytest-ssot", "census", "good.jsonl", "other.jsonl")
    assert out.ret == 1
    out.stdout.fnmatch_lines([
        "census file skipped: other.jsonl: from another project ('else', this is 'sample')",
        "census note: good.jsonl: line 3 is incomplete (a flush was cut off): skipped",
        "app.core.manager: 4 hit(s) from 1 caller(s)",
        "  svc/x.py:3: 4 (last seen 2026-01-05T00:00:00Z)",
    ])
    assert pytester.run("pytest-ssot", "census", "other.jsonl", "--project", "else").ret == 0
    missing = pytester.run("pytest-ssot", "census", "nope.jsonl")
    assert missing.ret == 2
    missing.stderr.fnmatch_lines(["pytest-ssot census: nope.jsonl: no such file"])


def test_census_keeps_the_warning_location_of_a_shim(pytester: pytest.Pytester) -> None:
    """A shim's ``stacklevel=2`` warning names the line that imported it or read its
    attribute, with the census on as without it: the census's wrappers (import statement,
    loader, module ``__getattr__``, module class) are no frames of their own to the
    warnings machinery, so a filter by module (``error::DeprecationWarning:app.user``)
    still matches and the warnings summary still points at the user's line."""
    root = _project(pytester)
    write_tree(root, {
        "app/pkg/__init__.py": """
            import warnings


            def __getattr__(name):
                if name == "Manager":
                    warnings.warn("app.pkg.Manager is deprecated", DeprecationWarning,
                                  stacklevel=2)
                    from app.core.real import Manager
                    return Manager
                raise AttributeError(name)
        """,
        "app/user.py": "import app.core.old\n",
        "app/user2.py": "import app.pkg\n\nM = app.pkg.Manager\n",
        "tests/test_load.py": """
            import warnings


            def test_import_warning_names_the_importer():
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    import app.user
                    import app.user2
                where = sorted((w.filename.replace("\\\\", "/").rsplit("/app/", 1)[-1],
                                w.lineno) for w in seen)
                assert where == [("user.py", 1), ("user2.py", 3)], where
        """,
    })
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT).replace(
        'legacy = ["app.core.manager", "app.core.old"]',
        'legacy = ["app.core.manager", "app.core.old", "app.pkg:Manager"]'))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "tests/test_load.py")
    result.assert_outcomes(passed=1)
    assert "pytest_ssot/census" not in result.stdout.str()


def test_a_census_path_that_is_no_file_says_what_it_is(pytester: pytest.Pytester) -> None:
    """A folder or a FIFO given as a census file is named for what it is (never 'no
    such file' for a path that is there), in the command, in scan and under pytest."""
    import os

    root = _project(pytester)
    (root / "dir.jsonl").mkdir()
    os.mkfifo(root / "fifo.jsonl")
    for name, what in (("dir.jsonl", "is a folder, not a census file"),
                       ("fifo.jsonl", "is not a regular file (a FIFO, a device or a "
                                      "socket), not a census file")):
        out = pytester.run("pytest-ssot", "census", name)
        assert out.ret == 2
        out.stderr.fnmatch_lines([f"pytest-ssot census: {name}: {what}"])
        out = pytester.run("pytest-ssot", "scan", "--census", name)
        assert out.ret == 2
        out.stderr.fnmatch_lines([f"pytest-ssot scan: --census: {name}: {what}"])
        result = pytester.runpytest_subprocess(f"--ssot-census={name}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*--ssot-census: {name}: {what}*"])
