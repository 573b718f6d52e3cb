"""The test-time runtime census (SPEC 14): which tests and callers reach a legacy path.

Registered by ``SsotSessionPlugin.install`` only when the project declares contracts (a
run without ``[tool.pytest-ssot]`` never imports this module). Runs in every process: each
records what its own tests reach; xdist workers send their records to the controller
through ``workeroutput``, where they are merged before the report is written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Generator

import pytest

from ..census import (ImportWatch, Recorder, activate, deactivate, not_a_census_file,
                     project_identity, read_census, watches_from_contracts)
from ..report.census import SESSION, TestCensus, add_runtime_blockers, census_section

if TYPE_CHECKING:
    from ..census import CensusMerge
    from ..domain.contracts import SsotConfig
    from ..scan import ScanResult

_WORKEROUTPUT_KEY = "ssot_census"


class CensusPlugin:
    """Records, per running test (or collecting module), the callers of legacy paths."""

    def __init__(self, config: pytest.Config, settings: "SsotConfig") -> None:
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        watches = watches_from_contracts(settings.contracts)
        self.project = project_identity(config.rootpath / "pyproject.toml")
        # No cap worth the name at test time: every caller is evidence.
        self.rec = Recorder(watches, root=config.rootpath, max_callers=100_000,
                            project=self.project)
        self.imports = ImportWatch(self.rec)
        self.test = TestCensus()
        self._merge: CensusMerge | None = None
        self._merged = False
        self.lost: list[str] = []  # xdist workers whose records never arrived

    @classmethod
    def install(cls, config: pytest.Config, settings: "SsotConfig") -> "CensusPlugin":
        plugin = cls(config, settings)
        for f in config.getoption("ssot_census", None) or ():
            why = not_a_census_file(config.invocation_params.dir / f)
            if why is not None:
                raise pytest.UsageError(f"--ssot-census: {f}: {why}")
        activate(plugin.rec)
        plugin.imports.start()
        config.pluginmanager.register(plugin, "ssot-census")
        if not plugin.is_worker and config.pluginmanager.has_plugin("xdist"):
            config.pluginmanager.register(_XdistCensus(plugin), "ssot-census-xdist")
        return plugin

    # ------------------------------------------------------------------ recording

    def _take(self) -> None:
        counts, overflow = self.rec.take()
        for (path, caller, ctx), (n, _first, _last) in counts.items():
            self.test.add(path, caller, ctx or SESSION, n)
        for path, n in overflow.items():
            self.test.add(path, "<other callers>", SESSION, n)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        before = self.rec.context
        self.rec.context = collector.nodeid or SESSION
        try:
            return (yield)
        finally:
            self.rec.context = before

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, Any, Any]:
        # pytest-ssot's own items (contract checks, generated isolation checks) are not
        # callers of the project's legacy paths.
        own = type(item).__module__.startswith("pytest_ssot.")
        self.rec.context, self.rec.paused = item.nodeid, own
        try:
            return (yield)
        finally:
            self.rec.context, self.rec.paused = None, False

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._take()
        if self.is_worker:
            self.config.workeroutput[_WORKEROUTPUT_KEY] = json.dumps(self.test.to_list())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.imports.stop()
        deactivate(self.rec)

    # ------------------------------------------------------------------ results

    def merge(self) -> "CensusMerge | None":
        """The census files of ``--ssot-census`` (read once), or None."""
        files = self.config.getoption("ssot_census", None)
        if not files:
            return None
        if not self._merged:
            self._merge = read_census([self.config.invocation_params.dir / f for f in files],
                                      project=self.project)
            self._merged = True
        return self._merge

    def section(self, scan: "ScanResult | None") -> dict[str, Any]:
        self._take()
        out = census_section(self.test, self.merge(), scan)
        if self.lost:
            out["lost_workers"] = list(self.lost)
        return out

    def apply(self, ready: dict[str, list[dict[str, Any]]], scan: "ScanResult | None") -> None:
        add_runtime_blockers(ready, self.section(scan))
        if self.lost:  # what those workers' tests reached is unknown: nothing is removable
            for entries in ready.values():
                for e in entries:
                    e["removable"] = False
                    e["blockers"] = [*e["blockers"], {
                        "kind": "unknown", "workers": list(self.lost),
                        "reason": "the runtime census of a crashed xdist worker was lost"}]


class _XdistCensus:
    """xdist controller only: merge each worker's census when it finishes."""

    def __init__(self, plugin: CensusPlugin) -> None:
        self.plugin = plugin

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        rows = getattr(node, "workeroutput", {}).get(_WORKEROUTPUT_KEY)
        if rows is None:
            self.plugin.lost.append(str(getattr(node, "gateway", node).id
                                        if hasattr(node, "gateway") else node))
            return
        self.plugin.test.extend(json.loads(rows))

