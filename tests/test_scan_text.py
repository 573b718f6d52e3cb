"""References in documentation and configuration files (SPEC 13): kinds ``doc``/``config``.

The token rules per form (table tests), which files are text files, the keys and their
errors, the scan with its file-safety rules and its cache, and what users see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import write_tree
from pytest_ssot.config import load_config
from pytest_ssot.domain.contracts import Contract
from pytest_ssot.errors import ConfigError
from pytest_ssot.domain.paths import parse_path
from pytest_ssot.scan import scan
from pytest_ssot.scan.text import TextFiles, TextScanner

CONTRACTS = [
    Contract(name="c", canonical=parse_path("pkg.new:Thing"),
             legacy=(parse_path("pkg.old"), parse_path("pkg:Thing"), parse_path("six")),
             factories=(parse_path("pkg.fac:make"),)),
]
SCANNER = TextScanner(CONTRACTS)


def _found(text: str) -> list[tuple[str, str, int]]:
    """``(declared path, role, line)`` of every reference in ``text``."""
    return [(row[2], row[1], row[5]) for row in SCANNER.analyze(text.encode(), "doc")]


@pytest.mark.parametrize("text, expected", [
    # whole tokens and what may follow them
    ("see pkg.old for details", [("pkg.old", "legacy", 1)]),
    ("pkg.old.Thing", [("pkg.old", "legacy", 1)]),
    ("pkg.old:Thing", [("pkg.old", "legacy", 1)]),
    ("use pkg.old.", [("pkg.old", "legacy", 1)]),
    ("`pkg.old`", [("pkg.old", "legacy", 1)]),
    # Sphinx roles and directives, mkdocstrings
    (":class:`pkg.old.Thing`", [("pkg.old", "legacy", 1)]),
    (":class:`~pkg.old.Thing`", [("pkg.old", "legacy", 1)]),
    (":mod:`pkg.old`", [("pkg.old", "legacy", 1)]),
    (".. autoclass:: pkg.old.Thing\n   :members:", [("pkg.old", "legacy", 1)]),
    (".. automodule:: pkg.old", [("pkg.old", "legacy", 1)]),
    ("::: pkg.old", [("pkg.old", "legacy", 1)]),
    # entry points, logging class keys, python -m
    ('[project.scripts]\ntool = "pkg.old:main"', [("pkg.old", "legacy", 2)]),
    ("handlers:\n  h:\n    class: pkg.old.Handler\n", [("pkg.old", "legacy", 3)]),
    ("CMD python -m pkg.old --port 80", [("pkg.old", "legacy", 1)]),
    # attribute entries spelled with "." or ":", the longest declared path
    ("pkg.Thing", [("pkg:Thing", "legacy", 1)]),
    ("pkg:Thing", [("pkg:Thing", "legacy", 1)]),
    ("pkg.new.Thing and pkg.new:Thing", [("pkg.new:Thing", "canonical", 1)] * 2),
    ("pkg.fac.make()", [("pkg.fac:make", "factory", 1)]),
    # not whole tokens
    ("pkg.older", []),
    ("mypkg.old", []),
    ("x.pkg.old", []),
    ("pkg.old_utils", []),
    ("pkg.new.Things", []),
    # one-name paths: only where clearly a module
    ("six of one", []),
    ("six.moves.range", [("six", "legacy", 1)]),
    ("python -m six", [("six", "legacy", 1)]),
    (">>> import six", [("six", "legacy", 1)]),
    ("from six import moves", [("six", "legacy", 1)]),
    ("the sixth", []),
    # lines
    ("a\n\nb pkg.old\nc\npkg.old.Thing\n", [("pkg.old", "legacy", 3), ("pkg.old", "legacy", 5)]),
    # suppression on the line, in any comment syntax
    ("pkg.old  <!-- ssot: ignore -->", []),
    ("pkg.old  # ssot: ignore[c]", []),
    ("pkg.old  # ssot: ignore[other]", [("pkg.old", "legacy", 1)]),
    # places, not paths: URLs (host, path, query, anchor) and e-mail addresses
    ("see https://example.com/api/pkg.old.html", []),
    ("<https://pkg.old.readthedocs.io/en/latest/>", []),
    ("[pkg.old](https://x.org/?q=pkg.old#pkg.old.Thing)", [("pkg.old", "legacy", 1)]),
    ("git+https://github.com/org/pkg.old.git", []),
    ("write to dev@pkg.old.org", []),
    # ... but a decorator, an option value or a path after a slash-free word still count
    ("@pkg.old.cached\ndef f(): ...", [("pkg.old", "legacy", 1)]),
    ("pytest --cov=pkg.old", [("pkg.old", "legacy", 1)]),
    ("[mypy-pkg.old]", [("pkg.old", "legacy", 1)]),
])
def test_token_forms(text: str, expected: list) -> None:
    assert _found(text) == expected


def test_unicode_letters_continue_a_name_and_undecodable_bytes_bound_it() -> None:
    assert _found("épkg.old") == []
    assert _found("pkg.oldé") == []
    rows = SCANNER.analyze(b"\xff pkg.old \xfe\n", "config")
    assert [(r[2], r[4], r[5]) for r in rows] == [("pkg.old", "config", 1)]


def test_a_binary_file_under_a_text_name_holds_no_reference() -> None:
    assert SCANNER.analyze(b"\x89PNG\r\n\x1a\n\x00\x00 pkg.old \x00", "doc", "logo.md") == []


def test_a_long_one_line_file_keeps_lines_and_suppression() -> None:
    # (a per-match search of the whole line made this quadratic: 1.5 MB took a minute)
    line = '{"t": "see pkg.old.Thing"}, ' * 20000
    text = line + "\npkg.old  # ssot: ignore\n" + line + "\n"
    rows = SCANNER.analyze(text.encode(), "config", "index.json")
    assert [r[5] for r in rows] == [1] * 20000 + [3] * 20000


def test_violations_have_stable_fingerprints_canonical_refs_none() -> None:
    rows = SCANNER.analyze(b"pkg.old\npkg.old\npkg.new.Thing\n", "doc")
    fps = [r[7] for r in rows if r[1] != "canonical"]
    assert len(fps) == 2 and len(set(fps)) == 2
    moved = SCANNER.analyze(b"\n\npkg.old\nx\npkg.old\n", "doc")
    assert [r[7] for r in moved] == fps  # lines moved: the same fingerprints
    assert [len(r) for r in rows if r[1] == "canonical"] == [7]


@pytest.mark.parametrize("rel, kind", [
    ("docs/index.md", "doc"),
    ("docs/api/deep/x.rst", "doc"),
    ("docs/notes.txt", "doc"),
    ("README.md", None),  # not under docs/
    ("docs/conf.py", None),  # code
    ("setup.cfg", "config"),
    ("deploy/k8s/app.yaml", "config"),
    ("a/b.yml", "config"),
    ("tox.ini", "config"),
    ("package.json", "config"),
    ("docs/conf.toml", "config"),
    ("services/api/Dockerfile", "config"),
    ("Makefile", "config"),
    ("Dockerfile.dev", None),
    ("notes.txt", None),
    # history and lock files: a changelog saying "moved pkg.old.Thing" is true as written
    ("docs/changelog.md", None),
    ("docs/CHANGES.rst", None),
    ("docs/whatsnew/1.5.rst", None),
    ("docs/changelog.d/12.feature.md", None),
    ("docs/history.rst", None),
    ("package-lock.json", None),
    ("pylock.toml", None),
    ("docs/newsletter.md", "doc"),
    ("docs/api/history_of_pkg.md", "doc"),
    ("src/pkg/history/app.yaml", "config"),
    ("clock.yaml", "config"),
])
def test_default_text_files(rel: str, kind: str | None) -> None:
    from pytest_ssot.domain.contracts import DEFAULT_CONFIG_FILES, DEFAULT_DOC_FILES

    files = TextFiles(DEFAULT_DOC_FILES, DEFAULT_CONFIG_FILES)
    assert files.kind(rel, rel.rpartition("/")[2]) == kind


def test_configured_globs() -> None:
    files = TextFiles(["**/*.md", "guide/*.adoc"], ["Dockerfile*", "*.j2"])
    assert files.kind("README.md", "README.md") == "doc"
    assert files.kind("guide/a.adoc", "a.adoc") == "doc"
    assert files.kind("x/guide/a.adoc", "a.adoc") is None
    assert files.kind("Dockerfile.dev", "Dockerfile.dev") == "config"
    assert files.kind("t/app.yaml.j2", "app.yaml.j2") == "config"
    assert files.kind("app.yaml", "app.yaml") is None
    assert not TextFiles([], [])


PYPROJECT = """
[tool.pytest-ssot]
paths = ["."]
{extra}

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "pkg.new:Thing"
legacy = ["pkg.old"]
"""


@pytest.mark.parametrize("extra, message", [
    ('doc_files = "*.md"', "key 'doc_files': expected an array of strings, got string"),
    ("config_files = [1]", "key 'config_files': expected an array of strings"),
    ('doc_files = [""]', "key 'doc_files': '' is not a glob"),
    ('config_files = ["/"]', "key 'config_files': '/' is not a glob"),
    ('doc_files = ["**/*.py"]', "names Python files: they are code"),
    ('docs_files = ["*.md"]', "unknown key 'docs_files'; valid keys: "),
])
def test_bad_keys_are_one_clear_error(tmp_path: Path, extra: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(extra=extra))
    with pytest.raises(ConfigError, match="pyproject.toml: ") as info:
        load_config(tmp_path, with_entry_points=False)
    assert message in str(info.value)


def test_keys_default_and_configured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(extra=""))
    s = load_config(tmp_path, with_entry_points=False)
    assert s.doc_files == ("docs/**/*.md", "docs/**/*.rst", "docs/**/*.txt")
    assert "Dockerfile" in s.config_files and "*.yaml" in s.config_files
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(
        extra='doc_files = ["*.md"]\nconfig_files = []'))
    s = load_config(tmp_path, with_entry_points=False)
    assert (s.doc_files, s.config_files) == (("*.md",), ())


# --------------------------------------------------------------------------- the scan

TREE = {
    "pkg/__init__.py": "",
    "pkg/new.py": "class Thing:\n    pass\n",
    "pkg/old.py": "from pkg.new import Thing\n",
    "app/use.py": "from pkg.new import Thing\n",
    "docs/index.md": "# Docs\n\nUse `pkg.old.Thing`.\n\nNot pkg.older.\n",
    "docs/api.rst": ".. autoclass:: pkg.new.Thing\n",
    "docs/deep/more.md": "::: pkg.old\n",
    "deploy/logging.yaml": "handlers:\n  x:\n    class: pkg.old.Handler\n",
    "Dockerfile": "FROM python\nCMD python -m pkg.old\n",
    "README.md": "pkg.old is not scanned here (not under docs/)\n",
    # skipped folders
    ".git/config.yaml": "pkg.old\n",
    "node_modules/x/a.json": '"pkg.old"\n',
    ".venv/lib/setup.cfg": "pkg.old\n",
    ".pytest_cache/v/a.json": '"pkg.old"\n',
    # Sphinx's build output: copies of the sources (counted twice, rewritten by fix)
    "docs/_build/html/_sources/index.md.txt": "pkg.old\n",
    # our own outputs name every path
    ".ssot-baseline.json": '{"schema": "pytest-ssot-baseline/2", "x": "pkg.old"}\n',
    "report.json": '{"schema":"pytest-ssot/1","violations":[{"path":"pkg.old"}]}\n',
}


def _project(root: Path, extra: str = "") -> None:
    write_tree(root, TREE)
    (root / "pyproject.toml").write_text(PYPROJECT.format(extra=extra)
                                         + '\n[project.scripts]\nold = "pkg.old:main"\n')


def _refs(result) -> list[tuple[str, int, str]]:
    return sorted((v.file, v.line, v.kind) for v in result.violations)


def test_ban_lists_of_ours_and_other_tools_are_not_references() -> None:
    pyproject = textwrap.dedent("""
        [project.scripts]
        a = "pkg.old:main"
        [tool.pytest-ssot]
        paths = ["."]
        [[tool.pytest-ssot.contracts]]
        legacy = ["pkg.old"]
        [tool.ruff.lint.flake8-tidy-imports.banned-api]
        "pkg.old".msg = "use pkg.new"
        [tool.importlinter]
        root_package = "pkg"
        [[tool.importlinter.contracts]]
        forbidden_modules = ["pkg.old"]
        [tool.mypy]
        plugins = ["pkg.old.plugin"]
    """).encode()
    rows = SCANNER.analyze(pyproject, "config", "pyproject.toml")
    assert [(r[5], r[6]) for r in rows] == [(3, "pkg.old"), (15, "pkg.old")]
    cfg = b"[importlinter:contract:one]\nforbidden_modules = pkg.old\n[tool:pytest]\nx = pkg.old\n"
    assert [r[5] for r in SCANNER.analyze(cfg, "config", "setup.cfg")] == [4]
    assert [r[5] for r in SCANNER.analyze(cfg, "doc", "notes.md")] == [2, 4]  # not sections
    ours = b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "pytest-ssot"'
    assert SCANNER.analyze(ours + b', "x": "pkg.old"}}}]}', "config", "r.json") == []


def test_ban_lists_under_a_key_of_another_section_are_not_references() -> None:
    # flake8-tidy-imports in [flake8] (INI, continuation lines) and ruff's dotted key in
    # [tool.ruff.lint]: counted, `fix` rewrote the ban into a ban of the canonical
    cfg = (b"[flake8]\nmax-line-length = 100\nbanned-modules =\n    pkg.old = use pkg.new\n"
           b"    other = x\nper-file-ignores = pkg.old\n[mypy-pkg.old]\nx = 1\n")
    assert [r[5] for r in SCANNER.analyze(cfg, "config", "setup.cfg")] == [6, 7]
    toml = (b'[tool.ruff.lint]\nselect = ["TID"]\n'
            b'flake8-tidy-imports.banned-api."pkg.old".msg = "use pkg.new"\n'
            b'x = "pkg.old"\n[[tool.mypy.overrides]]\nmodule = ["pkg.old"]\n')
    assert [r[5] for r in SCANNER.analyze(toml, "config", "pyproject.toml")] == [4, 6]


def test_requirements_name_distributions_not_modules() -> None:
    # migrating off backports.zoneinfo: the dependency on the distribution is no reference
    # to the module, and `fix` rewrote it into a dependency on "zoneinfo"
    tz = TextScanner([Contract(name="tz", canonical=parse_path("zoneinfo:ZoneInfo"),
                               legacy=(parse_path("backports.zoneinfo"),))])
    toml = textwrap.dedent("""\
        [build-system]
        requires = ["setuptools", "backports.zoneinfo"]
        build-backend = "backports.zoneinfo.build"
        [project]
        dependencies = [
            "backports.zoneinfo; python_version < '3.9'",
        ]
        [project.optional-dependencies]
        tz = ["backports.zoneinfo>=0.2"]
        [project.scripts]
        x = "backports.zoneinfo:main"
        [dependency-groups]
        dev = ["backports.zoneinfo"]
        [tool.poetry.dependencies]
        "backports.zoneinfo" = "^0.2"
        [[tool.mypy.overrides]]
        module = ["backports.zoneinfo"]
    """).encode()
    assert [r[5] for r in tz.analyze(toml, "config", "pyproject.toml")] == [3, 11, 17]
    cfg = (b"[options]\ninstall_requires =\n    backports.zoneinfo\npackages = find:\n"
           b"[options.extras_require]\ntz = backports.zoneinfo\n[options.entry_points]\n"
           b"console_scripts = x = backports.zoneinfo:main\n")
    assert [r[5] for r in tz.analyze(cfg, "config", "setup.cfg")] == [8]


def test_scan_reports_doc_and_config_references(tmp_path: Path) -> None:
    _project(tmp_path)
    settings = load_config(tmp_path, with_entry_points=False)
    result = scan(settings, tmp_path, jobs=1)
    assert _refs(result) == [
        ("Dockerfile", 2, "config"),
        ("deploy/logging.yaml", 3, "config"),
        ("docs/deep/more.md", 1, "doc"),
        ("docs/index.md", 3, "doc"),
        ("pyproject.toml", 12, "config"),  # the entry point; not the declaration above it
    ]
    assert result.errors == []
    assert result.text_canonical == {"c": {"doc": 1}}
    assert result.compliance_by_source("c") == {"code": 1.0, "docs": 1 / 3, "config": 0.0}
    assert result.compliance("c") == 1.0  # code's, as before


def test_a_configured_key_changes_what_is_read_and_the_cache_follows(tmp_path: Path) -> None:
    _project(tmp_path)
    cache = tmp_path / ".pytest_cache/ssot.bin"
    cache.parent.mkdir(exist_ok=True)
    first = scan(load_config(tmp_path, with_entry_points=False), tmp_path, cache_path=cache)
    assert len(first.violations) == 5
    (tmp_path / "pyproject.toml").write_text(
        PYPROJECT.format(extra='doc_files = ["*.md"]\nconfig_files = []'))
    second = scan(load_config(tmp_path, with_entry_points=False), tmp_path, cache_path=cache)
    assert _refs(second) == [("README.md", 1, "doc"), ("docs/deep/more.md", 1, "doc"),
                             ("docs/index.md", 3, "doc")]


def _age(root: Path) -> None:
    old = 1_600_000_000  # old enough that the cache trusts the timestamps
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + dirnames:
            os.utime(os.path.join(dirpath, n), (old, old), follow_symlinks=False)
    os.utime(root, (old, old))


def test_a_warm_scan_does_not_read_unchanged_text_files(tmp_path: Path, monkeypatch) -> None:
    _project(tmp_path)
    settings = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / ".pytest_cache/ssot.bin"
    cache.parent.mkdir(exist_ok=True)
    _age(tmp_path)
    cold = scan(settings, tmp_path, cache_path=cache, jobs=1)
    import pytest_ssot.scan.text as text

    reads: list[str] = []
    real = text.read_source

    def counting(path: str, *a, **k):  # type: ignore[no-untyped-def]
        reads.append(path)
        return real(path, *a, **k)

    monkeypatch.setattr(text, "read_source", counting)
    warm = scan(settings, tmp_path, cache_path=cache, jobs=1)
    assert reads == []
    assert _refs(warm) == _refs(cold) and warm.text_canonical == cold.text_canonical
    (tmp_path / "docs/index.md").write_text("nothing here now, and a longer text\n")
    again = scan(settings, tmp_path, cache_path=cache, jobs=1)
    assert [r.rpartition("/")[2] for r in reads] == ["index.md"]
    assert ("docs/index.md", 3, "doc") not in _refs(again) and len(again.violations) == 4


def test_a_warm_parallel_scan_keeps_the_text_canonical_counts(tmp_path: Path,
                                                               monkeypatch) -> None:
    """The warm path answers from the cache while workers walk: all of it, text included."""
    import pytest_ssot.scan as scan_module

    monkeypatch.setattr(scan_module, "_PARALLEL_MIN_FILES", 1)
    _project(tmp_path)
    _age(tmp_path)
    settings = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / ".pytest_cache/ssot.bin"
    cache.parent.mkdir(exist_ok=True)
    cold = scan(settings, tmp_path, cache_path=cache, jobs=2)
    warm = scan(settings, tmp_path, cache_path=cache, jobs=2)
    assert cold.text_canonical == warm.text_canonical == {"c": {"doc": 1}}
    assert _refs(warm) == _refs(cold)


def test_file_safety_special_large_and_undecodable(tmp_path: Path, monkeypatch) -> None:
    import pytest_ssot.scan.text as text

    monkeypatch.setattr(text, "TEXT_MAX_BYTES", 1000)  # (32 MiB: not written in a test)
    _project(tmp_path)
    os.mkfifo(tmp_path / "docs/pipe.md")
    (tmp_path / "docs/huge.md").write_bytes(b"pkg.old\n" + b"x" * 1000)
    (tmp_path / "docs/latin1.md").write_bytes("caf\xe9 pkg.old\n".encode("latin-1"))
    (tmp_path / "docs/link.md").symlink_to("/dev/zero")
    result = scan(load_config(tmp_path, with_entry_points=False), tmp_path, jobs=1)
    errors = {e["file"]: e["message"] for e in result.errors}
    assert "not a regular file (a FIFO)" in errors["docs/pipe.md"]
    assert "not a regular file (a device)" in errors["docs/link.md"]
    assert "larger than the scan's size limit" in errors["docs/huge.md"]
    assert ("docs/latin1.md", 1, "doc") in _refs(result)  # decoded, bytes kept as they are


def test_the_parallel_walk_finds_the_same(tmp_path: Path) -> None:
    _project(tmp_path)
    for i in range(40):
        write_tree(tmp_path, {f"docs/part{i % 7}/page{i}.md": f"pkg.old {i}\n",
                              f"conf{i % 5}/app{i}.yaml": "nothing\n"})
    settings = load_config(tmp_path, with_entry_points=False)
    one = scan(settings, tmp_path, jobs=1)
    many = scan(settings, tmp_path, jobs=2)
    assert _refs(one) == _refs(many) and len(one.violations) == 45


# --------------------------------------------------------------------------- what users see

PLUGIN_PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]

[tool.pytest-ssot]
paths = ["."]

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "pkg.new:Thing"
legacy = ["pkg.old"]
"""

