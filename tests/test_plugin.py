"""What a user sees: contract items, modes, errors, markers, fixture, report, xdist."""

from __future__ import annotations

import json
import textwrap

import pytest

from helpers import VERDICT_PACKAGE, write_tree

HEADER = """
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.pytest-ssot]
probe_timeout = {timeout}
paths = ["test_app.py"]
"""


def make_project(pytester: pytest.Pytester, *, legacy=(), factories=(), extra: str = "",
                 timeout: float = 10, files: dict[str, str] | None = None,
                 canonical: str = "pkg.canon:Canon",
                 scope: list[str] | None = ["pkg.sub"]) -> None:  # noqa: B006
    """A project with the verdict package; the alias scope is narrow unless asked."""
    if scope is not None:
        extra = f"alias_scope = {json.dumps(scope)}\n" + extra
    write_tree(pytester.path, {**VERDICT_PACKAGE, **(files or {})})
    toml = textwrap.dedent(HEADER.format(timeout=timeout)) + textwrap.dedent(f"""
        [[tool.pytest-ssot.contracts]]
        name = "canon"
        canonical = "{canonical}"
        legacy = {json.dumps(list(legacy))}
        factories = {json.dumps(list(factories))}
    """) + textwrap.dedent(extra)
    (pytester.path / "pyproject.toml").write_text(toml)
    (pytester.path / "test_app.py").write_text("def test_app():\n    assert True\n")
    if "pkg.missing" in legacy:
        removed_in_history(pytester.path, "pkg/missing.py")


def removed_in_history(root, rel: str) -> None:
    """``rel`` existed once (a commit adds it) and is gone: an absent legacy path that was
    removed, not one that never existed (a configuration error, SPEC 12)."""
    import subprocess

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / rel).write_text("X = 1\n")
    subprocess.run([*git, "add", rel], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "add", "--", rel], cwd=root, check=True)
    subprocess.run([*git, "rm", "-q", rel], cwd=root, check=True)


def test_transitional_run_passes_and_names_checks(pytester: pytest.Pytester,
                                                  xdist_args: list[str]) -> None:
    make_project(pytester, legacy=["pkg.shim", "pkg:Old", "pkg.missing"],
                 factories=["pkg:Gone"])
    result = pytester.runpytest_subprocess("-rA", *xdist_args)
    result.assert_outcomes(passed=9)
    out = result.stdout.str()
    for nodeid in ("pyproject.toml::canon::canonical[pkg.canon:Canon]",
                   "pyproject.toml::canon::legacy[pkg.shim]",
                   "pyproject.toml::canon::factory[pkg:Gone]",
                   "pyproject.toml::canon::aliases"):
        assert f"PASSED {nodeid}" in out
    result.stdout.fnmatch_lines([
        "*= pytest-ssot =*",
        "mode: transitional",
        "contract canon: ok",
        "  ok   canonical pkg.canon:Canon *resolves  (import * ms)",
        "  ok   legacy    pkg.shim *warns  DeprecationWarning: pkg.shim is deprecated",
        "  ok   legacy    pkg.missing *absent",
        "  ok   factory   pkg:Gone *absent",
    ])
    assert result.ret == 0


