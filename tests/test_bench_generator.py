"""The benchmark tree's generator writes valid Python and a ground truth that points at it.

benchmarks/check_tree.py judges the scan by this ground truth, so a wrong line number or a
file that does not compile here would be blamed on the scanner.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

GEN = Path(__file__).resolve().parent.parent / "benchmarks" / "gen_monorepo.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_monorepo", GEN)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_monorepo"] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules["gen_monorepo"]
    return mod


@pytest.fixture(scope="module")
def tree(gen, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mono") / "t"
    assert gen.main([str(out), "--files", "400", "--seed", "3"]) == 0
    return out


def _truth(tree: Path) -> dict:
    return json.loads((tree / ".ssot-expected.json").read_text())


def test_every_file_compiles_except_the_declared_error(tree: Path) -> None:
    truth = _truth(tree)
    broken = []
    files = list(tree.rglob("*.py"))
    for f in files:
        try:
            compile(f.read_bytes(), str(f), "exec", dont_inherit=True)
        except SyntaxError:
            broken.append(f.relative_to(tree).as_posix())
    assert broken == truth["errors"]
    assert len(files) == truth["files"]


def test_every_expected_reference_points_at_its_code(tree: Path) -> None:
    truth = _truth(tree)
    kinds = set()
    for rel, refs in truth["expected"].items():
        raw = (tree / rel).read_bytes()
        enc = "latin-1" if b"coding: latin-1" in raw[:80] else "utf-8"
        lines = raw.decode(enc).splitlines()
        for line, kind, contract, path, role in refs:
            kinds.add(kind)
            text = lines[line - 1].strip()
            last = path.replace(":", ".").rsplit(".", 1)[-1]
            if kind == "import":
                assert text.startswith(("import ", "from ")), (rel, line, text)
            elif kind == "definition":
                assert text.startswith(("class ", "def ")) and last in text, (rel, line, text)
            elif kind == "string":
                assert '"' in text and (last in text or "." in text), (rel, line, text)
            elif kind == "call":
                assert "(" in text, (rel, line, text)
            else:
                assert kind == "attribute" and last in text, (rel, line, text)
            assert role in ("legacy", "factory", "canonical", "definition")
            assert contract in ("ws-manager", "json-lib")
    assert kinds == {"import", "attribute", "call", "string", "definition"}


def test_the_seed_decides_the_tree(gen, tree: Path, tmp_path: Path) -> None:
    gen.main([str(tmp_path / "same"), "--files", "400", "--seed", "3"])
    gen.main([str(tmp_path / "other"), "--files", "400", "--seed", "4"])
    assert _truth(tmp_path / "same") == _truth(tree)
    assert _truth(tmp_path / "other")["expected"] != _truth(tree)["expected"]


def test_an_existing_folder_is_refused(gen, tree: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        gen.main([str(tree), "--files", "1"])
    assert exc.value.code == 2
    assert "exists" in capsys.readouterr().err


def test_docs_and_config_files_and_their_truth(gen, tmp_path: Path) -> None:
    """``--docs``: Markdown, RST and YAML files whose references the scan finds exactly."""
    from pytest_ssot.config import load_config
    from pytest_ssot.scan import scan

    out = tmp_path / "t"
    assert gen.main([str(out), "--files", "30", "--seed", "5", "--docs", "240"]) == 0
    truth = _truth(out)
    assert truth["text_files"] == 240 and truth["text_files_with_references"] > 5
    want = sorted((rel, line, kind, path, role) for rel, refs in truth["expected"].items()
                  for line, kind, _c, path, role in refs
                  if kind in ("doc", "config") and role != "canonical")
    assert {w[2] for w in want} == {"doc", "config"}
    for rel, line, _kind, path, _role in want:
        text = (out / rel).read_text().splitlines()[line - 1]
        assert path.replace(":", ".") in text.replace(":", "."), (rel, line, text)
    result = scan(load_config(out, with_entry_points=False), out, jobs=1)
    got = sorted((v.file, v.line, v.kind, v.path, v.role) for v in result.violations
                 if v.kind in ("doc", "config"))
    assert got == want
    assert sum(1 for p in out.rglob("*") if p.suffix in (".md", ".rst", ".yaml")) == 240
