"""The release gate's decision (SPEC 9), pure: from what the golden-path tests did, what
was deselected, required and collected, pass or fail with every reason. The pytest side
(recording outcomes, xdist, the exit code, the verdict's lines) is ``plugin.release_gate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["GoldenRecord", "GateVerdict", "decide"]


@dataclass
class GoldenRecord:
    """What one golden-path test did (its outcome as the gate names it)."""

    nodeid: str
    outcome: str = "not run"  # passed | failed | error | skipped | xfailed | xpassed
    duration: float = 0.0
    detail: str = ""


@dataclass
class GateVerdict:
    """The gate's verdict: pass or fail, every reason, each test's outcome."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": "pass" if self.passed else "fail", "reasons": self.reasons,
                "tests": self.tests, "missing": self.missing}


def decide(records: dict[str, GoldenRecord], deselected: list[str], required: tuple[str, ...],
           min_tests: int, collection_errors: int) -> GateVerdict:
    """Pure decision of the gate from what happened; see SPEC 9."""
    reasons: list[str] = []
    if collection_errors:
        reasons.append(f"{collection_errors} collection error(s): golden-path tests may be "
                       "missing")
    for nodeid in deselected:
        reasons.append(f"{nodeid}: deselected (by -k/-m or a plugin); the gate needs every "
                       "golden-path test to run")
    for rec in records.values():
        if rec.outcome != "passed":
            why = f" ({rec.detail})" if rec.detail else ""
            reasons.append(f"{rec.nodeid}: {rec.outcome}{why}")
    ran = [r for r in records.values() if r.outcome != "not run"]
    if not ran and not deselected:
        reasons.insert(0, "no golden-path test ran: mark the release-critical tests with "
                          "@golden_path")
    elif not ran:
        reasons.insert(0, "no golden-path test ran")
    if min_tests and len(records) < min_tests:
        reasons.append(f"{len(records)} golden-path test(s) collected, fewer than "
                       f"min_tests = {min_tests}")
    missing = []
    for nodeid in required:
        rec = records.get(nodeid)
        if rec is None:
            if nodeid in deselected:
                continue  # already a reason
            missing.append(nodeid)
            reasons.append(f"{nodeid}: required by [tool.pytest-ssot.golden-path] but not "
                           "collected (renamed, deleted, or not marked @golden_path?)")
    tests = [{"nodeid": r.nodeid, "outcome": r.outcome, "duration": round(r.duration, 6)}
             for r in records.values()]
    return GateVerdict(passed=not reasons, reasons=reasons, tests=tests, missing=missing)