def test_strict_fails_warning_paths_with_an_explanation(pytester: pytest.Pytester,
                                                        xdist_args: list[str]) -> None:
    make_project(pytester, legacy=["pkg.shim:Canon", "pkg.missing"])
    result = pytester.runpytest_subprocess("--ssot-strict", *xdist_args)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines([
        "*[[]ssot canon[]] legacy path pkg.shim:Canon still resolves (with a deprecation "
        "warning):",
        "  DeprecationWarning: pkg.shim is deprecated",
        "--ssot-strict expects it to be absent.",
        "fix: delete it and point the remaining references at pkg.canon:Canon*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert result.ret == 1


def test_strict_from_config(pytester: pytest.Pytester) -> None:
    make_project(pytester, legacy=["pkg.shim"])
    text = (pytester.path / "pyproject.toml").read_text()
    (pytester.path / "pyproject.toml").write_text(
        text.replace("probe_timeout = 10", "probe_timeout = 10\nstrict = true"))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=5, failed=1)
    # the header says where strict came from: the configuration, not the flag
    result.stdout.fnmatch_lines(["mode: strict (strict = true in pyproject.toml)"])
    assert "(--ssot-strict)" not in result.stdout.str()
    result = pytester.runpytest_subprocess("--ssot-strict")
    result.stdout.fnmatch_lines(["mode: strict (--ssot-strict)"])


# legacy path -> (outcome transitional, outcome strict, text in the failure)
CASES = {
    "pkg.shim": ("passed", "failed", "still resolves"),
    "pkg:Old": ("passed", "failed", "still resolves"),
    "pkg.lazywarn:Canon": ("passed", "failed", "still resolves"),
    "pkg.missing": ("passed", "passed", None),
    "pkg:Gone": ("passed", "passed", None),
    "pkg.silent:Canon": ("failed", "failed", "resolves silently"),
    "pkg.second:Canon": ("failed", "failed", "not the canonical object"),
    "pkg.needsdep": ("failed", "failed", "never counted as removed"),
    "pkg.ownimporterror": ("failed", "failed", "ImportError: cannot configure"),
    "pkg.sysexit": ("failed", "failed", "SystemExit: exit code 2"),
    "pkg.exits": ("failed", "failed", "exited with code 3"),
    "pkg.killed": ("failed", "failed", "killed by signal SIGKILL"),
    "pkg.syntax": ("failed", "failed", "SyntaxError"),
    "pkg.hang": ("failed", "failed", "timed out"),
}


@pytest.mark.parametrize("strict", [False, True], ids=["transitional", "strict"])
def test_every_verdict_as_an_item(pytester: pytest.Pytester, strict: bool) -> None:
    make_project(pytester, legacy=list(CASES), timeout=2)
    args = ["-rA", "-p", "no:cacheprovider"] + (["--ssot-strict"] if strict else [])
    result = pytester.runpytest_subprocess(*args)
    out = result.stdout.str()
    for path, (transitional, strict_outcome, text) in CASES.items():
        expected = strict_outcome if strict else transitional
        word = "PASSED" if expected == "passed" else "FAILED"
        assert f"{word} pyproject.toml::canon::legacy[{path}]" in out, path
        if expected == "failed" and text:
            assert text in out, path
    assert "Traceback" not in out
    assert "_server.py" not in out


def test_canonical_problems_fail_the_canonical_item(pytester: pytest.Pytester) -> None:
    make_project(pytester, canonical="pkg.shim:Canon")
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines([
        "*canonical path pkg.shim:Canon must resolve without a deprecation warning, "
        "but it warns:*"])
    result.assert_outcomes(passed=4, failed=1)


def test_canonical_absent_explains_sys_path(pytester: pytest.Pytester) -> None:
    make_project(pytester, canonical="nowhere_xyz.mod:Thing")
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(["*is absent: no module named 'nowhere_xyz'.",
                                 "fix: check the path in [[]tool.pytest-ssot[]]*pythonpath*"])


def test_max_import_ms(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"pkg/slow.py": "import time\ntime.sleep(0.3)\nclass S: pass\n"},
                 canonical="pkg.slow:S", extra="max_import_ms = 50\n")
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(["*canonical path pkg.slow:S took * ms to import in a fresh "
                                 "interpreter; the contract allows max_import_ms = 50."])
    result.assert_outcomes(passed=4, failed=1)


