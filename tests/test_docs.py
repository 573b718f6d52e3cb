"""The documentation site builds without a warning, and its reference pages cannot drift
from the code: every pytest option the plugin registers, every ``pytest-ssot`` option and
every configuration key is documented, and nothing documented is missing from the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """No broken link or anchor, no page outside the nav, no warning at all."""
    pytest.importorskip("mkdocs")  # in the test extras: CI always has it
    site = tmp_path / "site"
    got = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        capture_output=True, text=True, cwd=tmp_path)
    assert got.returncode == 0, got.stdout + got.stderr
    assert (site / "configuration" / "index.html").is_file()
    # the performance page carries the benchmark record itself (docs/_hooks.py)
    perf = (site / "performance" / "index.html").read_text(encoding="utf-8")
    assert "Probe speed" in perf


def test_every_page_is_in_the_nav_and_the_build_is_strict() -> None:
    """Holds even if someone relaxes mkdocs.yml: no orphan page, strict validation on."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    assert all(v == "warn" for v in config["validation"].values()), config["validation"]
    nav = {page for entry in config["nav"] for page in entry.values()}
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages == nav, (sorted(pages - nav), sorted(nav - pages))


class _Group:
    def __init__(self, found: list[str]) -> None:
        self.found = found

    def addoption(self, *names: str, **_: object) -> None:
        self.found.extend(names)


class _Parser:
    def __init__(self) -> None:
        self.found: list[str] = []

    def getgroup(self, *_: object, **__: object) -> _Group:
        return _Group(self.found)

    def addoption(self, *names: str, **_: object) -> None:
        self.found.extend(names)

    def addini(self, name: str, *_: object, **__: object) -> None:
        self.found.append(name)


def _pytest_options() -> set[str]:
    from pytest_ssot import plugin

    parser = _Parser()
    plugin.pytest_addoption(parser)  # type: ignore[arg-type]
    assert parser.found, "pytest_addoption registered nothing"
    return set(parser.found)


def test_every_pytest_option_is_documented_and_only_those() -> None:
    registered = _pytest_options()
    page = _page("pytest-options.md")
    rows = re.findall(r"^\| `(--[a-z-]+)", page, re.M)
    assert set(rows) == registered, (
        f"undocumented: {sorted(registered - set(rows))}; "
        f"documented but not registered: {sorted(set(rows) - registered)}")
    # no page names an ssot/golden-path option that does not exist
    for path in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        named = set(re.findall(r"--(?:ssot|golden-path)[a-z-]*", text))
        assert named <= registered, f"{path.name} names {sorted(named - registered)}"


def _cli_options() -> dict[str, list[str]]:
    # In a process of its own: the command modules stay out of this (xdist) process.
    code = ("import json; from pytest_ssot.cli import _parser; p = _parser([]); "
            "sub = next(a for a in p._actions if a.dest == 'command'); "
            "print(json.dumps({n: [o for a in c._actions for o in "
            "(a.option_strings or [a.metavar or a.dest])] for n, c in sub.choices.items()}))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def _sections(page: str) -> dict[str, str]:
    parts = re.split(r"^## `pytest-ssot (\w+)`\s*$", page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_command_option_is_documented_and_only_those() -> None:
    commands = _cli_options()
    sections = _sections(_page("cli.md"))
    assert set(sections) == set(commands), (sorted(sections), sorted(commands))
    for name, options in commands.items():
        section = sections[name]
        real = {o for o in options if o not in ("-h", "--help")}
        rows = set(re.findall(r"^\| `([^ `]+)", section, re.M))
        assert rows == real, (f"pytest-ssot {name}: undocumented {sorted(real - rows)}; "
                              f"documented but absent {sorted(rows - real)}")
        synopsis = section.partition("```bash\n")[2].partition("```")[0]
        flags = {o for o in real if o.startswith("--")}
        assert {o for o in flags if o not in synopsis} == set(), (name, synopsis)
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", section))
        assert named <= flags | {"--help"}, (name, sorted(named - flags))


def test_every_configuration_key_is_documented_and_only_those() -> None:
    from pytest_ssot import config

    page = _page("configuration.md")
    tables = {
        "[tool.pytest-ssot]": config._TOP_KEYS,
        "a contract": config._CONTRACT_KEYS,
        "[tool.pytest-ssot.golden-path]": config._GOLDEN_KEYS,
    }
    sections = re.split(r"^## Reference: ", page, flags=re.M)[1:]
    assert len(sections) == len(tables)
    for section, (label, keys) in zip(sections, tables.items()):
        assert label in section.splitlines()[0]
        rows = set(re.findall(r"^\| `([a-z_-]+)` \|", section, re.M))
        assert rows == set(keys), (f"{label}: undocumented {sorted(set(keys) - rows)}; "
                                   f"documented but not accepted {sorted(rows - set(keys))}")
        for row in re.findall(r"^\| `[a-z_-]+` \|.*$", section, re.M):
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) == 5 and all(cells), row  # key, type, default, example, meaning


def _anchor(heading: str) -> str:
    """The id MkDocs' toc extension gives a heading (the default slugify)."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s]+", "-", text).strip("-")


def test_the_readme_links_into_the_docs_resolve() -> None:
    """The README is read on GitHub, outside MkDocs' link check: its links into docs/ name
    pages that exist, and headings that exist on them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", readme)
    assert len(links) >= 10, links
    for target, anchor in links:
        path = ROOT / target
        assert path.is_file(), target
        if anchor and path.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)
            assert anchor in {_anchor(h) for h in headings}, (target, anchor)


def test_command_lines_in_the_docs_use_real_options() -> None:
    """A ``pytest-ssot COMMAND ... --option`` written anywhere in the README or the site
    names an option COMMAND has (a renamed option cannot live on in an example)."""
    commands = _cli_options()
    seen = 0
    for path in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            for m in re.finditer(r"pytest-ssot (scan|fix|discover|history|census|shims)\b([^`#|;&]*)",
                                 line):
                options = re.findall(r"(?<![\w-])--[a-z][a-z-]*", m.group(2))
                seen += len(options)
                unknown = [o for o in options if o not in commands[m.group(1)] + ["--help"]]
                assert not unknown, f"{path.name}: {line.strip()!r} uses {unknown}"
    assert seen >= 20, seen
