"""The test matrix: every supported Python, and the oldest and newest supported pytest.

    python -m pip install nox
    nox                          # everything
    nox -s tests-3.12            # one Python
    nox -s pytest_compat -- tests/test_plugin.py -x   # arguments after -- go to pytest

Each session installs the distribution with its declared dependencies (and the `test`
extras), so a dependency the range allows but the code cannot use fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The range pyproject.toml declares: its lower bound, and the newest 8.x below 9.
PYTEST_COMPAT = ["7.4.0", "8.4.2"]

nox.options.sessions = ["tests", "pytest_compat"]
nox.options.reuse_existing_virtualenvs = True


def _add_pyenv_interpreters() -> None:
    """Let nox find pyenv's interpreters (``python3.12`` ...) even when they are not the
    pyenv version in force: put each installed version's ``bin`` on PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [str(p / "bin") for p in sorted(root.glob("3.*")) if (p / "bin").is_dir()]
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_add_pyenv_interpreters()


def _pytest(session: nox.Session) -> None:
    args = session.posargs or ["-n", "2", "tests"]
    session.run("python", "-m", "pytest", *args, env={"PYTHONPATH": ""})


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite on one Python with the newest pytest the range allows."""
    session.install(".[test]")
    _pytest(session)


@nox.session(python="3.10")
@nox.parametrize("pytest", PYTEST_COMPAT)
def pytest_compat(session: nox.Session, pytest: str) -> None:
    """The suite with an older pytest, on the oldest Python."""
    session.install(".[test]", f"pytest=={pytest}")
    _pytest(session)