@pytest.mark.parametrize("body, message", [
    ("[tool.pytest-ssot]\nstrict = 1\n",
     "ERROR: pytest-ssot: pyproject.toml: [[]tool.pytest-ssot[]] key 'strict': expected true "
     "or false, got integer 1"),
    ("[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = \"a\"\ncanonical = \"x:y:z\"\n",
     "ERROR: pytest-ssot: pyproject.toml: [[]tool.pytest-ssot.contracts[]] [[]contract 'a'[]] "
     "key 'canonical': 'x:y:z' is not a valid path*"),
])
def test_config_error_is_a_usage_error(pytester: pytest.Pytester, body: str,
                                       message: str, xdist_args: list[str]) -> None:
    (pytester.path / "pyproject.toml").write_text(body)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess(*xdist_args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


ALIAS_FILES = {
    "pkg/handlers.py": "from pkg.canon import Canon\nWSManager = Canon\n",
    "pkg/reexport.py": "from pkg.canon import Canon\n__all__ = ['Canon']\n",
    "pkg/plainuse.py": "from pkg.canon import Canon\ndef make():\n    return Canon()\n",
    "pkg/sanctioned.py": "from pkg.canon import Canon as Blessed\n",
}


def test_undeclared_aliases(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    make_project(pytester, legacy=["pkg.shim"], files=ALIAS_FILES, scope=None, timeout=2,
                 extra='allow = ["pkg.sanctioned:Blessed"]\n')
    result = pytester.runpytest_subprocess("--ssot-strict", "-m", "ssot", *xdist_args)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*3 undeclared alias(es) of pkg.canon:Canon in pkg:",
        "  pkg.handlers:WSManager",
        "  pkg.lazywarn:_Canon",  # a private rename is still another name (SPEC 4)
        "  pkg.reexport:Canon",
    ])
    # a plain import for the module's own use, the allowed alias, the legacy shim (a
    # declared module) and the canonical path itself are not aliases
    for not_alias in ("pkg.plainuse:", "pkg.sanctioned:", "pkg.shim:", "pkg.canon:Canon\n"):
        assert f"  {not_alias}" not in out
    # modules of the scope that crash, exit or hang at import are listed, not fatal
    result.stdout.fnmatch_lines(["*alias scope: pkg.exits could not be imported: *exited with "
                                 "code 3*"])
    assert "FAILED pyproject.toml::canon::aliases" in out


def test_aliases_pass_in_transitional_mode(pytester: pytest.Pytester) -> None:
    make_project(pytester, files=ALIAS_FILES, scope=["pkg.handlers", "pkg.reexport", "pkg.sanctioned", "pkg.plainuse"])
    result = pytester.runpytest_subprocess("-m", "ssot")
    result.assert_outcomes(passed=4, deselected=1)
    result.stdout.fnmatch_lines(["  ok   aliases   3 undeclared: pkg.handlers:WSManager, "
                                 "pkg.reexport:Canon, pkg.sanctioned:Blessed"])


def test_alias_discovery_skips_constants(pytester: pytest.Pytester) -> None:
    make_project(pytester, files={"pkg/consts.py": "LIMIT = 3\n", "pkg/other.py": "X = 3\n"},
                 canonical="pkg.consts:LIMIT", scope=["pkg"])
    result = pytester.runpytest_subprocess("--ssot-strict", "-m", "ssot")
    result.stdout.fnmatch_lines(["*aliases   not searched: the canonical object is a int*"])
    result.assert_outcomes(passed=4, deselected=1)


def test_narrow_runs_do_not_collect_contract_items(pytester: pytest.Pytester) -> None:
    make_project(pytester, legacy=["pkg.silent:Canon"])
    result = pytester.runpytest_subprocess("test_app.py")
    result.assert_outcomes(passed=1)
    assert "pytest-ssot" not in result.stdout.str()


def test_report_json_and_xdist_identity(pytester: pytest.Pytester) -> None:
    make_project(pytester, legacy=["pkg.shim", "pkg.needsdep"], factories=["pkg:Gone"],
                 files=ALIAS_FILES, scope=["pkg.handlers"])
    docs = []
    for args in ([], ["-n", "2"], ["-p", "no:xdist"]):
        result = pytester.runpytest_subprocess("--ssot-report", "out/report.json", *args)
        assert result.ret == 1  # needsdep is broken
        doc = json.loads((pytester.path / "out" / "report.json").read_text())
        doc["contracts"][0]["canonical"].pop("import_ms")
        docs.append(doc)
    assert docs[0] == docs[1] == docs[2]
    doc = docs[0]
    assert doc["schema"] == "pytest-ssot/1" and doc["strict"] is False
    (c,) = doc["contracts"]
    assert c["name"] == "canon"
    assert c["canonical"]["path"] == "pkg.canon:Canon"
    assert c["canonical"]["verdict"] == "resolves"
    assert [(e["path"], e["verdict"], e["passed"]) for e in c["legacy"]] == [
        ("pkg.shim", "warns", True), ("pkg.needsdep", "broken", False)]
    assert c["legacy"][0]["warning"] == "pkg.shim is deprecated"
    assert c["legacy"][1]["error"].startswith("ModuleNotFoundError")
    assert c["factories"][0]["verdict"] == "absent" and c["factories"][0]["error"] is None
    assert {"path": "pkg.handlers:WSManager"} in c["aliases"]
    assert c["passed"] is False