PLUGIN_TREE = {
    "pkg/__init__.py": "",
    "pkg/new.py": "class Thing:\n    pass\n",
    "tests/test_x.py": "from pkg.new import Thing\n\ndef test_x():\n    assert Thing\n",
    "docs/guide.md": "Import `pkg.new.Thing`, not `pkg.old.Thing`.\n",
    "deploy/app.yaml": "handler: pkg.old.Thing\n",
}


def test_pytest_reports_docs_and_config_and_strict_fails_on_them(pytester: pytest.Pytester
                                                                 ) -> None:
    write_tree(pytester.path, PLUGIN_TREE)
    (pytester.path / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ssot-report", "r.json")
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["*compliance: code 1.000, docs 0.500, config 0.000*"])
    doc = json.loads((pytester.path / "r.json").read_text())
    got = sorted((v["file"], v["line"], v["kind"]) for v in doc["violations"])
    assert got == [("deploy/app.yaml", 1, "config"), ("docs/guide.md", 1, "doc")]
    assert doc["contracts"][0]["compliance_by_source"] == {"code": 1.0, "docs": 0.5,
                                                           "config": 0.0}
    assert doc["summary"]["compliance_by_source"] == {"code": 1.0, "docs": 0.5, "config": 0.0}
    assert doc["summary"]["by_kind"] == {"doc": 1, "config": 1}
    assert doc["contracts"][0]["canonical_by_source"] == {"code": 1, "docs": 1, "config": 0}

    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ssot-strict")
    assert res.ret == 1
    res.stdout.fnmatch_lines(["*deploy/app.yaml:1*", "*docs/guide.md:1*"])


