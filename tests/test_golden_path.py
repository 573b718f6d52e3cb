"""The release gate: every way to fool it fails, under xdist too."""

from __future__ import annotations

import json

import pytest

GOLDEN = """
import pytest
from pytest_ssot import golden_path

@golden_path
def test_login():
    pass

@golden_path
def test_agent_events():
    pass

def test_not_golden():
    raise AssertionError("must not run under --golden-path")
"""


def gate(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    result = pytester.runpytest_subprocess("--golden-path", "--golden-path-report",
                                           "gate.json", *args)
    return result, json.loads((pytester.path / "gate.json").read_text())


def test_all_golden_pass(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    pytester.makepyfile(test_flow=GOLDEN)
    result, report = gate(pytester, *xdist_args)
    assert result.ret == 0
    result.assert_outcomes(passed=2)
    assert result.stdout.lines[-1].strip("= ").startswith("GOLDEN PATH: PASS (2 test(s)")
    assert report["verdict"] == "pass" and report["reasons"] == [] and report["missing"] == []
    assert sorted(t["nodeid"] for t in report["tests"]) == [
        "test_flow.py::test_agent_events", "test_flow.py::test_login"]
    assert all(t["outcome"] == "passed" and t["duration"] >= 0 for t in report["tests"])


def test_plain_run_is_unchanged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=GOLDEN)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)
    assert "GOLDEN PATH" not in result.stdout.str()


FAILING = {
    "skip": ("pytest.skip('flaky infra')", "skipped (flaky infra)"),
    "skipif": ("", "skipped"),
    "xfail": ("pytest.xfail('known bug')", "xfailed"),
    "xfail_marker": ("raise AssertionError", "xfailed"),
    "xpass": ("pass", "xpassed"),
    "xpass_strict": ("pass", "failed"),
    "failure": ("assert 1 == 2", "failed"),
    "setup_error": ("pass", "error (in setup)"),
    "teardown_error": ("pass", "error (in teardown)"),
}

DECOR = {
    "skipif": "@pytest.mark.skipif(True, reason='not today')\n",
    "xfail_marker": "@pytest.mark.xfail(reason='known')\n",
    "xpass": "@pytest.mark.xfail(reason='known', strict=False)\n",
    "xpass_strict": "@pytest.mark.xfail(reason='known', strict=True)\n",
}

FIXTURES = """
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("db down")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("cleanup failed")
"""


@pytest.mark.parametrize("case", sorted(FAILING))
def test_every_non_pass_fails_the_gate(pytester: pytest.Pytester, case: str,
                                       xdist_args: list[str]) -> None:
    body, outcome = FAILING[case]
    fixture = {"setup_error": "broken_setup", "teardown_error": "broken_teardown"}.get(case, "")
    pytester.makeconftest(FIXTURES)
    pytester.makepyfile(test_case=f"""
import pytest
from pytest_ssot import golden_path

@golden_path
def test_ok():
    pass

@golden_path
{DECOR.get(case, '')}def test_case({fixture}):
    {body or 'pass'}
""")
    result, report = gate(pytester, *xdist_args)
    assert result.ret != 0, result.stdout.str()
    assert report["verdict"] == "fail"
    assert f"test_case.py::test_case: {outcome}" in " | ".join(report["reasons"]), report
    out = result.stdout.str()
    tail = out[out.rindex("GOLDEN PATH: FAIL"):]
    assert f"test_case.py::test_case: {outcome}" in tail


def test_deselection_by_k_fails_the_gate(pytester: pytest.Pytester,
                                         xdist_args: list[str]) -> None:
    pytester.makepyfile(test_flow=GOLDEN)
    result, report = gate(pytester, "-k", "login", *xdist_args)
    assert result.ret == 1
    assert report["verdict"] == "fail"
    assert any("test_flow.py::test_agent_events: deselected" in r for r in report["reasons"])


def test_deselection_by_m_fails_the_gate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=GOLDEN)
    result, report = gate(pytester, "-m", "not golden_path")
    assert result.ret == 1
    assert report["reasons"][0] == "no golden-path test ran"


def test_no_golden_tests_fails_even_though_pytest_would_exit_0(
        pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result, report = gate(pytester, *xdist_args)
    assert result.ret == 1
    assert report["reasons"][0].startswith("no golden-path test ran")
    assert result.stdout.lines[-2].strip("= ") == "GOLDEN PATH: FAIL"


def test_required_and_min_tests(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    pytester.makepyprojecttoml("""
        [tool.pytest-ssot.golden-path]
        required = ["test_flow.py::test_login", "test_flow.py::test_renamed_away"]
        min_tests = 3
    """)
    pytester.makepyfile(test_flow=GOLDEN)
    result, report = gate(pytester, *xdist_args)
    assert result.ret == 1
    assert report["missing"] == ["test_flow.py::test_renamed_away"]
    reasons = " | ".join(report["reasons"])
    assert "2 golden-path test(s) collected, fewer than min_tests = 3" in reasons
    assert "test_flow.py::test_renamed_away: required by [tool.pytest-ssot.golden-path] but " \
           "not collected" in reasons


def test_required_present_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
        [tool.pytest-ssot.golden-path]
        required = ["test_flow.py::test_login"]
        min_tests = 2
    """)
    pytester.makepyfile(test_flow=GOLDEN)
    result, report = gate(pytester, "-p", "no:cacheprovider")
    assert result.ret == 0 and report["verdict"] == "pass"


def test_class_and_module_marks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mod="""
        import pytest
        pytestmark = pytest.mark.golden_path

        def test_a():
            pass
    """, test_cls="""
        from pytest_ssot import golden_path

        @golden_path
        class TestFlow:
            def test_b(self):
                pass

        def test_other():
            pass
    """)
    result, report = gate(pytester)
    assert result.ret == 0
    assert sorted(t["nodeid"] for t in report["tests"]) == [
        "test_cls.py::TestFlow::test_b", "test_mod.py::test_a"]


def test_collection_error_fails_the_gate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=GOLDEN, test_broken="import nowhere_module_xyz\n")
    result, report = gate(pytester)
    assert result.ret != 0 and report["verdict"] == "fail"
    assert any("collection error" in r for r in report["reasons"])


def test_golden_marker_is_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=GOLDEN)
    result = pytester.runpytest_subprocess("--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.golden_path: a test the release may not ship*"])
