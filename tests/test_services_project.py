"""The application layer both entry points call (``services.project``): plain data in,
typed and frozen results out, on a small project in a temporary folder. No pytest run,
no probe: the static half (scan -> ratchet -> checks) and the decisions around it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pytest_ssot.config import load_config
from pytest_ssot.domain.contracts import SsotConfig
from pytest_ssot.errors import ConfigError
from pytest_ssot.services.project import (Mode, Project, ScanCheck, check_baseline_path,
                                          check_paths, check_scan)

from helpers import write_tree

PYPROJECT = """\
[tool.pytest-ssot]
paths = ["app"]

[[tool.pytest-ssot.contracts]]
name = "ws"
canonical = "app.core:Manager"
legacy = ["app.old"]
"""

FILES = {
    "app/__init__.py": "",
    "app/core.py": "class Manager:\n    pass\n",
    "app/old.py": "from app.core import Manager\n",
    "app/a.py": "import app.old\n",
    "app/b.py": "from app.core import Manager\n",
}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, SsotConfig]:
    write_tree(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    settings = load_config(tmp_path)
    assert settings is not None
    return tmp_path, settings


def _config(strict: bool, file: Path | None = None) -> SsotConfig:
    return dataclasses.replace(SsotConfig(), strict=strict, file=file)


@pytest.mark.parametrize(("flag", "configured", "strict", "source"), [
    (False, False, False, ""),
    (True, False, True, "--ssot-strict"),
    (False, True, True, "strict = true in pyproject.toml"),
    (True, True, True, "--ssot-strict"),  # the flag is named: it is what the user typed
])
def test_the_mode_is_decided_once_with_what_made_it_strict(
        flag: bool, configured: bool, strict: bool, source: str) -> None:
    mode = Mode.decide(flag, "--ssot-strict", _config(configured))
    assert mode == Mode(strict, source)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mode.strict = not strict  # type: ignore[misc]


def test_the_mode_names_the_configuration_file_it_came_from(tmp_path: Path) -> None:
    mode = Mode.decide(False, "--strict", _config(True, tmp_path / "ssot.toml"))
    assert mode.source == "strict = true in ssot.toml"


def test_check_scan_without_a_baseline_has_no_limit(project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    checked = check_scan(settings, root, Mode(False), cache_path=None)
    assert isinstance(checked, ScanCheck)
    assert [(v.file, v.path) for v in checked.result.violations] == [("app/a.py", "app.old")]
    assert checked.held.states == [None]
    assert checked.passed and checked.parse.passed
    assert checked.references["ws"].summary.endswith("no baseline (.ssot-baseline.json): "
                                                     "no limit")
    assert checked.listing() == ["app/a.py:1: [ws] app.old -> app.core"]
    assert checked.baseline_changes is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.result = None  # type: ignore[misc]


def test_check_scan_in_strict_mode_fails_on_any_violation(
        project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    checked = check_scan(settings, root, Mode(True, "--strict"), cache_path=None)
    assert not checked.passed
    assert not checked.references["ws"].passed
    assert "wants none (the baseline is ignored)" in checked.references["ws"].explanation


def test_the_ratchet_holds_what_the_baseline_holds_and_fails_what_is_new(
        project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    written = check_scan(settings, root, Mode(False), cache_path=None, update_baseline=True)
    assert written.baseline_changes is not None
    assert any("+ [ws] app/a.py:1" in line for line in written.baseline_changes)
    assert json.loads((root / ".ssot-baseline.json").read_text())["contracts"]["ws"]
    assert written.passed and written.held.states == ["unchanged"]
    assert written.listing() == ["app/a.py:1: [ws] app.old -> app.core  (baseline)"]

    (root / "app/b.py").write_text("from app.old import Manager\n")
    again = check_scan(settings, root, Mode(False), cache_path=None)
    assert not again.passed
    assert again.held.new("ws") == [1]
    assert again.listing()[1] == "app/b.py:1: [ws] app.old -> app.core:Manager  (new)"


def test_the_project_decides_items_as_the_command_does(
        project: tuple[Path, SsotConfig]) -> None:
    """The pytest path (``Project``, part by part) and the command path (``check_scan``)
    reach the same verdicts from the same data."""
    root, settings = project
    (root / "app/b.py").write_text("import app.old\n")
    check_scan(settings, root, Mode(False), cache_path=None, update_baseline=True)
    (root / "app/c.py").write_text("import app.old\n")
    command = check_scan(settings, root, Mode(False), cache_path=None)
    session = Project(settings, root, Mode(False))
    assert session.probed is None and session.scanned is None  # nothing ran yet
    contract = settings.contracts[0]
    assert session.decide(contract, "references", None) == command.references["ws"]
    assert session.decide(None, "parse", None) == command.parse
    assert session.held().states == list(command.held.states)
    assert session.scanned is not None and session.probed is None  # the scan only


def test_a_project_in_an_xdist_worker_uses_the_controllers_scan(
        project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    controller = Project(settings, root, Mode(False))
    shipped = json.dumps(controller.scan().to_dict())
    (root / "app/d.py").write_text("import app.old\n")  # not seen: the worker does not scan
    worker = Project(settings, root, Mode(False), shipped_scan=shipped)
    assert worker.scan().violations == controller.scan().violations


def test_update_baseline_then_holds_against_the_new_file(
        project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    session = Project(settings, root, Mode(False))
    assert session.baseline() is None and session.held().schema is None
    changes = session.update_baseline()
    assert changes and session.held().schema is not None  # read again after the write
    assert session.held().states == ["unchanged"]


def test_a_baseline_folder_is_a_configuration_error_in_both_orders(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    for updating in (False, True):
        for first in (False, True):
            with pytest.raises(ConfigError, match=r"key 'baseline': .*is a folder, not a"):
                check_baseline_path(tmp_path / "base", tmp_path, updating=updating,
                                    update_rules_first=first)
    # The two orders word it differently for an update (kept as the entry points had it).
    with pytest.raises(ConfigError, match="base is a folder, not a baseline file"):
        check_baseline_path(tmp_path / "base", tmp_path, updating=True,
                            update_rules_first=True)
    check_baseline_path(tmp_path / "absent.json", tmp_path, updating=False,
                        update_rules_first=True)  # no file: no baseline, no error


def test_an_update_outside_the_rootdir_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "elsewhere.json"
    for first in (False, True):
        with pytest.raises(ConfigError, match="outside the rootdir"):
            check_baseline_path(outside, root, updating=True, update_rules_first=first)


def test_scan_paths_must_exist_inside_the_rootdir(project: tuple[Path, SsotConfig]) -> None:
    root, settings = project
    check_paths(settings, root)
    with pytest.raises(ConfigError, match="'paths': '../x' is outside the rootdir"):
        check_paths(dataclasses.replace(settings, paths=("../x",)), root)
    with pytest.raises(ConfigError, match="'paths': 'nope' does not exist"):
        check_paths(dataclasses.replace(settings, paths=("nope",)), root)


def test_both_reports_share_the_contracts_scan_fields(project: tuple[Path, SsotConfig]) -> None:
    """``--ssot-report`` and ``scan --json`` write a contract's scan part from one
    function; the command's report keeps ``baseline`` last, as it always did."""
    from pytest_ssot.report import contract_scan_fields, scan_report

    root, settings = project
    check_scan(settings, root, Mode(False), cache_path=None, update_baseline=True)
    checked = check_scan(settings, root, Mode(False), cache_path=None)
    fields = contract_scan_fields("ws", checked.result, checked.held,
                                  checked.references["ws"])
    assert list(fields) == ["references", "canonical_by_source", "compliance",
                            "compliance_by_source", "baseline", "references_passed",
                            "references_summary"]
    assert fields["references"] == {"canonical": 1, "violations": 1}
    doc = scan_report(settings.contracts, checked.result, checked.held, checked.references,
                      strict=False)
    entry = doc["contracts"][0]
    assert list(entry)[:2] == ["name", "canonical"] and list(entry)[-1] == "baseline"
    assert {k: entry[k] for k in fields} == fields