def test_probes_run_once_per_session_under_xdist(pytester: pytest.Pytester) -> None:
    make_project(pytester, legacy=["pkg.counted"], scope=["pkg.counted"], files={
        "pkg/counted.py": "import os\nwith open(os.environ['COUNT_FILE'], 'a') as f:\n"
                          "    f.write('x')\n",
    })
    count = pytester.path / "count.txt"
    pytester._monkeypatch.setenv("COUNT_FILE", str(count))
    result = pytester.runpytest_subprocess("-n", "2", "-m", "ssot")
    result.assert_outcomes(passed=4, failed=1)
    # imported by the legacy probe only (a declared legacy module is not searched for
    # aliases): once per session, not once per worker
    assert count.read_text() == "x"


MARKER_TESTS = """
from pytest_ssot import ssot_canonical

@ssot_canonical("canon")
def test_named():
    pass

@ssot_canonical("pkg.canon:Canon", legacy=["pkg.shim"], factories=["pkg:Gone"],
                alias_scope=["pkg.sub"])
def test_inline():
    pass

@ssot_canonical("pkg.canon:Canon", legacy=["pkg.silent:Canon"], alias_scope=["pkg.sub"])
def test_inline_silent_legacy():
    pass

@ssot_canonical("no-such-contract")
def test_unknown():
    pass

@ssot_canonical("pkg.canon:Canon", legasy=["x"])
def test_bad_kwarg():
    pass

def test_fixture(ssot_probe):
    v = ssot_probe("pkg:Old", canonical="pkg.canon:Canon")
    assert (v.verdict, v.is_canonical) == ("warns", True)
    a, b = ssot_probe.many(["pkg.missing", "pkg.needsdep"])
    assert (a.verdict, b.verdict) == ("absent", "broken")
"""


def test_marker_and_fixture(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    make_project(pytester, legacy=["pkg.shim"])
    pytester.makepyfile(test_markers=MARKER_TESTS)
    result = pytester.runpytest_subprocess("-rA", "test_markers.py", *xdist_args)
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    assert "PASSED test_markers.py::test_named" in out
    assert "PASSED test_markers.py::test_inline" in out
    assert "PASSED test_markers.py::test_fixture" in out
    # an inline contract has no items of its own: the failure explains itself, once
    result.stdout.fnmatch_lines([
        "*SSOT contract inline (pkg.canon:Canon) failed 1 check(s):",
        "  legacy pkg.silent:Canon: resolves",
        "",
        "legacy path pkg.silent:Canon resolves silently*",
    ])
    assert "contract inline: 1 check(s) failed" not in out  # no verdict table
    result.stdout.fnmatch_lines(["*no contract named 'no-such-contract' in [[]tool.pytest-ssot[]]"
                                 "; known contracts: canon"])
    result.stdout.fnmatch_lines(["*[[]marker arguments[]] [[]contract 'inline'[]] unknown key "
                                 "'legasy'; valid keys: *"])
    assert "During handling" not in out


def test_marker_named_contract_fails_in_strict(pytester: pytest.Pytester) -> None:
    make_project(pytester, legacy=["pkg.shim"])
    pytester.makepyfile(test_markers=MARKER_TESTS)
    result = pytester.runpytest_subprocess("test_markers.py::test_named", "--ssot-strict")
    result.assert_outcomes(passed=4, failed=2)
    # the contract's items ran too: the marker points at the one that explains the failure
    result.stdout.fnmatch_lines([
        "*SSOT contract canon (pkg.canon:Canon) failed 1 check(s):",
        "  legacy pkg.shim: warns (DeprecationWarning: pkg.shim is deprecated)",
        "    explained by pyproject.toml::canon::legacy[[]pkg.shim[]]",
        "(each failure's explanation and fix: the item named under it)",
    ])
    # once in the failures (pytest's short summary repeats whole messages when CI is set)
    failures = result.stdout.str().split("short test summary info")[0]
    assert failures.count("--ssot-strict expects it to be absent") == 1
    # deselected items explain nothing: the marker explains the failure itself
    result = pytester.runpytest_subprocess("test_markers.py::test_named", "--ssot-strict",
                                           "-m", "not ssot")
    result.assert_outcomes(failed=1, deselected=5)
    result.stdout.fnmatch_lines(["  legacy pkg.shim: warns (DeprecationWarning: *",
                                 "", "legacy path pkg.shim still resolves*"])
    assert "explained by" not in result.stdout.str()


def test_generated_items_are_counted_in_the_collection_header(
        pytester: pytest.Pytester) -> None:
    """Contract and isolation items are part of "collected N items", like any test."""
    from isolation_corpus import CONFTEST, CORRECT

    make_project(pytester, legacy=["pkg.shim"])
    pytester.makepyfile(app=CORRECT)
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_subprocess("--collect-only", "-p", "no:cacheprovider")
    # test_app + canonical, legacy, aliases, references, parse + 4 isolation checks
    result.stdout.fnmatch_lines(["collected 10 items"])
    result.stdout.fnmatch_lines(["*10 tests collected*"])
    result = pytester.runpytest_subprocess("--collect-only", "-p", "no:cacheprovider",
                                           "-m", "ssot")
    result.stdout.fnmatch_lines(["collected 10 items / 1 deselected / 9 selected"])


def test_help_shows_readable_metavars(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--ssot-report=PATH*",
                                 "*--ssot-isolation-examples=N*",
                                 "*--ssot-isolation-max-users=N*",
                                 "*--ssot-isolation-thread-trials=N*"])
    assert "SSOT_ISOLATION" not in result.stdout.str()


