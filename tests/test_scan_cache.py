"""The scan cache never changes an answer: after any sequence of edits, a scan that uses
the cache reports exactly what a scan without it reports.

Edits stamp the files and folders they touch with a clock that runs in the past (one
second per edit), as a real clock would, only old enough that the cache trusts the
timestamps; otherwise every entry would be re-read and the trusted path never tested.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import count_forks
from pytest_ssot.config import load_config
from pytest_ssot.scan import scan

PYPROJECT = """
[tool.pytest-ssot]
paths = ["."]
exclude = ["skipped"]

[[tool.pytest-ssot.contracts]]
name = "c"
canonical = "app.new:Thing"
legacy = ["app.old"]
"""

DIRS = ["", "app", "app/sub", "skipped", "app/build"]  # build: a package only with __init__
NAMES = ["m1.py", "old.py", "__init__.py", "notes.txt"]
CONTENTS = [
    b"import app.old\n",  # a reference
    b"import app.new\n",  # same size, none
    b"from app.new import Thing\n",  # canonical
    b"X = 'app.old'\n",  # a string reference
    b"X = 1\n",
    b"import app.old(\n",  # cannot be parsed, could hold a reference: an error
    b"\xff\xfeapp.old = 1\n",  # cannot be decoded: an error
    b"class Thing:\n    pass\n",  # a second definition only in some files
]

_dir = st.sampled_from(DIRS)
_file = st.tuples(_dir, st.sampled_from(NAMES))
EDITS = st.one_of(
    st.tuples(st.just("write"), _file, st.sampled_from(CONTENTS)),
    st.tuples(st.just("delete"), _file),
    st.tuples(st.just("rename"), _file, _file),
    st.tuples(st.just("touch"), _file),
    st.tuples(st.just("rmtree"), _dir),
)


class Tree:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = os.stat(root).st_mtime_ns - 10_000 * 10**9

    def tick(self) -> int:
        self.clock += 10**9
        return self.clock

    def stamp(self, *paths: Path) -> None:
        t = self.tick()
        for p in paths:
            if p.exists():
                os.utime(p, ns=(t, t))

    def ensure_dir(self, rel: str) -> Path:
        d = self.root / rel
        missing = [p for p in [d, *d.parents] if not p.exists()]
        d.mkdir(parents=True, exist_ok=True)
        self.stamp(*missing, *(p.parent for p in missing))
        return d

    def apply(self, edit: tuple) -> None:
        kind = edit[0]
        if kind == "write":
            (d, name), data = edit[1], edit[2]
            folder = self.ensure_dir(d)
            path = folder / name
            existed = path.exists()
            path.write_bytes(data)
            self.stamp(path, *(() if existed else (folder,)))
        elif kind == "delete":
            path = self.root / edit[1][0] / edit[1][1]
            if path.is_file():
                path.unlink()
                self.stamp(path.parent)
        elif kind == "touch":
            self.stamp(self.root / edit[1][0] / edit[1][1])
        elif kind == "rename":
            src = self.root / edit[1][0] / edit[1][1]
            if src.is_file():
                folder = self.ensure_dir(edit[2][0])
                dst = folder / edit[2][1]
                os.replace(src, dst)
                self.stamp(src.parent, dst.parent)  # the file keeps its own mtime
        elif kind == "rmtree":
            d = self.root / edit[1]
            if edit[1] and d.is_dir():
                shutil.rmtree(d)
                self.stamp(d.parent)


def _answer(result) -> tuple:
    return (result.files_scanned, sorted(result.violations, key=repr),
            sorted(map(repr, result.errors)), result.canonical)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.lists(EDITS, max_size=8), edits=st.lists(st.lists(EDITS, max_size=4),
                                                         min_size=1, max_size=6),
       jobs=st.sampled_from([1, 2]))
@example(first=[("write", ("app", "m1.py"), CONTENTS[1])],  # rewritten in place
         edits=[[("write", ("app", "m1.py"), CONTENTS[0])]], jobs=1)
@example(first=[("write", ("app/build", "m1.py"), CONTENTS[0]),  # a package ...
                 ("write", ("app/build", "__init__.py"), CONTENTS[4])],
         edits=[[("delete", ("app/build", "__init__.py"))]], jobs=1)  # ... no longer
def test_cached_scan_equals_uncached_scan(first: list, edits: list, jobs: int) -> None:
    from unittest import mock

    import pytest_ssot.scan as scan_module

    # With two jobs the warm scans walk in parallel too (and build the cached answer
    # while the workers check the files), as they do on trees of 3,000 files and more.
    import pytest_ssot.parallel as parallel

    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(
            scan_module, "_PARALLEL_MIN_FILES", 0 if jobs == 2 else 3000), mock.patch.object(
            parallel, "can_fork", lambda: True):
        root = Path(tmp)
        (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
        tree = Tree(root)
        for edit in first:
            tree.apply(edit)
        cache = root / ".pytest_cache" / "d" / "ssot" / "scan.cache"
        cache.parent.mkdir(parents=True)
        tree.stamp(root)
        cfg = load_config(root, with_entry_points=False)
        for batch in [[], *edits]:
            for edit in batch:
                tree.apply(edit)
            cached = scan(cfg, root, cache_path=cache, jobs=jobs)
            fresh = scan(cfg, root, jobs=jobs)
            assert _answer(cached) == _answer(fresh), batch
        # and once more with nothing changed: all from the cache, same answer
        again = scan(cfg, root, cache_path=cache, jobs=jobs)
        assert _answer(again) == _answer(fresh)
        assert again.files_parsed == 0
        assert again.files_from_cache == again.files_scanned


def test_a_folder_that_cannot_be_listed_is_an_error_every_time(tmp_path: Path,
                                                                monkeypatch) -> None:
    import pytest_ssot.scan.walk as walk_module

    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (tmp_path / "app" / "locked").mkdir(parents=True)
    (tmp_path / "app" / "locked" / "m.py").write_text("import app.old\n")
    real = walk_module.listing

    def listing(dirpath: str, dir_rel: str, *args):
        if dir_rel == "app/locked":
            raise PermissionError(13, "Permission denied")
        return real(dirpath, dir_rel, *args)

    monkeypatch.setattr(walk_module, "listing", listing)
    cfg = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / ".pytest_cache" / "d" / "ssot" / "scan.cache"
    for _ in range(2):  # the second run starts from the cache: still reported
        result = scan(cfg, tmp_path, cache_path=cache, jobs=1)
        assert result.errors == [{"file": "app/locked",
                                  "message": "cannot be listed: Permission denied"}]
        assert result.violations == []
    monkeypatch.setattr(walk_module, "listing", real)
    result = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    assert result.errors == [] and [v.file for v in result.violations] == ["app/locked/m.py"]


def test_nested_configured_paths_are_scanned_once(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT).replace(
        'paths = ["."]', 'paths = ["app/sub", "app", "app/sub/m.py", "other"]'))
    for rel in ("app/m.py", "app/sub/m.py", "other/m.py", "third/m.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("import app.old\n")
    cfg = load_config(tmp_path, with_entry_points=False)
    result = scan(cfg, tmp_path, jobs=1)
    assert result.files_scanned == 3
    assert sorted(v.file for v in result.violations) == ["app/m.py", "app/sub/m.py",
                                                         "other/m.py"]


def test_a_file_that_could_not_be_read_is_read_again_next_time(tmp_path: Path,
                                                                monkeypatch) -> None:
    """Permissions change without changing the mtime: a read error is never cached."""
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "m.py").write_text("import app.old\n")
    (tmp_path / "loose.py").write_text("import app.old\n")
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT).replace(
        'paths = ["."]', 'paths = ["app", "loose.py"]'))
    tree = Tree(tmp_path)
    tree.stamp(tmp_path / "app" / "m.py", tmp_path / "app", tmp_path / "loose.py")
    real_open = os.open

    def deny(path, *args, **kwargs):
        if str(path).endswith(".py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    cfg = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / ".pytest_cache" / "d" / "ssot" / "scan.cache"
    monkeypatch.setattr(os, "open", deny)
    result = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    assert [e["file"] for e in result.errors] == ["app/m.py", "loose.py"]
    monkeypatch.setattr(os, "open", real_open)
    result = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    assert result.errors == []
    assert sorted(v.file for v in result.violations) == ["app/m.py", "loose.py"]


def test_a_cache_folder_under_the_scanned_paths_is_not_scanned(tmp_path: Path) -> None:
    """pytest's ``cache_dir`` may sit under the scanned paths: writing the cache must not
    make the next run see a changed folder (and write the cache again, every run)."""
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "m.py").write_text("import app.old\n")
    cache = tmp_path / "cachedir" / "d" / "ssot" / "scan.cache"
    cache.parent.mkdir(parents=True)
    (cache.parent / "stray.py").write_text("import app.old\n")  # would be scanned
    tree = Tree(tmp_path)
    tree.stamp(*[tmp_path, *tmp_path.rglob("*")])
    cfg = load_config(tmp_path, with_entry_points=False)
    first = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    assert [v.file for v in first.violations] == ["app/m.py"]
    written = os.stat(cache)
    second = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    assert _answer(second) == _answer(first)
    again = os.stat(cache)
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns), \
        "nothing changed, so nothing is written"


def test_default_excluded_names_spare_packages(tmp_path: Path) -> None:
    """``build`` holding an ``__init__.py`` is code (``pip/_internal/operations/build``);
    a plain ``build`` folder, or one the project excludes itself, is not scanned."""
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    for rel in ["app/build", "build", "app/dist", "skipped/build"]:
        (tmp_path / rel).mkdir(parents=True)
        (tmp_path / rel / "m.py").write_text("import app.old\n")
    for rel in ["app/build", "app/dist", "skipped/build"]:
        (tmp_path / rel / "__init__.py").write_text("")
    (tmp_path / "skipped" / "__init__.py").write_text("")
    cfg = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / "cache" / "scan.cache"
    got = scan(cfg, tmp_path, cache_path=cache)
    assert sorted(v.file for v in got.violations) == ["app/build/m.py", "app/dist/m.py"]
    (tmp_path / "build" / "__init__.py").write_text("")  # the rootdir's mtime stays
    got = scan(cfg, tmp_path, cache_path=cache)
    assert sorted(v.file for v in got.violations) == ["app/build/m.py", "app/dist/m.py",
                                                      "build/m.py"]


def _three_folders(root: Path) -> None:
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    for name in ("a", "b", "c"):
        (root / name).mkdir()
        (root / name / "m.py").write_text("import app.old\n")


def test_jobs_beyond_the_cores_and_the_work_fork_no_more_workers(tmp_path: Path,
                                                                 monkeypatch) -> None:
    import pytest_ssot.parallel as parallel

    _three_folders(tmp_path)
    forks = count_forks(monkeypatch)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)  # the same on a one-core machine
    cfg = load_config(tmp_path, with_entry_points=False)
    result = scan(cfg, tmp_path, jobs=200)
    assert sorted(v.file for v in result.violations) == ["a/m.py", "b/m.py", "c/m.py"]
    assert 0 < len(forks) < 4  # workers = processes - 1, at most one per unit of work


def test_no_worker_is_forked_beside_other_threads(tmp_path: Path, monkeypatch) -> None:
    """A fork beside another thread may leave a lock held forever in the child (CPython
    3.12 warns): with another thread running (``pytest -n``'s controller runs execnet's)
    the walk stays in this process, with the same answer."""
    import threading

    import pytest_ssot.parallel as parallel

    _three_folders(tmp_path)
    forks = count_forks(monkeypatch)
    cfg = load_config(tmp_path, with_entry_points=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not parallel.can_fork()
        result = scan(cfg, tmp_path, jobs=2)
    finally:
        stop.set()
        other.join()
    assert sorted(v.file for v in result.violations) == ["a/m.py", "b/m.py", "c/m.py"]
    assert forks == []


def test_a_cache_written_by_another_release_is_not_used(tmp_path: Path,
                                                        monkeypatch) -> None:
    """A release that fixes the scanner without a new cache format would otherwise answer
    from the old release's per-file results (a reference it missed stays missed until the
    file changes): the cache is keyed by the package's version too."""
    import pytest_ssot

    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "m.py").write_text("import app.old\n")
    Tree(tmp_path).stamp(tmp_path / "app" / "m.py", tmp_path / "app", tmp_path)
    cfg = load_config(tmp_path, with_entry_points=False)
    cache = tmp_path / ".pytest_cache" / "d" / "ssot" / "scan.cache"
    first = scan(cfg, tmp_path, cache_path=cache, jobs=1)
    # app/m.py, and pyproject.toml as a configuration file (the docs/config scan)
    assert scan(cfg, tmp_path, cache_path=cache, jobs=1).files_from_cache == first.files_scanned
    monkeypatch.setattr(pytest_ssot, "__version__", "999.0")
    assert scan(cfg, tmp_path, cache_path=cache, jobs=1).files_from_cache == 0
