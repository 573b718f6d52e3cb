"""The pytest side of contracts: usage errors, items, xdist hand-off, where reports go.

What is checked and how is ``services.project`` (the flow ``pytest-ssot scan`` runs too);
this module asks it for each part when an item or the end of the session needs it.

Imported only when the project has a ``[tool.pytest-ssot]`` table (or an ssot option was
given), or when a collected test carries ``@ssot_canonical``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..config import contract_from_mapping, load_config, lookalike_tables
from ..domain.contracts import Contract, SsotConfig
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..domain.checks import Check, ContractRuntime
    from ..scan import ScanResult
    from ..scan.baseline import Held
    from ..services.project import Mode

_WORKERINPUT_KEY = "ssot_runtime"
_WORKERINPUT_SCAN = "ssot_scan"


def _usage_error(exc: ConfigError) -> pytest.UsageError:
    return pytest.UsageError(f"pytest-ssot: {exc}")


@dataclass
class _Written:
    """What the end of the session wrote, or could not write, for the terminal summary."""

    report_path: Path | None = None
    report_error: str | None = None
    html_path: Path | None = None
    html_error: str | None = None
    summary_problem: str | None = None  # the GitHub step summary's
    baseline_changes: list[str] | None = None  # --ssot-update-baseline's


class SsotSessionPlugin:
    """Contracts of ``[tool.pytest-ssot]`` for one pytest process: the pytest side of
    ``services.project.Project``.

    Registered in ``pytest_configure`` of every process (controller and xdist workers).
    The probes run once per session: in the only process, or in the xdist controller,
    which hands the results to the workers through ``workerinput``.
    """

    def __init__(self, config: pytest.Config, settings: SsotConfig, mode: "Mode") -> None:
        from ..services.project import Project

        self.config = config
        self.settings = settings
        self.mode = mode  # decided once, in ``install``
        self.is_worker = hasattr(config, "workerinput")
        shipped = getattr(config, "workerinput", {})
        cache_mode = ("cold" if config.getoption("ssot_cold") else
                      "verify" if config.getoption("ssot_verify") else "use")
        # The session's import path as set up by pytest (``pythonpath``, rootdir conftest),
        # taken at one point so that every process probes with the same one.
        self.project = Project(settings, config.rootpath, self.mode, sys_path=list(sys.path),
                               cache_path=self._cache_path, cache_mode=cache_mode,
                               shipped_runtimes=shipped.get(_WORKERINPUT_KEY),
                               shipped_scan=shipped.get(_WORKERINPUT_SCAN))
        self.written = _Written()

    @classmethod
    def install(cls, config: pytest.Config) -> "SsotSessionPlugin":
        from ..services.project import Mode, check_baseline_path, check_paths

        try:
            settings = load_config(config.rootpath)
        except ConfigError as exc:
            raise _usage_error(exc) from None
        mode = Mode.decide(bool(config.getoption("ssot_strict")), "--ssot-strict",
                           settings or SsotConfig())
        if mode.strict and not (settings and settings.contracts) and (
                settings is not None or lookalike_tables(config.rootpath)):
            # (No table at all: --ssot-strict is the inline @ssot_canonical markers' switch.)
            raise _usage_error(ConfigError(
                "strict mode with no contracts would check nothing: declare them as "
                f"[[tool.pytest-ssot.contracts]] in {config.rootpath / 'pyproject.toml'}, "
                "or drop " + ("--ssot-strict" if mode.source == "--ssot-strict"
                              else "'strict = true'")))
        settings = settings or SsotConfig()
        root = config.rootpath
        try:
            check_paths(settings, root)
            if settings.contracts and not hasattr(config, "workerinput"):
                check_baseline_path(root / settings.baseline, root,
                                    updating=bool(config.getoption("ssot_update_baseline")),
                                    update_rules_first=False)
        except ConfigError as exc:
            raise _usage_error(exc) from None
        if config.getoption("ssot_html") and not hasattr(config, "workerinput"):
            from ..report.html import MissingDependency, check_dependencies

            try:
                check_dependencies()
            except MissingDependency as exc:
                raise pytest.UsageError(f"--ssot-html: {exc}") from None
        plugin = cls(config, settings, mode)
        config.pluginmanager.register(plugin, "ssot-session")
        if settings.contracts:  # the runtime census (SPEC 14): plugin/census.py
            from .census import CensusPlugin

            CensusPlugin.install(config, plugin.settings)
        elif config.getoption("ssot_census", None):
            raise pytest.UsageError("--ssot-census: no contracts in [tool.pytest-ssot] of "
                                    f"{root / 'pyproject.toml'}: nothing to count hits for")
        if not plugin.is_worker and config.pluginmanager.has_plugin("xdist"):
            config.pluginmanager.register(_XdistController(plugin), "ssot-xdist-controller")
        return plugin

    # ------------------------------------------------------------------ results

    @property
    def strict(self) -> bool:
        return self.mode.strict

    def wants_items(self) -> bool:
        """Contract items are collected when the run collects a directory (or no args).

        ``pytest tests/test_one.py::test_x`` is someone iterating on one test: the contract
        checks stay out of it unless ``--ssot-strict`` is given.
        """
        if not self.settings.contracts or self.config.getoption("golden_path"):
            return False  # the release gate runs only the user's @golden_path tests
        if self.config.getoption("ssot_strict"):
            return True
        from .collection import collects_broadly

        return collects_broadly(self.config)

    def runtimes(self) -> dict[str, "ContractRuntime"]:
        return self.project.runtimes()

    def runtime_for(self, name: str) -> "ContractRuntime":
        return self.runtimes()[name]

    def _cache_path(self) -> Path | None:
        cache = getattr(self.config, "cache", None)
        if cache is None or self.is_worker:
            return None
        try:
            return cache.mkdir("ssot") / "scan.cache"
        except OSError:
            return None  # no cache folder (read-only checkout, another user's): scan cold

    def scan_result(self) -> "ScanResult":
        """The static scan, once per session (shipped to xdist workers)."""
        try:
            return self.project.scan()
        except ConfigError as exc:
            raise _usage_error(exc) from None

    def held(self) -> "Held":
        """The scan held against the baseline (once per process)."""
        self.scan_result()
        try:
            return self.project.held()
        except ConfigError as exc:
            raise _usage_error(exc) from None

    def readiness(self) -> dict[str, list[dict[str, Any]]]:
        """Deletion readiness of each shim (SPEC 6), with the runtime census's hits."""
        ready = self.project.readiness()
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # runtime hits block deletion too (SPEC 14)
            census.apply(ready, self.scan_result())
        return ready

    def reference_checks(self) -> dict[str, "Check"]:
        self.held()
        return self.project.reference_checks()

    def decide(self, contract: Contract | None, kind: str, target: str | None) -> "Check":
        """The verdict of one item's check, in this process."""
        if kind == "parse":
            self.scan_result()  # (a configuration the scan cannot run: a usage error)
        elif kind == "references":
            self.held()
        return self.project.decide(contract, kind, target)

    # ------------------------------------------------------------------ hooks

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session,
                                      items: list[pytest.Item]) -> None:
        """Add one item per contract check, before ``-k``/``-m`` deselection runs."""
        if not self.wants_items():
            return
        from .items import ContractCheckItem, ContractNode, ContractsFile
        from ..domain.checks import check_specs

        path = self.settings.file or self.config.rootpath / "pyproject.toml"
        parent = ContractsFile.from_parent(session, path=path)
        new: list[pytest.Item] = []
        for contract in self.settings.contracts:
            node = ContractNode.from_parent(parent, name=contract.name)
            for kind, target in [*check_specs(contract), ("references", None)]:
                name = kind if target is None else f"{kind}[{target}]"
                new.append(ContractCheckItem.from_parent(
                    node, name=name, contract=contract, kind=kind, target=target, plugin=self))
        scan_node = ContractNode.from_parent(parent, name="scan")
        new.append(ContractCheckItem.from_parent(scan_node, name="parse", contract=None,
                                                 kind="parse", target=None, plugin=self))
        items[:0] = new
        from .collection import report_generated

        report_generated(self.config, new)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Controller / single process: a broken baseline stops the run here, before any
        test; ``--ssot-update-baseline`` writes the ratchet first, so that this run's
        references checks compare against it."""
        if self.is_worker or not self.settings.contracts:
            return
        try:
            if not self.config.getoption("ssot_update_baseline"):
                self.project.baseline()
                return
            self.scan_result()
            self.written.baseline_changes = self.project.update_baseline()
        except ConfigError as exc:  # refused, or the disk is full: one line, no traceback
            raise _usage_error(exc) from None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Controller / single process: write ``--ssot-report`` (JSON, or SARIF) and
        ``--ssot-html``, and in GitHub Actions append the summary to ``$GITHUB_STEP_SUMMARY``."""
        if self.is_worker:
            return
        self._github_step_summary()
        if self.config.getoption("ssot_html"):
            self._write_html(session)
        target = self.config.getoption("ssot_report")
        if not target:
            return
        from ..report import write_json

        path = self.config.invocation_params.dir / target
        if self.settings.contracts:
            self.held()  # (a broken baseline: a usage error, as before any report)
        doc = self.project.sarif() if str(target).endswith(".sarif") else self._report_doc()
        self.written.report_error = _write(session, "report", path,
                                           lambda: write_json(path, doc))
        if self.written.report_error is None:
            self.written.report_path = path

    def _report_doc(self) -> dict:
        """The JSON report's document (SPEC 6): what ``--ssot-report`` writes and the
        dashboard shows."""
        if self.settings.contracts:
            self.held()
        doc = self.project.report(readiness=self.readiness)
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # SPEC 14: callers and tests per legacy path
            doc["census"] = census.section(self.project.scanned if self.settings.contracts
                                           else None)
        return doc

    def _write_html(self, session: pytest.Session) -> None:
        from ..report.html import session_page_data, write_page

        doc = self._report_doc()
        history = None
        cache = getattr(self.config, "cache", None)
        if cache is not None:  # the last `pytest-ssot history` keeps its series there
            try:
                history = json.loads((cache.mkdir("ssot") / "history.json").read_text("utf-8"))
            except (OSError, ValueError):
                history = None
            if not isinstance(history, dict) or not isinstance(history.get("commits"), list):
                history = None
        path = self.config.invocation_params.dir / self.config.getoption("ssot_html")
        self.written.html_error = _write(session, "html", path,
                                         lambda: write_page(path, session_page_data(doc, history)))
        if self.written.html_error is None:
            self.written.html_path = path

    def _github_step_summary(self) -> None:
        import os

        if os.environ.get("GITHUB_ACTIONS") != "true" or not os.environ.get(
                "GITHUB_STEP_SUMMARY") or not self.settings.contracts:
            return
        runtimes, scan = self.project.probed, self.project.scanned
        if runtimes is None and scan is None:
            return  # no contract item ran (``pytest tests/test_x.py``): nothing to say
        from ..report.github import append_step_summary, step_summary

        markdown = step_summary(
            self.settings.contracts, scan, self.held() if scan is not None else None,
            self.reference_checks() if scan is not None else {}, self.strict,
            runtimes, self.readiness() if scan is not None and runtimes else None,
            strict_from=self.mode.source)
        self.written.summary_problem = append_step_summary(markdown)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or not self.settings.contracts:
            return
        runtimes, scan = self.project.probed, self.project.scanned
        if runtimes is None and scan is None:
            return
        terminalreporter.section("pytest-ssot")
        for line in self._summary_lines(runtimes, scan):
            terminalreporter.line(line)
        written = self.written
        if written.baseline_changes is not None:
            terminalreporter.line(f"baseline written: {self.project.baseline_path}")
            for line in written.baseline_changes:
                terminalreporter.line(line)
        if written.report_error:
            terminalreporter.line(written.report_error, red=True)
        if written.report_path is not None:
            terminalreporter.line(f"ssot report: {written.report_path}")
        if written.html_error:
            terminalreporter.line(written.html_error, red=True)
        if written.html_path is not None:
            terminalreporter.line(f"ssot html: {written.html_path}")
        if written.summary_problem:
            terminalreporter.line(f"pytest-ssot: {written.summary_problem}", yellow=True)

    def _summary_lines(self, runtimes: "dict[str, ContractRuntime] | None",
                       scan: "ScanResult | None") -> list[str]:
        """The section's verdicts, scan, deletion readiness and census lines."""
        from ..report import scan_lines, terminal_lines

        lines: list[str] = []
        if runtimes is not None:
            lines += terminal_lines(self.settings.contracts, runtimes, self.strict,
                                    self.mode.source)
        if scan is not None:
            verbose = self.config.getoption("verbose") > 0
            lines += scan_lines(self.settings.contracts, scan, self.reference_checks(),
                                verbose)
        if scan is not None and runtimes is not None:
            from ..services.deletion import readiness_lines

            lines += readiness_lines(self.settings.contracts, self.readiness())
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # SPEC 14: the top callers of each legacy path
            from ..report.census import census_terminal_lines

            lines += census_terminal_lines(census.section(scan))
        return lines


