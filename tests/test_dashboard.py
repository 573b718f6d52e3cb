"""The HTML dashboard: what it shows, that it needs no network, the pytest option, and a
real browser (headless Chromium) that lays it out and takes a screenshot."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import write_tree
from pytest_ssot.report.html import page_data, render

ROOT = Path(__file__).resolve().parent.parent

REPORT = {
    "schema": "pytest-ssot/1", "strict": False,
    "contracts": [{
        "name": "ws-manager",
        "canonical": {"path": "chat.ws.websocket_manager:WebSocketManager",
                      "verdict": "resolves", "passed": True, "error": None},
        "legacy": [
            {"path": "chat.ws.manager", "verdict": "warns", "warning": "deprecated",
             "error": None, "passed": True, "removable": False,
             "blockers": [{"kind": "reference", "contract": "ws-manager",
                           "file": "chat/routes/ws.py", "line": 1, "path": "chat.ws.manager"},
                          {"kind": "canonical-import",
                           "path": "chat.ws.websocket_manager:WebSocketManager"}]},
            {"path": "chat.ws.unified", "verdict": "warns", "warning": "deprecated",
             "error": None, "passed": True, "removable": True, "blockers": []},
        ],
        "factories": [{"path": "chat.ws:create_manager", "verdict": "broken",
                       "warning": None, "error": "RuntimeError: boom", "passed": False}],
        "references": {"canonical": 30, "violations": 3},
        "compliance": 0.9091, "passed": False,
    }],
    "violations": [
        {"contract": "ws-manager", "file": "chat/routes/ws.py", "line": 1, "kind": "import",
         "role": "legacy", "path": "chat.ws.manager", "fix": "x", "area": "P0"},
        {"contract": "ws-manager", "file": "chat/routes/ws.py", "line": 9, "kind": "string",
         "role": "legacy", "path": "chat.ws.manager", "fix": "x", "area": "P0"},
        {"contract": "ws-manager", "file": "chat/<script>alert(1)</script>.py", "line": 2,
         "kind": "call", "role": "factory", "path": "chat.ws:create_manager", "fix": "x",
         "area": "P1"},
    ],
    "errors": [{"file": "chat/broken.py", "message": "SyntaxError: invalid syntax (line 3)"}],
    "summary": {},
}


def _history(counts: list[int]) -> dict:
    return {"schema": "pytest-ssot-history/1", "commits": [
        {"commit": f"{i:040x}", "date": f"2026-03-{i + 1:02d}T09:00:00+00:00",
         "subject": "feature on the old path" if i == 4 else f"migrate step {i}",
         "contracts": {"ws-manager": {"violations": n, "canonical": 30,
                                      "compliance": round(30 / (30 + n), 4),
                                      "by_area": {"P0": n}}}}
        for i, n in enumerate(counts)]}


COUNTS = [40, 31, 25, 18, 29, 22, 12, 9, 3]  # the rise of +11 at index 4


def _page(tmp_path: Path) -> Path:
    page = tmp_path / "dashboard.html"
    page.write_text(render(page_data(REPORT, _history(COUNTS), source="test")), "utf-8")
    return page


def test_page_shows_every_part_and_marks_the_largest_rise(tmp_path: Path) -> None:
    html = _page(tmp_path).read_text("utf-8")
    for part in ("burndown", "regression", "by-area", "by-kind", "worst-files", "verdicts",
                 "deletable", "errors"):
        assert f'data-part="{part}"' in html, part
    assert "Largest rise: <strong>+11</strong>" in html
    assert "feature on the old path" in html
    assert "largest rise +11" in html  # the chart's legend names the marked series
    assert "chat.ws.unified" in html.split('data-part="deletable"')[1]  # removable: true
    assert ("1 reference(s) in 1 file(s): chat/routes/ws.py; the canonical "
            "chat.ws.websocket_manager:WebSocketManager imports it") in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "90.9%" in html  # compliance tile
    assert "RuntimeError: boom" in html


def test_page_needs_no_network(tmp_path: Path) -> None:
    html = _page(tmp_path).read_text("utf-8")
    # nothing to fetch: no src/href attribute, no CSS url(), no @import
    assert not re.search(r"""\s(?:src|href)\s*=|url\(|@import""", html)


def test_without_history_or_removable_fields_the_page_says_so(tmp_path: Path) -> None:
    report = json.loads(json.dumps(REPORT))
    for e in report["contracts"][0]["legacy"]:
        del e["removable"], e["blockers"]
    html = render(page_data(report, None, source="test"))
    assert 'data-part="burndown"' not in html
    assert "does not say which legacy modules are removable" in html


def test_it_says_why_removability_is_unknown(tmp_path: Path) -> None:
    """Removability is judged for legacy modules: a contract whose legacy and factory
    entries are all ``module:attr`` gets the reason, not a bare "not yet"."""
    report = json.loads(json.dumps(REPORT))
    contract = report["contracts"][0]
    contract["legacy"] = [{"path": "chat.ws:WebSocketManager", "verdict": "warns",
                           "warning": "deprecated", "passed": True}]
    html = render(page_data(report, None, source="test"))
    assert ("This report does not say which legacy modules are removable: every legacy "
            "and factory entry of this contract is an attribute (module:attr)") in html
    # module entries without the fields: made without the probes and the scan together
    report = json.loads(json.dumps(REPORT))
    for e in report["contracts"][0]["legacy"]:
        del e["removable"], e["blockers"]
    html = render(page_data(report, None, source="test"))
    assert "pytest --ssot-html=PATH" in html.split('data-part="deletable"')[1]


def test_plugin_and_commands_load_without_jinja2_or_pygal() -> None:
    code = ("import sys, pytest_ssot.plugin, pytest_ssot.plugin.session, pytest_ssot.cli, "
            "pytest_ssot.cli.commands.history, pytest_ssot.history.timeline; "
            "print(sorted(m for m in ('jinja2', 'pygal') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_plot_library_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path, capsys) -> None:
    import importlib.util

    from pytest_ssot.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pygal" else real(name, *a))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "c"\n'
        'canonical = "a.b:C"\nlegacy = ["a.old"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["history", "--html", "page.html"]) == 2
    err = capsys.readouterr().err
    assert err == ("pytest-ssot history: the HTML page needs pygal: "
                   "python -m pip install 'pytest-ssot[html]'\n")


PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.pytest-ssot]
paths = ["app"]

[tool.pytest-ssot.areas]
"app/routes" = "P0"

[[tool.pytest-ssot.contracts]]
name = "ws"
canonical = "app.new:Thing"
legacy = ["app.old"]
"""


def test_ssot_html_option_writes_the_page(pytester: pytest.Pytester) -> None:
    write_tree(pytester.path, {
        "app/__init__.py": "", "app/new.py": "class Thing:\n    pass\n",
        "app/old.py": "import warnings\nwarnings.warn('old', DeprecationWarning)\n",
        "app/routes/__init__.py": "", "app/routes/r.py": "import app.old\n",
        "test_x.py": "def test_x():\n    pass\n"})
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    # what the last `pytest-ssot history` left in pytest's cache
    cache = pytester.path / ".pytest_cache" / "d" / "ssot"
    cache.mkdir(parents=True)
    history = _history([3, 1])
    history["commits"] = [{**c, "contracts": {"ws": c["contracts"]["ws-manager"]}}
                          for c in history["commits"]]
    (cache / "history.json").write_text(json.dumps(history))
    result = pytester.runpytest("--ssot-html=out/page.html", "-p", "no:randomly")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["ssot html: *out*page.html"])
    html = (pytester.path / "out" / "page.html").read_text("utf-8")
    assert 'data-part="verdicts"' in html and "app/routes/r.py" in html
    assert '<span class="verdict warns">warns</span>' in html  # runtime verdicts
    assert 'data-part="burndown"' in html and "this pytest run" in html
    # deletion readiness from the report: app.old is still referenced
    assert "<code>app.old</code>: 1 reference(s) in 1 file(s): app/routes/r.py" in html


