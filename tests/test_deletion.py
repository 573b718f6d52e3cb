"""Deletion readiness (SPEC 6): which shims can be deleted now, and what blocks the rest."""

from __future__ import annotations

import json
import textwrap

import pytest

from helpers import write_tree
from pytest_ssot.config import contract_from_mapping
from pytest_ssot.services.deletion import readiness, readiness_lines
from pytest_ssot.domain.verdicts import Verdict
from pytest_ssot.domain.checks import ContractRuntime
from pytest_ssot.scan import ScanResult, Violation

SHIM = """
import warnings
warnings.warn("{name} is deprecated", DeprecationWarning)
MOVED_TO = "pkg.canon:Canon"
"""

FILES = {
    "pkg/__init__.py": "",
    # The canonical still loads one shim (silencing its warning): that shim must stay.
    "pkg/canon.py": """
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pkg import keep

        class Canon:
            pass
    """,
    "pkg/keep.py": SHIM.format(name="pkg.keep"),
    "pkg/old1.py": SHIM.format(name="pkg.old1"),  # nothing needs it: removable
    "pkg/old2.py": SHIM.format(name="pkg.old2"),  # pkg.compat:Canon resolves through it
    "pkg/old3.py": SHIM.format(name="pkg.old3"),  # still referenced by app.py
    "pkg/compat.py": """
        import warnings
        warnings.warn("pkg.compat is deprecated", DeprecationWarning)
        from pkg.old2 import MOVED_TO
        from pkg.canon import Canon
    """,
    "app.py": "import pkg.old3\n",
}

PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.pytest-ssot]
paths = ["pkg", "app.py"]

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "pkg.canon:Canon"
legacy = ["pkg.keep", "pkg.old1", "pkg.old2", "pkg.old3", "pkg.compat:Canon"]
"""


def test_removable_and_blockers_end_to_end(pytester: pytest.Pytester) -> None:
    """Probes and scan together, under xdist; in GitHub Actions the controller alone
    appends the step summary."""
    write_tree(pytester.path, FILES)
    (pytester.path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    summary = pytester.path / "summary.md"
    pytester._monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester._monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest_subprocess("-n", "2", "--ssot-report=r.json", "-p", "no:randomly")
    result.stdout.fnmatch_lines([
        "deletion readiness c:",
        "  can be deleted now: pkg.old1",
        "  not yet: pkg.keep (1 reference(s) in 1 file(s); the canonical pkg.canon:Canon "
        "imports it)",
        "  not yet: pkg.old2 (1 reference(s) in 1 file(s); pkg.compat:Canon resolves "
        "through it)",
        "  not yet: pkg.old3 (1 reference(s) in 1 file(s))",
    ])
    doc = json.loads((pytester.path / "r.json").read_text())
    legacy = {e["path"]: (e.get("removable"), e.get("blockers"))
              for e in doc["contracts"][0]["legacy"]}
    assert legacy == {
        "pkg.keep": (False, [{"kind": "reference", "contract": "c", "file": "pkg/canon.py",
                              "line": 4, "path": "pkg.keep"},
                             {"kind": "canonical-import", "path": "pkg.canon:Canon"}]),
        "pkg.old1": (True, []),
        "pkg.old2": (False, [{"kind": "reference", "contract": "c", "file": "pkg/compat.py",
                              "line": 3, "path": "pkg.old2"},
                             {"kind": "resolves-through", "path": "pkg.compat:Canon"}]),
        "pkg.old3": (False, [{"kind": "reference", "contract": "c", "file": "app.py",
                              "line": 1, "path": "pkg.old3"}]),
        "pkg.compat:Canon": (None, None),  # an attribute entry: not a file to delete
    }
    md = summary.read_text()
    assert md.count("## pytest-ssot") == 1, md
    assert "| legacy | `pkg.old1` | warns |" in md
    assert "Can be deleted now: `pkg.old1`" in md


def _verdict(path: str, verdict: str = "warns", loaded: tuple[str, ...] = ()) -> Verdict:
    return Verdict(path=path, verdict=verdict, loaded=loaded)


def test_what_cannot_be_known_blocks() -> None:
    contract = contract_from_mapping({"name": "c", "canonical": "pkg.canon:Canon",
                                      "legacy": ["pkg.old", "pkg.gone"]}, "t", "contract")
    rt = ContractRuntime("c", _verdict("pkg.canon:Canon", "broken"),
                         [_verdict("pkg.old"), _verdict("pkg.gone", "absent")], [])
    scan = ScanResult(violations=[Violation("c", "pkg/x.py", 2, "definition", "definition",
                                            "pkg.canon:Canon", "pkg.canon:Canon", "other",
                                            "class Canon: ...")],
                      errors=[{"file": "pkg/bad.py", "message": "SyntaxError"}])
    (old, gone) = readiness([contract], {"c": rt}, scan)["c"]
    assert not old["removable"]
    assert {b["kind"] for b in old["blockers"]} == {"unknown"}  # a definition is no reference
    assert [b.get("files") for b in old["blockers"]] == [None, ["pkg/bad.py"]]
    lines = readiness_lines([contract], {"c": [old, gone]})
    assert lines[1] == "  can be deleted now: none"
    assert "pkg.gone" not in "\n".join(lines)  # already absent: nothing to delete
