"""The pytest11 entry point of pytest-ssot: options, markers, and nothing heavy.

Loaded in every pytest run of every environment that has the distribution installed, so
it imports only the standard library and pytest. The feature plugins (contracts, marker
runner, golden path) are imported and registered in ``pytest_configure`` only when their
feature is on.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..probe import SsotProber

_MARKERS = (
    "ssot: a runtime check of a pytest-ssot contract (generated from [tool.pytest-ssot])",
    "ssot_canonical(contract_or_canonical, legacy=[], factories=[], allow=[], "
    "alias_scope=[], deprecation_warnings=[], max_import_ms=0): run an SSOT contract's "
    "runtime checks (by contract name, or inline) before the test body; fail with the "
    "verdict table if they fail",
    "ssot_isolation: a generated per-user isolation check (from an @isolation_spec)",
    "golden_path: a test the release may not ship without; `pytest --golden-path` runs only "
    "these and fails unless every one passed",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ssot", "single source of truth checks (pytest-ssot)")
    group.addoption(
        "--ssot-strict", action="store_true", default=None, dest="ssot_strict",
        help="strict SSOT mode for this run: legacy paths and factories must be absent, "
             "undeclared aliases fail (default: the 'strict' key of [tool.pytest-ssot])",
    )
    group.addoption(
        "--ssot-report", metavar="PATH", default=None, dest="ssot_report",
        help="write the SSOT report to PATH: JSON, or SARIF 2.1.0 when PATH ends in .sarif",
    )
    group.addoption(
        "--ssot-html", metavar="PATH", default=None, dest="ssot_html",
        help="write a self-contained HTML dashboard of the SSOT report to PATH (verdicts, "
             "violations by area and kind, worst files; the burndown of the last "
             "`pytest-ssot history`). Needs the 'html' extra",
    )
    group.addoption(
        "--ssot-census", action="append", default=[], metavar="FILE", dest="ssot_census",
        help="a runtime census file (pytest_ssot.census.install); repeatable: legacy paths "
             "with runtime hits are not removable, and the report lists their callers",
    )
    group.addoption(
        "--ssot-cold", action="store_true", default=False, dest="ssot_cold",
        help="read nothing from the scan cache (every file is read and analysed); the "
             "cache is still refreshed",
    )
    group.addoption(
        "--ssot-verify", action="store_true", default=False, dest="ssot_verify",
        help="trust file contents, not timestamps, in the scan: every file is read and its "
             "content hash checked against the cache (for release jobs)",
    )
    group.addoption(
        "--ssot-update-baseline", action="store_true", default=False,
        dest="ssot_update_baseline",
        help="write the fingerprints of the current violations to the baseline file (the "
             "ratchet) and print what was added and dropped",
    )
    group.addoption(
        "--ssot-isolation-examples", type=int, default=None, metavar="N", dest="ssot_isolation_examples",
        help="hypothesis examples per asyncio isolation check (default: the hypothesis "
             "profile's max_examples)",
    )
    group.addoption(
        "--ssot-isolation-max-users", type=int, default=None, metavar="N",
        dest="ssot_isolation_max_users",
        help="largest number of users in a generated schedule (default 100; 1 still "
             "races several producers of one user)",
    )
    group.addoption(
        "--ssot-isolation-thread-trials", type=int, default=None, metavar="N",
        dest="ssot_isolation_thread_trials",
        help="random thread schedules per thread isolation check (default 30)",
    )
    group.addoption(
        "--golden-path", action="store_true", default=False, dest="golden_path",
        help="release gate: run only @golden_path tests and fail unless every one passed",
    )
    group.addoption(
        "--golden-path-report", metavar="PATH", default=None, dest="golden_path_report",
        help="with --golden-path: write the gate's verdict as JSON to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Runs in every process (controller and xdist workers) once options are parsed."""
    for line in _MARKERS:
        config.addinivalue_line("markers", line)

    for option in ("ssot_report", "ssot_html", "golden_path_report"):
        _check_writable(config, option)
    for option in ("ssot_isolation_examples", "ssot_isolation_max_users",
                   "ssot_isolation_thread_trials"):
        value = config.getoption(option)
        if value is not None and value < 1:  # 0 would run the check zero times
            raise pytest.UsageError(f"--{option.replace('_', '-')} must be at least 1, "
                                    f"got {value}")
    if config.getoption("ssot_cold") and config.getoption("ssot_verify"):
        raise pytest.UsageError("--ssot-cold and --ssot-verify exclude each other: --ssot-cold "
                                "reads nothing from the cache, --ssot-verify checks it")
    wanted = bool(config.getoption("ssot_strict") or config.getoption("ssot_report")
                  or config.getoption("ssot_html") or config.getoption("ssot_update_baseline")
                  or config.getoption("ssot_census"))
    pyproject = _pyproject_bytes(config)
    if b"contracts" in pyproject and b"canonical" in pyproject:  # (rare: parse only then)
        _warn_about_lookalike_tables(config)
    if wanted or b"pytest-ssot" in pyproject:
        from .session import SsotSessionPlugin

        SsotSessionPlugin.install(config)
    if config.getoption("golden_path") or config.getoption("golden_path_report"):
        from .release_gate import GoldenPathPlugin

        GoldenPathPlugin.install(config)