def test_docs_alone_are_not_a_scan_of_the_code(tmp_path: Path) -> None:
    """``paths`` that reach docs or config but no Python file: never a silent pass."""
    write_tree(tmp_path, {"docs/guide.md": "nothing\n", "pkg/__init__.py": "",
                          "pkg/new.py": "class Thing:\n    pass\n"})
    (tmp_path / "pyproject.toml").write_text(PLUGIN_PYPROJECT.replace(
        'paths = ["."]', 'paths = ["docs"]'))
    out = _cli(tmp_path, "scan")
    assert out.returncode == 1
    assert "the scan read no Python file" in out.stderr
    result = scan(load_config(tmp_path, with_entry_points=False), tmp_path, jobs=1)
    assert (result.files_scanned, result.text_files_scanned) == (1, 1)


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", *args], cwd=root,
                          capture_output=True, text=True, env=environ)


def test_scan_command_sarif_baseline_and_github(tmp_path: Path) -> None:
    write_tree(tmp_path, PLUGIN_TREE)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PLUGIN_PYPROJECT))
    out = _cli(tmp_path, "scan", "--update-baseline")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "  + [c] docs/guide.md:1: " in out.stdout
    (tmp_path / "docs/guide.md").write_text("x\n\npkg.old again\nImport `pkg.old.Thing`.\n")
    out = _cli(tmp_path, "scan", "--sarif", "r.sarif", "--json", "r.json")
    assert out.returncode == 1, out.stdout  # a new doc reference breaks the ratchet
    assert "docs/guide.md:4: [c] pkg.old -> pkg.new:Thing  (new)" in out.stdout
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    uris = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["baselineState"]) for r in sarif["runs"][0]["results"])
    assert uris == [("deploy/app.yaml", "unchanged"), ("docs/guide.md", "new"),
                    ("docs/guide.md", "unchanged")]
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    gh = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan"], cwd=tmp_path,
                        capture_output=True, text=True, env=env)
    assert "::error file=docs/guide.md,line=4" in gh.stdout