def _write(session: pytest.Session, what: str, path: Path, write: Any) -> str | None:
    """Write one report: ``None``, or the line said at the end (the run then fails). The
    target was checked before the run; the disk can still fill up."""
    try:
        write()
    except OSError as exc:
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return f"ssot {what} NOT written to {path}: {exc}"
    return None


class _XdistController:
    """xdist controller only: probe once, ship the verdicts to every worker."""

    def __init__(self, plugin: SsotSessionPlugin) -> None:
        self.plugin = plugin
        self._payload: str | None = None

    def pytest_configure_node(self, node: Any) -> None:
        if not self.plugin.wants_items():
            return
        if self._payload is None:
            self._payload = json.dumps({k: v.to_dict()
                                        for k, v in self.plugin.runtimes().items()})
            self._scan_payload = json.dumps(self.plugin.scan_result().to_dict())
        node.workerinput[_WORKERINPUT_KEY] = self._payload
        node.workerinput[_WORKERINPUT_SCAN] = self._scan_payload


class MarkerRunner:
    """Runs ``@ssot_canonical`` checks before a marked test's body (the test's process)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _contract(self, item: pytest.Item, marker: pytest.Mark,
                  session: SsotSessionPlugin | None) -> tuple[Contract, bool]:
        where = f"@ssot_canonical on {item.nodeid}"
        if len(marker.args) != 1 or not isinstance(marker.args[0], str):
            pytest.fail(f"{where}: expects one string: a contract name from "
                        "[tool.pytest-ssot] or a canonical path 'module:attr'", pytrace=False)
        arg = marker.args[0]
        if session is not None and not marker.kwargs:
            named = session.settings.contract(arg)
            if named is not None:
                return named, True
        if ":" not in arg and "." not in arg and not marker.kwargs:
            known = ", ".join(c.name for c in session.settings.contracts) if session else ""
            pytest.fail(f"{where}: no contract named {arg!r} in [tool.pytest-ssot]"
                        + (f"; known contracts: {known}" if known else
                           "; declare it there, or pass a canonical path 'module:attr'"),
                        pytrace=False)
        try:
            contract = contract_from_mapping({"name": "inline", "canonical": arg,
                                              **marker.kwargs}, where, "marker arguments")
        except ConfigError as exc:
            problem = str(exc)
        else:
            return contract, False
        pytest.fail(problem, pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        marker = item.get_closest_marker("ssot_canonical")
        if marker is not None:
            self._check(item, marker)
        return (yield)

    def _check(self, item: pytest.Item, marker: pytest.Mark) -> None:
        from ..domain.checks import checks
        from ..probe.evaluate import evaluate

        session: SsotSessionPlugin | None = self.config.pluginmanager.get_plugin("ssot-session")
        contract, named = self._contract(item, marker, session)
        strict = session.strict if session else bool(self.config.getoption("ssot_strict"))
        if named and session is not None:
            runtime = session.runtime_for(contract.name)
        else:
            timeout = session.settings.probe_timeout if session else 30.0
            runtime = evaluate([contract], sys_path=list(sys.path), timeout=timeout)[contract.name]
        failed = [c for c in checks(contract, runtime, strict) if not c.passed]
        if not failed:
            return
        # A contract from the config has items of its own in this run (unless deselected):
        # they explain each failure and its fix; say which, instead of repeating them.
        explained = _explaining_items(item, contract.name) if named else {}
        lines = [f"SSOT contract {contract.name} ({contract.canonical}) failed "
                 f"{len(failed)} check(s):"]
        unexplained = []
        for c in failed:
            lines.append(f"  {c.title}: {c.summary}")
            node = explained.get((c.kind, c.path))
            if node is None:
                unexplained.append(c)
            else:
                lines.append(f"    explained by {node}")
        if unexplained:
            lines += ["", "\n\n".join(c.explanation for c in unexplained)]
        else:
            lines.append("(each failure's explanation and fix: the item named under it)")
        pytest.fail("\n".join(lines), pytrace=False)


def _explaining_items(item: pytest.Item, contract: str) -> dict[tuple[str, str | None], str]:
    """The contract's check items that this run will run: ``(kind, path) -> node id``."""
    from .items import ContractCheckItem

    return {(i.kind, i.target): i.nodeid for i in item.session.items
            if isinstance(i, ContractCheckItem) and i.contract is not None
            and i.contract.name == contract}
