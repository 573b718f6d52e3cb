"""``pytest-ssot fix`` on documentation and configuration files (SPEC 13): the token only,
nothing else on the line; compare-and-swap; ``--check`` and ``--diff``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_tree
from pytest_ssot.codemod.driver import fix
from pytest_ssot.config import load_config

PYPROJECT = """
[tool.pytest-ssot]
paths = ["."]
doc_files = ["docs/**/*.md", "docs/**/*.rst"]

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "pkg.new:Thing"
legacy = ["pkg.old", "pkg:Thing"]
factories = ["pkg.fac:make"]

[[tool.pytest-ssot.contracts]]
name = "m"
canonical = "lib.v2"
legacy = ["lib.v1"]
"""

BASE = {
    "pkg/__init__.py": "",
    "pkg/new.py": "class Thing:\n    pass\n",
    "lib/__init__.py": "",
    "lib/v2.py": "X = 1\n",
}


@pytest.mark.parametrize("before, after, left", [
    ("Use `pkg.old.Thing` here.", "Use `pkg.new.Thing` here.", []),
    ("see :class:`~pkg.old.Thing.send` now", "see :class:`~pkg.new.Thing.send` now", []),
    (".. automodule:: pkg.old", ".. automodule:: pkg.new", []),
    ("::: pkg.old.Thing", "::: pkg.new.Thing", []),
    ("run python -m pkg.old -v", "run python -m pkg.new -v", []),
    ("pkg.Thing or pkg:Thing", "pkg.new.Thing or pkg.new:Thing", []),
    ("pkg.old:Thing", "pkg.new:Thing", []),
    ("lib.v1.anything and lib.v1", "lib.v2.anything and lib.v2", []),
    # left, listed
    ("pkg.old:main", "pkg.old:main", ["text names another name in the legacy module"]),
    ("pkg.old.helper()", "pkg.old.helper()", ["text names another name in the legacy module"]),
    ("pkg.fac.make()", "pkg.fac.make()", ["text names a factory"]),
    # nothing else on the line changes; ignored lines stay
    ("pkg.older pkg.old  pkg.old.Thing\tx", "pkg.older pkg.new  pkg.new.Thing\tx", []),
    ("pkg.old  <!-- ssot: ignore -->", "pkg.old  <!-- ssot: ignore -->", []),
    # a URL or an e-mail address is a place, not the path: never rewritten
    ("[pkg.old](https://h.org/pkg.old.html) dev@pkg.old.org",
     "[pkg.new](https://h.org/pkg.old.html) dev@pkg.old.org", []),
    ("\ufeffpkg.old.Thing", "\ufeffpkg.new.Thing", []),  # the BOM stays
])
def test_forms(tmp_path: Path, before: str, after: str, left: list[str]) -> None:
    write_tree(tmp_path, {**BASE, "docs/a.md": before + "\r\n" + "tail\n"})
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    settings = load_config(tmp_path, with_entry_points=False)
    out = fix(settings, tmp_path, write=True, jobs=1)
    assert (tmp_path / "docs/a.md").read_bytes() == (after + "\r\n" + "tail\n").encode()
    assert [u.reason.split(":")[0] for u in out.unsafe] == [r.split(":")[0] for r in left]
    assert out.errors == []


def test_undecodable_bytes_and_mode_are_kept(tmp_path: Path) -> None:
    write_tree(tmp_path, BASE)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "deploy").mkdir()
    yaml = tmp_path / "deploy/app.yaml"
    yaml.write_bytes(b"# caf\xe9\nclass: pkg.old.Thing\xff\n")
    yaml.chmod(0o640)
    out = fix(load_config(tmp_path, with_entry_points=False), tmp_path, write=True, jobs=1)
    assert yaml.read_bytes() == b"# caf\xe9\nclass: pkg.new.Thing\xff\n"
    assert stat.S_IMODE(yaml.stat().st_mode) == 0o640
    assert out.rewritten == 1 and list(out.changed) == ["deploy/app.yaml"]


def test_a_file_changed_meanwhile_is_left_and_listed(tmp_path: Path, monkeypatch) -> None:
    write_tree(tmp_path, {**BASE, "docs/a.md": "pkg.old\n"})
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    settings = load_config(tmp_path, with_entry_points=False)
    import pytest_ssot.codemod.text_fix as text_fix

    real = text_fix.read_source

    def read_then_someone_edits(path: str, *a, **k):  # type: ignore[no-untyped-def]
        data = real(path, *a, **k)
        Path(path).write_text("pkg.old, edited by the user\n")
        return data

    monkeypatch.setattr(text_fix, "read_source", read_then_someone_edits)
    out = fix(settings, tmp_path, write=True, jobs=1)
    assert (tmp_path / "docs/a.md").read_text() == "pkg.old, edited by the user\n"
    assert [(e.file, e.reason) for e in out.errors] == [("docs/a.md",
                                                        "changed while fixing; run again")]
    assert out.changed == {} and out.rewritten == 0
    assert [u.file for u in out.unsafe] == ["docs/a.md"]


def test_a_read_only_file_is_listed_not_written(tmp_path: Path) -> None:
    # (root could write it anyway: the mode check refuses before that)
    write_tree(tmp_path, {**BASE, "docs/a.md": "pkg.old\n"})
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "docs/a.md").chmod(0o444)
    out = fix(load_config(tmp_path, with_entry_points=False), tmp_path, write=True, jobs=1)
    assert (tmp_path / "docs/a.md").read_text() == "pkg.old\n"
    assert [e.reason for e in out.errors] == ["not writable"]


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", *args], cwd=root,
                          capture_output=True, text=True, env=environ)


def test_fix_command_check_diff_and_write(tmp_path: Path) -> None:
    """The sample project's Markdown and YAML references are reported, then fixed."""
    write_tree(tmp_path, {**BASE,
                          "docs/guide.md": "# Guide\n\nImport `pkg.old.Thing`.\n",
                          "deploy/logging.yaml": "handlers:\n  h:\n    class: pkg.Thing\n",
                          "app/use.py": "from pkg.new import Thing\n"})
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    scan = _cli(tmp_path, "scan", "--strict")
    assert scan.returncode == 1
    assert "docs/guide.md:3: [c] pkg.old -> pkg.new:Thing" in scan.stdout
    assert "deploy/logging.yaml:3: [c] pkg:Thing -> pkg.new:Thing" in scan.stdout

    check = _cli(tmp_path, "fix", "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "would rewrite 2 reference(s) in 2 file(s)" in check.stdout
    diff = _cli(tmp_path, "fix", "--diff")
    assert "-Import `pkg.old.Thing`.\n+Import `pkg.new.Thing`.\n" in diff.stdout
    assert "-    class: pkg.Thing\n+    class: pkg.new.Thing\n" in diff.stdout
    assert (tmp_path / "docs/guide.md").read_text() == "# Guide\n\nImport `pkg.old.Thing`.\n"

    done = _cli(tmp_path, "fix")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rewrote 2 reference(s) in 2 file(s)" in done.stdout
    assert (tmp_path / "docs/guide.md").read_text() == "# Guide\n\nImport `pkg.new.Thing`.\n"
    assert _cli(tmp_path, "fix", "--check").returncode == 0
    assert _cli(tmp_path, "scan", "--strict").returncode == 0