def test_ssot_html_without_the_plot_library_is_a_usage_error(pytester: pytest.Pytester) -> None:
    # a conftest runs before the plugin configures: jinja2 looks uninstalled from then on
    pytester.makeconftest("""
        import importlib.util
        _real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == "jinja2" else _real(name, *a)
    """)
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    pytester.mkdir("app")
    result = pytester.runpytest_subprocess("--ssot-html=page.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("ERROR: --ssot-html: the HTML page needs jinja2: "
            "python -m pip install 'pytest-ssot[html]'") in result.stderr.lines


# ---------------------------------------------------------------------- a real browser

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--mute-audio"]

# Runs in the page after layout: the box of every part that must be visible on screen.
_PROBE = """
<script>
(function () {
  var out = {};
  function box(name, el) {
    if (!el) { out[name] = null; return; }
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    out[name] = {w: r.width, h: r.height, left: r.left, right: r.right,
                 shown: s.display !== "none" && s.visibility !== "hidden" && s.opacity !== "0"};
  }
  box("chart", document.querySelector("[data-part=burndown] svg"));
  box("violations line", document.querySelector("[data-part=burndown] svg .serie-0 path.line"));
  box("compliance line", document.querySelector("[data-part=burndown] svg .serie-2 path.line"));
  box("rise dot", document.querySelector("[data-part=burndown] svg .serie-1 .dots circle"));
  box("regression", document.querySelector("[data-part=regression]"));
  box("verdicts", document.querySelector("[data-part=verdicts] table"));
  box("worst files", document.querySelector("[data-part=worst-files] table"));
  box("by area", document.querySelector("[data-part=by-area] .bar"));
  box("by kind", document.querySelector("[data-part=by-kind] .bar"));
  box("deletable", document.querySelector("[data-part=deletable] li"));
  box("compliance tile", document.querySelector("[data-kpi=compliance] .value"));
  out.viewport = document.documentElement.clientWidth;
  document.body.setAttribute("data-layout", JSON.stringify(out));
})();
</script>
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: .ci/run installs the Debian package "
                        "`chromium`; the browser test may not be skipped in CI")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def test_a_real_browser_shows_the_chart_and_the_tables(tmp_path: Path) -> None:
    chromium = _chromium()
    page = _page(tmp_path)
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text("utf-8").replace("</body>", _PROBE + "</body>"), "utf-8")
    artifacts = Path(os.environ.get("SSOT_ARTIFACTS", ROOT / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "dashboard.png"
    shot.unlink(missing_ok=True)
    out = subprocess.run(
        [chromium, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1600,1900", f"--screenshot={shot}", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    match = re.search(r'data-layout="([^"]*)"', out.stdout)
    assert match, f"chromium exited {out.returncode}: {out.stderr[-2000:]}"
    import html as html_module

    layout = json.loads(html_module.unescape(match.group(1)))
    for name, b in layout.items():
        if name == "viewport":
            continue
        assert b is not None, f"{name}: not in the page"
        assert b["shown"] and b["w"] > 0 and b["h"] > 0, f"{name} is not visible: {b}"
        assert b["left"] >= 0 and b["right"] <= layout["viewport"] + 1, f"{name} off screen"
    assert layout["chart"]["w"] > 1000 and layout["chart"]["h"] > 300  # a wall-screen chart
    # the screenshot: a PNG of the window's size with more in it than a blank page
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1600,
                                                                                       1900)
    assert len(data) > 60_000, "the screenshot is (almost) blank"
