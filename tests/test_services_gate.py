"""The release gate's pure decision (``services.gate.decide``, SPEC 9): plain records in,
a verdict with every reason out. The pytest side is tested with pytester in
``test_golden_path.py``."""

from __future__ import annotations

from pytest_ssot.services.gate import GoldenRecord, decide


def _records(**outcomes: str) -> dict[str, GoldenRecord]:
    return {f"t.py::{k}": GoldenRecord(f"t.py::{k}", v) for k, v in outcomes.items()}


def test_every_golden_test_passed_is_a_pass() -> None:
    verdict = decide(_records(a="passed", b="passed"), [], (), 0, 0)
    assert verdict.passed and verdict.reasons == []
    assert verdict.to_dict()["verdict"] == "pass"
    assert [t["nodeid"] for t in verdict.tests] == ["t.py::a", "t.py::b"]


def test_nothing_ran_is_a_fail_never_a_silent_pass() -> None:
    verdict = decide({}, [], (), 0, 0)
    assert not verdict.passed
    assert verdict.reasons == ["no golden-path test ran: mark the release-critical tests "
                               "with @golden_path"]


def test_each_reason_is_said() -> None:
    records = _records(a="passed", b="skipped", c="not run")
    records["t.py::b"].detail = "no db"
    verdict = decide(records, ["t.py::d"], ("t.py::a", "t.py::d", "t.py::gone"), 5, 1)
    assert not verdict.passed
    assert verdict.reasons == [
        "1 collection error(s): golden-path tests may be missing",
        "t.py::d: deselected (by -k/-m or a plugin); the gate needs every golden-path test "
        "to run",
        "t.py::b: skipped (no db)",
        "t.py::c: not run",
        "3 golden-path test(s) collected, fewer than min_tests = 5",
        "t.py::gone: required by [tool.pytest-ssot.golden-path] but not collected (renamed, "
        "deleted, or not marked @golden_path?)",
    ]
    assert verdict.missing == ["t.py::gone"]  # the deselected one is a reason already
