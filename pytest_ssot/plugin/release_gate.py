"""The release gate: ``pytest --golden-path`` (not named golden_path.py: that would shadow
the public marker ``pytest_ssot.golden_path`` once imported).

Registered only with ``--golden-path`` (or ``--golden-path-report``). In every process it
keeps only ``@golden_path`` tests; the controller (or the only process) records every
report, decides the verdict at the end, prints it last and turns a failed gate into a
non-zero exit code. Under xdist the workers' reports reach the controller through the
ordinary ``pytest_runtest_logreport`` stream, so the decision is made in one place.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..services.gate import GateVerdict, GoldenRecord, decide

_MARK = "golden_path"
# Markers of the items pytest-ssot generates (contract checks, isolation checks): such an
# item is never golden, whatever marks a conftest or a parent node adds to it (SPEC 9).
_GENERATED = ("ssot", "ssot_isolation")


def is_golden(item: pytest.Item) -> bool:
    """A test the user marked ``@golden_path``, never an item pytest-ssot generated."""
    if item.get_closest_marker(_MARK) is None:
        return False
    return not any(item.get_closest_marker(m) is not None for m in _GENERATED)


class GoldenPathPlugin:
    """The gate; one instance per process, deciding only outside xdist workers."""

    def __init__(self, config: pytest.Config, required: tuple[str, ...],
                 min_tests: int) -> None:
        self.config = config
        self.required = required
        self.min_tests = min_tests
        self.is_worker = hasattr(config, "workerinput")
        self.records: dict[str, GoldenRecord] = {}
        self.deselected: list[str] = []
        self.collection_errors = 0
        self.verdict: GateVerdict | None = None

    @classmethod
    def install(cls, config: pytest.Config) -> None:
        if config.getoption("lf", False):
            # --lf drops the tests that passed last time while collecting their modules,
            # before any hook could see them: a gate could not tell what it never ran.
            raise pytest.UsageError(
                "--golden-path runs every @golden_path test; --lf/--last-failed would run "
                "only those that failed last time: drop --lf (--ff or --sw are fine)")
        required: tuple[str, ...] = ()
        min_tests = 0
        session = config.pluginmanager.get_plugin("ssot-session")
        if session is not None:
            required = session.settings.golden_path.required
            min_tests = session.settings.golden_path.min_tests
        gate = cls(config, required, min_tests)
        config.pluginmanager.register(gate, "ssot-golden-path")
        if not gate.is_worker and config.pluginmanager.has_plugin("xdist"):
            config.pluginmanager.register(_GateXdistHooks(gate), "ssot-golden-path-xdist")

    # ------------------------------------------------------------------ collection

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> Any:
        """Keep only golden-path tests; then see what ``-k``/``-m`` took away from them.

        Filtered twice: before the other implementations run (so that ``-k``/``-m`` see
        only golden tests and their deselections are the gate's), and after them, because
        non-wrapper implementations inside this wrapper (the contract and isolation items
        of pytest-ssot, any other plugin's) may add items that are not golden.
        """
        golden = [i for i in items if is_golden(i)]
        items[:] = golden  # not a deselection: the gate runs golden-path tests only
        result = yield
        items[:] = [i for i in items if is_golden(i)]
        # Every golden test is recorded as "not run" until a report says otherwise: a
        # plugin that drops one without calling ``pytest_deselected`` (or drops it after
        # this wrapper, like ``--lf``'s outer wrapper) fails the gate as "not run".
        for item in golden:
            self.records.setdefault(item.nodeid, GoldenRecord(item.nodeid))
        return result

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """``-k``, ``-m``, ``--lf``, ``--deselect`` or a plugin took golden tests away."""
        for item in items:
            if is_golden(item) and item.nodeid not in self.deselected:
                self.deselected.append(item.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors += 1

    # ------------------------------------------------------------------ outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        rec = self.records.get(report.nodeid)
        if rec is None:  # under xdist the controller learns the ids from the reports
            rec = self.records[report.nodeid] = GoldenRecord(report.nodeid)
        rec.duration += getattr(report, "duration", 0.0) or 0.0
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            if xfail:
                rec.outcome = "xpassed" if report.passed else "xfailed"
                rec.detail = f"xfail: {report.wasxfail}" if report.wasxfail else "xfail"
            elif report.passed:
                rec.outcome = "passed" if rec.outcome in ("not run", "passed") else rec.outcome
            elif report.skipped:
                rec.outcome, rec.detail = "skipped", _skip_reason(report)
            else:
                rec.outcome = "failed"
        elif report.failed:
            rec.outcome = "error"
            rec.detail = f"in {report.when}"
        elif report.skipped:
            if xfail:
                rec.outcome = "xfailed"
                rec.detail = f"xfail: {report.wasxfail}" if report.wasxfail else "xfail"
            else:
                rec.outcome, rec.detail = "skipped", _skip_reason(report)

    # ------------------------------------------------------------------ verdict

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Any:
        """Decide before the terminal summary; print the verdict after everything else.

        Outermost wrapper: what follows ``yield`` runs after the terminal reporter printed
        its summary and the final stats line, so the gate's verdict is the last word.
        """
        if self.is_worker:
            # A worker's deselection is invisible to the controller: send it along.
            self.config.workeroutput["ssot_golden_deselected"] = list(self.deselected)
            self.config.workeroutput["ssot_golden_collection_errors"] = self.collection_errors
            return (yield)
        for nodeid in self.deselected:
            self.records.pop(nodeid, None)
        self.verdict = decide(self.records, self.deselected, self.required, self.min_tests,
                              self.collection_errors)
        target = self.config.getoption("golden_path_report")
        if target:
            from ..report import write_json

            try:
                write_json(self.config.invocation_params.dir / target, self.verdict.to_dict())
            except OSError as exc:  # checked before the run; the disk can still fill up
                self.verdict.passed = False
                self.verdict.reasons.append(f"--golden-path-report not written: {exc}")
        if not self.verdict.passed and session.exitstatus in (
                pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        result = yield
        self._print_verdict()
        return result

    def _print_verdict(self) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or self.verdict is None:
            return
        v = self.verdict
        if v.passed:
            tr.write_sep("=", f"GOLDEN PATH: PASS ({len(v.tests)} test(s), all passed)",
                         green=True, bold=True)
            return
        tr.write_sep("=", "GOLDEN PATH: FAIL", red=True, bold=True)
        for reason in v.reasons:
            tr.write_line(f"  - {reason}", red=True)
        for t in v.tests:
            tr.write_line(f"  {t['outcome']:<8} {t['nodeid']}")


class _GateXdistHooks:
    """xdist controller only: what the workers collected, deselected and failed to collect."""

    def __init__(self, gate: GoldenPathPlugin) -> None:
        self.gate = gate

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist controller: the workers collected (after ``-k``/``-m``) these ids."""
        for nodeid in ids:
            self.gate.records.setdefault(nodeid, GoldenRecord(nodeid))

    @pytest.hookimpl(tryfirst=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        out = getattr(node, "workeroutput", {}) or {}
        for nodeid in out.get("ssot_golden_deselected", []):
            if nodeid not in self.gate.deselected:
                self.gate.deselected.append(nodeid)
        self.gate.collection_errors = max(self.gate.collection_errors,
                                          out.get("ssot_golden_collection_errors", 0))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""
