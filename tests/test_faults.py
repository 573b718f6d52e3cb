"""The fault suite: every way we know to make pytest-ssot pass wrongly, hang, traceback or
lose data, run as a user would (SPEC 12; the README's "What happens when things go wrong").

One small project per case. Each case asserts the exit code, that no traceback into
pytest-ssot reached the user, that the message names what to fix, and that nothing passed
silently.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import write_tree
from isolation_corpus import CONFTEST as ISOLATION_CONFTEST
from isolation_corpus import CORRECT as ISOLATION_APP

CONTRACT = """
[tool.pytest-ssot]
{settings}

[[tool.pytest-ssot.contracts]]
name = "canon"
canonical = "pkg.canon:Canon"
legacy = ["pkg.old"]
{extra}
"""

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/canon.py": "class Canon:\n    pass\n",
    "pkg/old.py": "from pkg.canon import Canon\n",
    "app_code.py": "from pkg.old import Canon\n",
}


def project(pytester: pytest.Pytester, settings: str = "", extra: str = "",
            files: dict[str, str] | None = None) -> Path:
    """A project with one contract (its legacy path still referenced), importable."""
    pytester.makepyprojecttoml(CONTRACT.format(settings=settings, extra=extra)
                               + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {**PACKAGE, **(files or {})})
    return pytester.path


def no_traceback_of_ours(result: pytest.RunResult) -> None:
    text = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback (most recent call last)" not in text, text
    assert "INTERNALERROR" not in text, text
    assert "pytest_ssot/" not in text.replace("\\", "/"), text


# --------------------------------------------------------------------------- golden path

GOLDEN_TESTS = """
from pytest_ssot import golden_path

@golden_path
def test_login():
    pass

def test_other():
    pass
"""


def _gate(pytester: pytest.Pytester, *args: str, subprocess: bool = False
          ) -> tuple[pytest.RunResult, dict]:
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    result = run("--golden-path", "--golden-path-report", "gate.json", "-p", "no:randomly",
                 *args)
    no_traceback_of_ours(result)
    return result, json.loads((pytester.path / "gate.json").read_text())


def _gate_project(pytester: pytest.Pytester, tests: str, isolation: bool = False) -> None:
    project(pytester)
    if isolation:  # a subprocess run only: the spec registry is global to a process
        pytester.makeconftest(ISOLATION_CONFTEST)
        write_tree(pytester.path, {"app.py": ISOLATION_APP})
    pytester.makepyfile(test_flow=tests)


@pytest.mark.parametrize("mode", [[], ["-p", "no:xdist"], ["-x"], ["-m", "not slow"],
                                  ["-k", "not nothing"]])
def test_gate_with_no_golden_test_fails(pytester: pytest.Pytester, mode: list[str]) -> None:
    """Contract items are generated: none of them is golden (SPEC 9)."""
    _gate_project(pytester, "def test_plain():\n    pass\n")
    result, report = _gate(pytester, *mode)
    assert result.ret == 1, result.stdout.str()
    assert report["verdict"] == "fail" and report["tests"] == []
    assert report["reasons"][0].startswith("no golden-path test ran")
    result.stdout.fnmatch_lines(["*GOLDEN PATH: FAIL*", "*mark the release-critical tests*"])


def test_gate_counts_only_marked_tests_under_xdist(pytester: pytest.Pytester) -> None:
    """Contracts and an isolation spec, two workers: one golden test, min_tests = 2."""
    _gate_project(pytester, GOLDEN_TESTS, isolation=True)
    pytester.makepyprojecttoml(
        (pytester.path / "pyproject.toml").read_text()
        + "\n[tool.pytest-ssot.golden-path]\nmin_tests = 2\n")
    result, report = _gate(pytester, "-n", "2", subprocess=True)
    assert result.ret == 1
    assert [t["nodeid"] for t in report["tests"]] == ["test_flow.py::test_login"]
    assert "1 golden-path test(s) collected, fewer than min_tests = 2" in report["reasons"]


def test_gate_passes_with_its_golden_test_only(pytester: pytest.Pytester) -> None:
    _gate_project(pytester, GOLDEN_TESTS)
    result, report = _gate(pytester)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)
    assert result.stdout.lines[-1].strip("= ").startswith("GOLDEN PATH: PASS (1 test(s)")


def test_gate_after_a_failure_with_x_sw_and_lf(pytester: pytest.Pytester) -> None:
    """``-x`` leaves golden tests unrun; ``--sw`` deselects those that passed; ``--lf``
    never even collects them, so the gate refuses it before the run."""
    _gate_project(pytester, GOLDEN_TESTS + "\n@golden_path\ndef test_flaky():\n"
                  "    import os\n    assert os.path.exists('ok')\n\n"
                  "@golden_path\ndef test_last():\n    pass\n")
    result, report = _gate(pytester, "--sw")  # stops at the first failure, like -x
    assert result.ret != 0
    assert "test_flow.py::test_last: not run" in report["reasons"], report
    (pytester.path / "ok").write_text("")
    result, report = _gate(pytester, "--sw")
    assert result.ret == 1
    assert any("test_login: deselected" in r for r in report["reasons"]), report
    result = pytester.runpytest("--golden-path", "--lf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--golden-path runs every @golden_path test; --lf*"])
