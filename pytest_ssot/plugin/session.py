"""The pytest side of contracts: config loading, items, shared probe results, reports.

Imported only when the project has a ``[tool.pytest-ssot]`` table (or an ssot option was
given), or when a collected test carries ``@ssot_canonical``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..config import contract_from_mapping, load_config, lookalike_tables
from ..domain.contracts import Contract, SsotConfig
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..domain.checks import Check, ContractRuntime
    from ..scan import ScanResult
    from ..scan.baseline import Baseline, Held

_WORKERINPUT_KEY = "ssot_runtime"
_WORKERINPUT_SCAN = "ssot_scan"


def _usage_error(exc: ConfigError) -> pytest.UsageError:
    return pytest.UsageError(f"pytest-ssot: {exc}")


class SsotSessionPlugin:
    """Contracts of ``[tool.pytest-ssot]`` for one pytest process.

    Registered in ``pytest_configure`` of every process (controller and xdist workers).
    The probes run once per session: in the only process, or in the xdist controller,
    which hands the results to the workers through ``workerinput``.
    """

    def __init__(self, config: pytest.Config, settings: SsotConfig) -> None:
        self.config = config
        self.settings = settings
        self.strict = bool(config.getoption("ssot_strict")) or settings.strict
        # what made the run strict, for the header (a user who did not pass the flag)
        source = settings.file.name if settings.file else "pyproject.toml"
        self.strict_from = ("--ssot-strict" if config.getoption("ssot_strict") else
                            f"strict = true in {source}" if settings.strict else "")
        # The session's import path as set up by pytest (``pythonpath``, rootdir conftest),
        # taken at one point so that every process probes with the same one.
        self.sys_path = list(sys.path)
        self.is_worker = hasattr(config, "workerinput")
        self._runtimes: dict[str, ContractRuntime] | None = None
        self._scan: ScanResult | None = None
        self._baseline: Baseline | None = None
        self._baseline_loaded = False
        self._held: Held | None = None
        self._baseline_changes: list[str] | None = None

    @classmethod
    def install(cls, config: pytest.Config) -> "SsotSessionPlugin":
        try:
            settings = load_config(config.rootpath)
        except ConfigError as exc:
            raise _usage_error(exc) from None
        strict = bool(config.getoption("ssot_strict")) or bool(settings and settings.strict)
        if strict and not (settings and settings.contracts) and (
                settings is not None or lookalike_tables(config.rootpath)):
            # (No table at all: --ssot-strict is the inline @ssot_canonical markers' switch.)
            raise _usage_error(ConfigError(
                "strict mode with no contracts would check nothing: declare them as "
                f"[[tool.pytest-ssot.contracts]] in {config.rootpath / 'pyproject.toml'}, "
                "or drop " + ("--ssot-strict" if config.getoption("ssot_strict")
                              else "'strict = true'")))
        settings = settings or SsotConfig()
        root = config.rootpath
        real_root = root.resolve()
        for entry in settings.paths if settings.contracts else ():
            # Said here, before any hook runs, not by the scan inside a check's item.
            where = f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r}"
            start = (root / entry).resolve()
            if start != real_root and real_root not in start.parents:
                raise _usage_error(ConfigError(f"{where} is outside the rootdir"))
            if not start.exists():
                raise _usage_error(ConfigError(
                    f"{where} does not exist (paths are relative to the rootdir)"))
        if settings.contracts and not hasattr(config, "workerinput"):
            _check_baseline_path(config, root / settings.baseline)
        if config.getoption("ssot_html") and not hasattr(config, "workerinput"):
            from ..report.html import MissingDependency, check_dependencies

            try:
                check_dependencies()
            except MissingDependency as exc:
                raise pytest.UsageError(f"--ssot-html: {exc}") from None
        plugin = cls(config, settings)
        config.pluginmanager.register(plugin, "ssot-session")
        if settings.contracts:  # the runtime census (SPEC 14): census_plugin.py
            from .census import CensusPlugin

            CensusPlugin.install(config, plugin)
        elif config.getoption("ssot_census", None):
            raise pytest.UsageError("--ssot-census: no contracts in [tool.pytest-ssot] of "
                                    f"{root / 'pyproject.toml'}: nothing to count hits for")
        if not plugin.is_worker and config.pluginmanager.has_plugin("xdist"):
            config.pluginmanager.register(_XdistController(plugin), "ssot-xdist-controller")
        return plugin

    # ------------------------------------------------------------------ results

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
        if self._runtimes is None:
            from ..domain.checks import ContractRuntime
            from ..probe.evaluate import evaluate

            shipped = getattr(self.config, "workerinput", {}).get(_WORKERINPUT_KEY)
            if shipped:
                self._runtimes = {k: ContractRuntime.from_dict(v)
                                  for k, v in json.loads(shipped).items()}
            else:
                self._runtimes = evaluate(self.settings.contracts, sys_path=self.sys_path,
                                          timeout=self.settings.probe_timeout,
                                          project_root=self.config.rootpath,
                                          strict=self.strict)
        return self._runtimes

    def runtime_for(self, name: str) -> "ContractRuntime":
        return self.runtimes()[name]

    @property
    def baseline_path(self) -> Path:
        return self.config.rootpath / self.settings.baseline

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
        if self._scan is None:
            from ..errors import ConfigError
            from ..scan import ScanResult, scan

            shipped = getattr(self.config, "workerinput", {}).get(_WORKERINPUT_SCAN)
            if shipped:
                self._scan = ScanResult.from_dict(json.loads(shipped))
            else:
                try:
                    # When the probes already ran, the canonical objects' ``__module__``
                    # tells where they are defined (no second definition there).
                    defined_in = {k: rt.canonical.defined_in
                                  for k, rt in (self._runtimes or {}).items()
                                  if rt.canonical.defined_in}
                    self._scan = scan(self.settings, self.config.rootpath,
                                      cache_path=self._cache_path(),
                                      defined_in=defined_in or None,
                                      cache_mode="cold" if self.config.getoption("ssot_cold")
                                      else "verify" if self.config.getoption("ssot_verify")
                                      else "use")
                except ConfigError as exc:
                    raise _usage_error(exc) from None
        return self._scan

    def baseline(self) -> "Baseline | None":
        if not self._baseline_loaded:
            from ..scan.baseline import load

            try:
                self._baseline = load(self.baseline_path)
            except ConfigError as exc:
                raise _usage_error(exc) from None
            self._baseline_loaded = True
        return self._baseline

    def held(self) -> "Held":
        """The scan held against the baseline (once per process)."""
        if self._held is None:
            from ..scan.baseline import hold

            self._held = hold(self.scan_result(), self.baseline())
        return self._held

    def readiness(self) -> dict[str, list[dict[str, Any]]]:
        """Deletion readiness of each shim (SPEC 6): needs the probes and the scan."""
        from ..services.deletion import readiness

        ready = readiness(self.settings.contracts, self.runtimes(), self.scan_result())
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # runtime hits block deletion too (SPEC 14)
            census.apply(ready, self.scan_result())
        return ready

    def reference_checks(self) -> dict[str, "Check"]:
        from ..scan.baseline import check_references

        result, held = self.scan_result(), self.held()
        return {c.name: check_references(c, result, held, self.strict, self.settings.baseline)
                for c in self.settings.contracts}

    def decide(self, contract: Contract | None, kind: str, target: str | None) -> "Check":
        """The verdict of one item's check, in this process."""
        if kind == "parse":
            from ..scan.baseline import check_scan_errors

            return check_scan_errors(self.scan_result())
        assert contract is not None
        if kind == "references":
            return self.reference_checks()[contract.name]
        from ..domain.checks import check_for

        return check_for(contract, self.runtime_for(contract.name), kind, target, self.strict)

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
        if not self.config.getoption("ssot_update_baseline"):
            self.baseline()
            return
        from ..scan.baseline import update

        try:
            self._baseline_changes = update(self.baseline_path, self.scan_result(),
                                            self.settings.contracts, self.config.rootpath)
        except ConfigError as exc:  # refused, or the disk is full: one line, no traceback
            raise _usage_error(exc) from None
        self._baseline_loaded = False
        self._held = None

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
        scan = self.scan_result() if self.settings.contracts else None
        held = self.held() if scan is not None else None
        if str(target).endswith(".sarif"):
            from ..report import violation_dicts
            from ..report.sarif import build_sarif

            doc = build_sarif(violation_dicts(scan, held) if scan else [],
                              scan.errors if scan else [], self.settings.contracts)
        else:
            doc = self._report_doc(scan, held)
        try:
            write_json(path, doc)
        except OSError as exc:  # checked before the run; the disk can still fill up
            self._report_error = f"ssot report NOT written to {path}: {exc}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        self._report_path = path

    def _report_doc(self, scan, held) -> dict:
        """The JSON report's document (SPEC 6): what ``--ssot-report`` writes and the
        dashboard shows."""
        from ..report import build_report

        doc = build_report(self.settings.contracts, self.runtimes(), self.strict, scan,
                           self.reference_checks() if scan else None, held,
                           self.readiness() if scan else None)
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # SPEC 14: callers and tests per legacy path
            doc["census"] = census.section(scan)
        return doc

    def _write_html(self, session: pytest.Session) -> None:
        from ..report.html import session_page_data, write_page

        scan = self.scan_result() if self.settings.contracts else None
        doc = self._report_doc(scan, self.held() if scan is not None else None)
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
        try:
            write_page(path, session_page_data(doc, history))
        except OSError as exc:  # checked before the run; the disk can still fill up
            self._html_error = f"ssot html NOT written to {path}: {exc}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        self._html_path = path

    def _github_step_summary(self) -> None:
        import os

        if os.environ.get("GITHUB_ACTIONS") != "true" or not os.environ.get(
                "GITHUB_STEP_SUMMARY") or not self.settings.contracts:
            return
        if self._runtimes is None and self._scan is None:
            return  # no contract item ran (``pytest tests/test_x.py``): nothing to say
        from ..report.github import append_step_summary, step_summary

        scan = self._scan
        markdown = step_summary(
            self.settings.contracts, scan, self.held() if scan is not None else None,
            self.reference_checks() if scan is not None else {}, self.strict,
            self._runtimes, self.readiness() if scan is not None and self._runtimes else None,
            strict_from=self.strict_from)
        self._summary_problem = append_step_summary(markdown)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or not self.settings.contracts:
            return
        if self._runtimes is None and self._scan is None:
            return
        from ..report import scan_lines, terminal_lines

        terminalreporter.section("pytest-ssot")
        if self._runtimes is not None:
            for line in terminal_lines(self.settings.contracts, self._runtimes, self.strict,
                                       self.strict_from):
                terminalreporter.line(line)
        if self._scan is not None:
            verbose = self.config.getoption("verbose") > 0
            for line in scan_lines(self.settings.contracts, self._scan,
                                   self.reference_checks(), verbose):
                terminalreporter.line(line)
        if self._scan is not None and self._runtimes is not None:
            from ..services.deletion import readiness_lines

            for line in readiness_lines(self.settings.contracts, self.readiness()):
                terminalreporter.line(line)
        census = self.config.pluginmanager.get_plugin("ssot-census")
        if census is not None:  # SPEC 14: the top callers of each legacy path
            from ..report.census import census_terminal_lines

            for line in census_terminal_lines(census.section(self._scan)):
                terminalreporter.line(line)
        if self._baseline_changes is not None:
            terminalreporter.line(f"baseline written: {self.baseline_path}")
            for line in self._baseline_changes:
                terminalreporter.line(line)
        if getattr(self, "_report_error", None):
            terminalreporter.line(self._report_error, red=True)
        report = getattr(self, "_report_path", None)
        if report is not None:
            terminalreporter.line(f"ssot report: {report}")
        if getattr(self, "_html_error", None):
            terminalreporter.line(self._html_error, red=True)
        html = getattr(self, "_html_path", None)
        if html is not None:
            terminalreporter.line(f"ssot html: {html}")
        problem = getattr(self, "_summary_problem", None)
        if problem:
            terminalreporter.line(f"pytest-ssot: {problem}", yellow=True)


def _check_baseline_path(config: pytest.Config, path: Path) -> None:
    """A baseline that is a folder or a FIFO is not "no baseline, no limit" (that would be a
    silent pass): a usage error before the run, as is one ``--ssot-update-baseline``
    could not write."""
    from ..atomic import resolve_target, target_problem
    from ..scan.baseline import update_problem

    problem = None
    if path.exists() and not resolve_target(path).is_file():
        problem = target_problem(path)
    elif config.getoption("ssot_update_baseline"):
        problem = update_problem(path, config.rootpath) or target_problem(path)
    if problem is not None:
        raise _usage_error(ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'baseline': "
                                       f"{problem}"))


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