def test_marker_works_without_any_table(pytester: pytest.Pytester) -> None:
    write_tree(pytester.path, VERDICT_PACKAGE)
    pytester.makeini("[pytest]\npythonpath = .\n")
    pytester.makepyfile(test_inline="""
        from pytest_ssot import ssot_canonical

        @ssot_canonical("pkg.canon:Canon", legacy=["pkg.shim", "pkg:Gone"],
                        alias_scope=["pkg.sub"])
        def test_it():
            pass
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_entry_point_contracts_are_merged(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    site = pytester.mkdir("site")
    dist = site / "shipped_contracts-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shipped-contracts\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest_ssot.contracts]\nshipped = shipped_contracts:contracts\n")
    (site / "shipped_contracts.py").write_text(
        "def contracts():\n    return [{'name': 'shipped', 'canonical': 'pkg.canon:Canon',"
        " 'legacy': ['pkg.shim']}]\n")
    pytester._monkeypatch.setenv("PYTHONPATH", str(site))
    result = pytester.runpytest_subprocess("-rA", "-m", "ssot")
    assert "PASSED pyproject.toml::shipped::legacy[pkg.shim]" in result.stdout.str()
    # a name clash is a configuration error
    (site / "shipped_contracts.py").write_text(
        "def contracts():\n    return [{'name': 'canon', 'canonical': 'pkg.canon:Canon'}]\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*contract 'canon' is defined twice*"])


def test_no_table_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.other]\nx = 1\n")
    pytester.makeconftest("""
        import sys
        def pytest_sessionfinish():
            loaded = sorted(m for m in sys.modules
                            if m.startswith(("pytest_ssot", "libcst")))
            print("LOADED", loaded)
    """)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("-s", "-p", "no:hypothesispytest")
    assert "LOADED ['pytest_ssot', 'pytest_ssot.plugin']\n" in result.stdout.str()


@pytest.mark.parametrize("option", ["--ssot-report", "--golden-path-report"])
def test_unwritable_report_path_is_a_usage_error(pytester: pytest.Pytester,
                                                 option: str) -> None:
    make_project(pytester)
    pytester.mkdir("a_folder")
    (pytester.path / "a_file").write_text("")
    for target, message in (("a_folder", "is a folder, not a regular file"),
                            ("a_file/r.json", "cannot create the folder")):
        result = pytester.runpytest_subprocess(f"{option}={target}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert message in result.stderr.str()
        assert "Traceback" not in result.stderr.str() + result.stdout.str()