def _check_writable(config: pytest.Config, option: str) -> None:
    """A path we will write at the end (a report) that cannot be written is a usage error
    now, before the run, not a traceback that loses pytest's summary later (SPEC 12)."""
    target = config.getoption(option, None)
    if target == "" and not hasattr(config, "workerinput"):  # ``--ssot-report=``: nothing
        raise pytest.UsageError(f"--{option.replace('_', '-')}: expected a file path, got "
                                "an empty one")         # written, nothing said, otherwise
    if not target or hasattr(config, "workerinput"):
        return
    from ..atomic import target_problem

    problem = target_problem(config.invocation_params.dir / target)
    if problem is not None:
        raise pytest.UsageError(f"--{option.replace('_', '-')}: {problem}")


def _pyproject_bytes(config: pytest.Config) -> bytes:
    """Searched for bytes, not parsed: projects without the table pay (almost) nothing."""
    try:
        return (config.rootpath / "pyproject.toml").read_bytes()
    except OSError:
        return b""


_LOOKALIKES = pytest.StashKey[list]()


def _warn_about_lookalike_tables(config: pytest.Config) -> None:
    """Contracts under ``[tool.pytest_ssot]`` or ``[tool.ssot]`` are never read: say so in
    the header and as a configuration warning (shown under ``-q`` too)."""
    from ..config import lookalike_tables

    found = lookalike_tables(config.rootpath)
    config.stash[_LOOKALIKES] = found
    if hasattr(config, "workerinput"):
        return  # the controller says it
    for message in found:
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"pytest-ssot: {message}"), stacklevel=2)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"pytest-ssot: WARNING {m}" for m in config.stash.get(_LOOKALIKES, [])]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Add isolation items when a conftest registered an ``@isolation_spec`` (before
    ``-k``/``-m`` deselect), and register the ``@ssot_canonical`` runner only when a
    collected test uses the marker. Costs a dictionary look-up and one pass otherwise."""
    isolation = sys.modules.get("pytest_ssot.isolation")
    if isolation is not None and isolation.SPEC_ERRORS:
        raise pytest.UsageError("\n".join(isolation.SPEC_ERRORS))
    if (isolation is not None and isolation.REGISTRY
            and not config.getoption("golden_path")):  # the gate runs @golden_path only
        from .collection import collects_broadly

        if collects_broadly(config):
            from .isolation_items import build_items

            from .collection import report_generated

            new = build_items(session, isolation.REGISTRY)
            items.extend(new)
            report_generated(config, new)
    if config.pluginmanager.has_plugin("ssot-marker-runner"):
        return
    for item in items:
        if item.get_closest_marker("ssot_canonical") is not None:
            from .session import MarkerRunner

            config.pluginmanager.register(MarkerRunner(config), "ssot-marker-runner")
            return


@pytest.fixture
def ssot_probe(request: pytest.FixtureRequest) -> "SsotProber":
    """Resolve paths in fresh interpreter states: ``ssot_probe("pkg.mod:Name").verdict``.

    Returns a callable; ``ssot_probe.many([...])`` probes several paths in one batch.
    """
    import sys

    from ..probe import SsotProber

    timeout = 30.0
    session = request.config.pluginmanager.get_plugin("ssot-session")
    if session is not None:
        timeout = session.settings.probe_timeout
    return SsotProber(sys_path=list(sys.path), timeout=timeout)
