"""``pytest-ssot history``: each commit read from git's objects scans like its checkout."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import device_node
from pytest_ssot.config import load_config
from pytest_ssot.history.timeline import History, history, sample
from pytest_ssot.scan import scan

PYPROJECT = """
[tool.pytest-ssot]
paths = ["."]
exclude = ["skipped"]

[tool.pytest-ssot.areas]
"app/routes" = "P0"
"tests" = "P1"

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "app.new:Thing"
legacy = ["app.old", "app:Thing"]
factories = ["app.factory:make_thing"]
"""

_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        # no user or system configuration (a missing file reads as empty)
        "GIT_CONFIG_GLOBAL": "/nonexistent/ssot-gitconfig", "GIT_CONFIG_NOSYSTEM": "1"}


class GitProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.day = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        date = f"2026-01-{1 + self.day % 28:02d}T12:00:00+00:00"
        env = {**os.environ, **_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        return subprocess.run(["git", *args], cwd=self.root, env=env, check=True,
                              capture_output=True, text=True).stdout

    def write(self, files: dict[str, str | bytes | None]) -> None:
        for rel, text in files.items():
            path = self.root / rel
            if text is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(textwrap.dedent(text))

    def commit(self, message: str, files: dict[str, str | bytes | None]) -> str:
        self.write(files)
        self.day += 1
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def checkout_scan(self, sha: str, into: Path):
        """The scan of ``sha`` checked out (the working tree's configuration)."""
        data = subprocess.run(["git", "archive", "--format=tar", sha], cwd=self.root,
                              check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(into, filter="data")
        cfg = load_config(self.root, with_entry_points=False)
        return scan(cfg, into, jobs=1)


def _answer(result) -> tuple:
    return (result.files_scanned, result.violations, result.errors, result.canonical,
            result.text_canonical, result.text_files_scanned)


def _same_as_checkouts(project: GitProject, found: History, tmp: Path) -> None:
    for i, point in enumerate(found.points):
        checkout = tmp / f"checkout{i}"
        checkout.mkdir(parents=True)
        expected = project.checkout_scan(point.commit.sha, checkout)
        assert _answer(point.result) == _answer(expected), point.commit.subject


COMMITS = [
    ("initial", {
        "pyproject.toml": PYPROJECT,
        "app/__init__.py": "from app.new import Thing\n",
        "app/new.py": "class Thing:\n    pass\n",
        "app/old.py": "from app.new import Thing\nimport app.old\n",  # the shim: not scanned
        "app/factory.py": "def make_thing():\n    pass\n",
        "app/routes/a.py": "from app.old import Thing\nfrom app import Thing\n",
        "app/routes/b.py": "from app.new import Thing\n",
        "app/sub/__init__.py": "",
        "app/sub/rel.py": "from ..old import Thing\nfrom .. import Thing as T\n",
        "tests/test_x.py": "from app.factory import make_thing\nmake_thing()\n"
                           "X = 'app.old.Thing'\n",
        "skipped/s.py": "import app.old\n",
        "broken.py": "import app.old(\n",
        "dup.py": "from app.new import Thing\n",
    }),
    ("migrate routes", {"app/routes/a.py": "from app.new import Thing\n",
                        "broken.py": None}),
    ("regression: new feature on the old path", {
        "app/routes/c.py": "import app.old\nfrom app.old import Thing\nfrom app import Thing\n",
        "tests/test_y.py": "from app.old import Thing\n",
        "docs.txt": "not python",
    }),
    ("move the relative importer", {"app/sub/rel.py": None,
                                    "app/rel.py": "from .old import Thing\n"}),
    ("same content under a second name", {"app/routes/d.py": "from app.old import Thing\n"}),
    ("the canonical moves to an implementation module; build/ becomes a package", {
        "app/new.py": "from app._impl import Thing\n",
        "app/_impl.py": "class Thing:\n    pass\n",  # not a second definition from now on
        "app/other.py": "class Thing:\n    pass\n",  # a second definition
        "build/__init__.py": "", "build/b.py": "import app.old\n",  # a package: scanned
        "dist/d.py": "import app.old\n",  # a build folder: not scanned
    }),
    ("finish", {"app/routes/c.py": "from app.new import Thing\n",
                "tests/test_y.py": "from app.new import Thing\n"}),
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitProject, list[str], Path]:
    root = tmp_path_factory.mktemp("history")
    project = GitProject(root / "repo")
    shas = [project.commit(message, files) for message, files in COMMITS]
    return project, shas, root


def test_history_equals_a_scan_of_each_checkout(scenario) -> None:
    project, shas, root = scenario
    cfg = load_config(project.root, with_entry_points=False)
    cache = root / "cache" / "history.cache"
    found = history(cfg, project.root, cache_path=cache)
    assert [p.commit.sha for p in found.points] == shas  # oldest first, all of them
    assert [p.commit.subject for p in found.points] == [m for m, _ in COMMITS]
    _same_as_checkouts(project, found, root / "first")
    counts = found.counts("c")
    assert counts[0] > counts[1] < counts[2]  # the regression is visible...
    assert found.largest_rise("c") == 2  # ...and marked
    assert found.analysed == found.blobs  # a cold cache: every content read once
    # a second run reads no content again and answers the same
    again = history(cfg, project.root, cache_path=cache)
    assert again.analysed == 0
    assert [_answer(p.result) for p in again.points] == [_answer(p.result)
                                                         for p in found.points]


def test_a_flipped_byte_in_the_history_cache_is_found(scenario) -> None:
    """SPEC 12: nothing cached is trusted unchecked. Each flip (spread over the whole
    file) is found; the history is read again and answers as without the cache."""
    project, _shas, root = scenario
    cfg = load_config(project.root, with_entry_points=False)
    cache = root / "flip" / "history.cache"
    cold = [_answer(p.result) for p in history(cfg, project.root, cache_path=cache).points]
    good = cache.read_bytes()
    for at in range(0, len(good), max(1, len(good) // 40)):
        data = bytearray(good)
        data[at] ^= 0x10
        cache.write_bytes(bytes(data))
        found = history(cfg, project.root, cache_path=cache)
        assert [_answer(p.result) for p in found.points] == cold, at
        assert "discarded" in found.cache_note and found.analysed == found.blobs, at


def test_objects_read_by_two_git_processes_are_the_same(scenario) -> None:
    from pytest_ssot.history.git import Repo

    project, _shas, _root = scenario
    names = [line.split()[0] for line in project.git("rev-list", "--objects", "--all")
             .splitlines()]
    with Repo(str(project.root)) as repo:
        one = {n: (kind, data) for n, (kind, data) in zip(names, repo.read_many(names))}
        two = {n: (kind, data) for n, kind, data in repo.read_spread(names, 2, at_least=0)}
        assert two == one and len(one) == len(set(names)) > 20
        # a consumer that stops early leaves no process or thread blocked
        stream = repo.read_spread(names, 2, at_least=0)
        next(stream)
        stream.close()
        assert repo.read(names[0]) == one[names[0]]


def test_history_json_is_the_spec_schema(scenario) -> None:
    project, shas, _root = scenario
    cfg = load_config(project.root, with_entry_points=False)
    doc = history(cfg, project.root, rev_range=f"{shas[1]}..{shas[3]}").to_json()
    assert doc["schema"] == "pytest-ssot-history/1"
    assert [c["commit"] for c in doc["commits"]] == shas[2:4]
    first = doc["commits"][0]
    assert set(first) == {"commit", "date", "contracts"}
    assert first["date"] == "2026-01-04T12:00:00+00:00"
    entry = first["contracts"]["c"]
    assert set(entry) == {"violations", "canonical", "compliance", "by_area"}
    assert entry["violations"] == sum(entry["by_area"].values())
    assert set(entry["by_area"]) <= {"P0", "P1", "other"}


def test_sampling_keeps_the_oldest_and_the_newest() -> None:
    commits = list(range(120))
    picked = sample(commits, 50)  # type: ignore[arg-type]
    assert len(picked) == 50 and picked[0] == 0 and picked[-1] == 119
    assert picked == sorted(set(picked))
    assert sample(commits, 1) == [119]  # type: ignore[arg-type]
    assert sample(commits[:3], 50) == [0, 1, 2]  # type: ignore[arg-type]


class _Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``pytest-ssot history ARGS`` in this process (the console script's ``main``)."""
    from pytest_ssot.cli import main

    def run(cwd: Path, *args: str) -> _Ran:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        rc = main(["history", *args])
        out, err = capsys.readouterr()
        return _Ran(rc, out, err)

    return run


def test_cli_table_and_json(scenario, cli, tmp_path: Path) -> None:
    project, shas, _root = scenario
    out = cli(project.root, "--max-commits", "4", "--json", str(tmp_path / "h.json"),
              "--html", str(tmp_path / "h.html"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["date", "commit", "c", "violations", "compliance"]
    picked = [shas[0], shas[2], shas[4], shas[6]]  # spread evenly, the newest kept
    assert [ln.split()[1] for ln in lines[2:6]] == [sha[:9] for sha in picked]
    # the rise lies between two sampled commits: the table says how to narrow it down
    narrow = f"pytest-ssot history {shas[2][:9]} --max-commits 3"
    assert "largest rise of c: +" in out.stdout and out.stdout.count(narrow) == 1
    exact = cli(project.root, *narrow.split()[2:])
    assert "largest rise of c: +" in exact.stdout
    assert f"at {shas[2][:9]} (2026-01-04) regression: new feature" in exact.stdout
    assert "4 of 7 commits" in out.stdout
    doc = json.loads((tmp_path / "h.json").read_text())
    assert [c["commit"] for c in doc["commits"]] == picked
    page = (tmp_path / "h.html").read_text("utf-8")
    assert 'data-part="burndown"' in page and "not probed" in page
    assert f"run\n      <code>{narrow}</code>" in page.split('data-part="regression"')[1]


@pytest.mark.parametrize("args, message", [
    (["nosuchbranch"], "git cannot read the revision range 'nosuchbranch'"),
    (["--since", "2030-01-01"], "no commits in the history of HEAD since 2030-01-01"),
    (["--since", "yesterday-ish"], "--since: 'yesterday-ish' is not a date"),
    (["--max-commits", "0"], "--max-commits must be at least 1"),
    (["--", "--all"], "may not start with '-'"),
    (["--json", "DEVICE"], "--json: "),
    (["--html", "."], "--html: "),
])
def test_cli_errors_are_one_line_and_exit_2(scenario, cli, tmp_path: Path, args: list[str],
                                           message: str) -> None:
    project, _shas, _root = scenario
    args = [str(device_node(tmp_path)) if a == "DEVICE" else a for a in args]
    out = cli(project.root, *args)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_cli_outside_a_git_repository(cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    out = cli(tmp_path)
    assert out.returncode == 2
    assert "is not inside a git work tree" in out.stderr and out.stderr.count("\n") == 1


def test_a_rootdir_below_the_top_of_the_repository(tmp_path: Path) -> None:
    project = GitProject(tmp_path)
    sha = project.commit("nested", {"sub/pyproject.toml": PYPROJECT,
                                    "sub/app/routes/a.py": "import app.old\n",
                                    "app/routes/outside.py": "import app.old\n"})
    cfg = load_config(tmp_path / "sub", with_entry_points=False)
    found = history(cfg, tmp_path / "sub")
    assert [(v.file, v.area) for v in found.points[0].result.violations] == [
        ("app/routes/a.py", "P0")]
    assert found.points[0].commit.sha == sha


# Random histories: every commit applies a few edits from a small pool of paths and contents.
_PATHS = ["app/m.py", "app/old.py", "app/__init__.py", "app/sub/__init__.py", "app/sub/m.py",
          "m.py", "skipped/m.py", "src/app/m.py", "src/app/__init__.py", "tests/t.py",
          "app/new.py", "build/__init__.py", "build/m.py", "docs/a.md", "conf/app.yaml",
          "docs/b.md"]
_CONTENTS = [
    "import app.old\n", "from app.new import Thing\n", "from . import old\n",
    "from .old import Thing\n", "X = 'app.old'\n", "import app.old(\n", b"\xff\xfe = 1\n",
    "class Thing:\n    pass\n", "from app import Thing\n", "from app.m import Thing\n",
    "getattr(app.old, 'Thing')\nimport app\n", "from app.factory import make_thing\nmake_thing()\n",
    "See `app.old.Thing` and app.new.Thing.\n", "handler: app.factory:make_thing\n",
    None,
]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.sampled_from(_PATHS), st.sampled_from(_CONTENTS)),
                         min_size=1, max_size=4), min_size=1, max_size=4))
def test_random_histories_equal_their_checkouts(edits: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = GitProject(root / "repo")
        project.commit("config", {"pyproject.toml": PYPROJECT})
        for batch in edits:
            project.commit("edit", dict(batch))
        cfg = load_config(project.root, with_entry_points=False)
        found = history(cfg, project.root)
        _same_as_checkouts(project, found, root)


def test_history_counts_docs_and_config_like_a_checkout(tmp_path: Path) -> None:
    """Docs and configuration files (SPEC 13) in each commit, as the scan of its checkout
    reads them; the same content as code and as text is two different answers."""
    project = GitProject(tmp_path / "repo")
    project.commit("config", {"pyproject.toml": PYPROJECT, "app/new.py": "class Thing: pass\n",
                              "docs/guide.md": "Use `app.old.Thing`.\n"})
    project.commit("more", {"deploy/app.yaml": "class: app.old.Thing\nx: app.new:Thing\n",
                            "docs/same.md": "import app.old\n", "same.py": "import app.old\n",
                            "report.json": '{"schema": "pytest-ssot/1", "p": "app.old"}\n'})
    project.commit("fix the guide", {"docs/guide.md": "Use `app.new.Thing`.\n"})
    cfg = load_config(project.root, with_entry_points=False)
    found = history(cfg, project.root)
    _same_as_checkouts(project, found, tmp_path)
    kinds = [sorted((v.file, v.kind) for v in p.result.violations) for p in found.points]
    assert kinds == [
        [("docs/guide.md", "doc")],
        [("deploy/app.yaml", "config"), ("docs/guide.md", "doc"), ("docs/same.md", "doc"),
         ("same.py", "import")],
        [("deploy/app.yaml", "config"), ("docs/same.md", "doc"), ("same.py", "import")],
    ]
    assert found.points[-1].result.text_canonical == {"c": {"config": 1, "doc": 1}}


@pytest.mark.parametrize("fault", ["none", "no process for a worker", "a worker dies"])
def test_history_workers_give_the_answer_of_one_process(monkeypatch, fault: str) -> None:
    """The blobs shared among forked processes: a worker that cannot be forked, or that
    dies, costs only time (its share is done in this process)."""
    import errno
    import os

    from helpers import fork_anyway
    from pytest_ssot.history import blobs

    parent = os.getpid()

    def run(items, matchers):  # stands for the analysis: one answer per blob
        if fault == "a worker dies" and os.getpid() != parent:
            os._exit(9)
        return {sha: len(data) for sha, data, _keys in items}

    monkeypatch.setattr(blobs, "_run", run)
    fork_anyway(monkeypatch)
    if fault == "no process for a worker":
        real_fork, calls = os.fork, [0]

        def fork() -> int:
            calls[0] += 1
            if calls[0] > 1:
                raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
            return real_fork()

        monkeypatch.setattr(os, "fork", fork)
    items = [(f"blob{i}", b"x" * i, []) for i in range(40)]
    assert blobs.analyse_all(items, {}, jobs=3) == {f"blob{i}": i for i in range(40)}
