"""What ``pytest-ssot --version`` and each ``--help`` tell a newcomer: the version, what a
command does in one paragraph, and what its exit codes mean."""

from __future__ import annotations

import sys
from importlib.metadata import version

import pytest

COMMANDS = ["scan", "fix", "discover", "history"]


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_ssot.cli", *args)


def test_version_is_the_distributions(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--version")
    assert result.ret == 0, result.stderr.str()
    assert result.stdout.str().strip() == f"pytest-ssot {version('pytest-ssot')}"


def test_top_level_help_describes_the_tool_and_its_commands(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--help")
    assert result.ret == 0
    out = result.stdout.str()
    assert "--version" in out
    assert "import consolidation" in out  # a description, not a tag line
    for command in COMMANDS:
        assert command in out
    assert "exit codes:" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_help_has_a_description_and_the_exit_codes(pytester: pytest.Pytester,
                                                        command: str) -> None:
    result = _run(pytester, command, "--help")
    assert result.ret == 0, result.stderr.str()
    out = result.stdout.str()
    usage, _, rest = out.partition("\n\n")
    assert usage.startswith("usage: ")
    description = rest.partition("\n\n")[0]
    assert len(description.split()) >= 15, description  # a paragraph, not a tag line
    codes = out.partition("exit codes:")[2]
    assert codes, out
    for code in ("0", "2"):
        assert f"\n  {code} " in codes, codes
    assert "--rootdir" in usage  # every command takes the project root


def test_the_readme_synopses_are_complete() -> None:
    """Each command's synopsis in the command-line reference (docs/cli.md, where the README
    points) names every option its --help lists."""
    import re
    from pathlib import Path

    import json
    import subprocess

    readme = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    # In a process of its own: the command modules stay out of this (xdist) process.
    code = ("import json; from pytest_ssot.cli import _parser; p = _parser([]); "
            "sub = next(a for a in p._actions if a.dest == 'command'); "
            "print(json.dumps({n: [o for a in c._actions for o in a.option_strings] "
            "for n, c in sub.choices.items()}))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    choices = json.loads(got.stdout)
    for command in COMMANDS:
        synopses = [m.group(0) for m in re.finditer(
            rf"^pytest-ssot {command} (?:.*\n {{{len('pytest-ssot ' + command)},}})*.*$",
            readme, re.M) if "[" in m.group(0)]
        assert synopses, f"no synopsis of {command} in docs/cli.md"
        text = " ".join(synopses)
        options = [o for o in choices[command] if o.startswith("--") and o != "--help"]
        missing = [o for o in options if o not in text]
        assert not missing, f"docs/cli.md synopsis of {command} lacks {missing}"


def test_requires_python_is_what_the_nox_matrix_proves() -> None:
    """The bounds the distribution declares are the versions the matrix runs (no more:
    a newer Python is unproven; no less: an older one is refused by pip)."""
    import ast
    from pathlib import Path

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    root = Path(__file__).resolve().parent.parent
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    tree = ast.parse((root / "noxfile.py").read_text())
    matrix = next(ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PYTHONS")
    minors = sorted(int(v.split(".")[1]) for v in matrix)
    assert declared == f">=3.{minors[0]},<3.{minors[-1] + 1}"
    assert minors == list(range(minors[0], minors[-1] + 1))
