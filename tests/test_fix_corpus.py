"""`pytest-ssot fix` keeps meaning, proven by the projects' own tests: for each project of
the corpus (``fix_corpus``: 24 projects, each with patches, reloads, shims, star imports,
``TYPE_CHECKING`` blocks, circular and conditional imports, string annotations, ``__all__``
edits), the tests give the same results before and after the fix (a subprocess pytest),
every rewritten file compiles, and a second fix rewrites nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fix_corpus import projects
from helpers import write_tree
from pytest_ssot.codemod import fix
from pytest_ssot.config import load_config


def _outcomes(root: Path) -> dict[str, str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:ssot",
                          "-p", "no:randomly", "-p", "no:cacheprovider", "tests"],
                         cwd=root, capture_output=True, text=True, timeout=300)
    got = dict((m.group(2), m.group(1)) for m in re.finditer(
        r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", run.stdout, re.M))
    assert got, run.stdout[-3000:] + run.stderr[-2000:]
    return got


def test_the_corpus_tests_give_the_same_results_after_fix(tmp_path: Path) -> None:
    write_tree(tmp_path, projects())
    before = _outcomes(tmp_path)
    assert set(before.values()) == {"PASSED"}, before  # the corpus itself is sound
    assert len({k.split("/")[1] for k in before}) >= 20
    settings = load_config(tmp_path, with_entry_points=False)
    result = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert result.errors == []
    assert len(result.changed) >= 40 and result.rewritten >= 100
    for rel in result.changed:
        compile((tmp_path / rel).read_text(), rel, "exec")
    after = _outcomes(tmp_path)
    assert after == before
    again = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert again.changed == {} and again.rewritten == 0