@pytest.mark.parametrize("name, text, lines", [
    # dictConfig in YAML (LF and CRLF): the loggers' keys are names; handler classes count
    ("logging.yaml", "version: 1\nhandlers:\n  h:\n    class: pkg.old.Handler\nloggers:\n"
     "  pkg.old:\n    level: INFO\n  # note\n  'pkg.old.sub':\n    level: DEBUG\n"
     "other:\n  pkg.old: 1\n", [4, 12]),
    ("logging.yaml", "loggers:\r\n  pkg.old:\r\n    level: INFO\r\nx: pkg.old\r\n", [4]),
    # dictConfig in JSON
    ("logging.json", '{"loggers": {"pkg.old": {"level": "INFO"}, "x": {}},\n'
     ' "handlers": {"h": {"class": "pkg.old.H"}}, "z": {"pkg.old": 1}}', [2, 2]),
    # fileConfig INI
    ("logging.ini", "[logger_old]\nlevel=INFO\nqualname=pkg.old\n[handler_h]\n"
     "class=pkg.old.H\n", [5]),
])
def test_logger_names_in_logging_configuration_are_not_references(name: str, text: str,
                                                                    lines: list) -> None:
    # SPEC 13: logger names are not references (and `fix` must not rename a logger)
    assert [r[5] for r in SCANNER.analyze(text.encode(), "config", name)
            if r[1] != "canonical"] == lines
