"""The scan cache is self-verifying (SPEC 12, issue 22 item 1): any change to its bytes is
found before a cached answer is used; the scan then runs cold, gives the cold answer and
says so in one line.

The project is built once (files and folders stamped in the past, so that the warm scan
trusts their timestamps and really answers from the cache), its cache written once, and
each example flips bytes of that real cache file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.config import load_config
from pytest_ssot.scan import cache as cache_module
from pytest_ssot.scan import scan

PYPROJECT = """
[tool.pytest-ssot]
paths = ["app", "loose.py"]

[[tool.pytest-ssot.contracts]]
name = "ws"
canonical = "app.ws.manager:Manager"
legacy = ["app.old"]
factories = ["app.ws.get_manager"]
"""

FILES = {
    "loose.py": "import app.old\n",
    "app/__init__.py": "",
    "app/old.py": "from app.ws.manager import Manager\n",
    "app/ws/__init__.py": "def get_manager():\n    pass\n",
    "app/ws/manager.py": "class Manager:\n    pass\n",
    "app/a.py": "import app.old\nfrom app.old import x\nX = 'app.old'\n",
    "app/b.py": "from app.ws.manager import Manager\nm = Manager()\n",
    "app/c.py": "from app.ws import get_manager\nget_manager()\n",
    "app/broken.py": "import app.old(\n",
    "app/d/__init__.py": "",
    "app/d/e.py": "import app.old as o\no.thing\n",
    "app/d/f.py": "X = 1\n",
    "app/d/g.py": "class Manager:\n    pass\n",
}


def _answer(result) -> tuple:
    return (result.files_scanned, sorted(result.violations, key=repr),
            sorted(map(repr, result.errors)), result.canonical)


def _project(root: Path) -> Path:
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    old = os.stat(root).st_mtime_ns - 3600 * 10**9  # trusted: far from the racy window
    for path in [*root.rglob("*"), root]:
        os.utime(path, ns=(old, old))
    cache = root / ".pytest_cache" / "d" / "ssot" / "scan.cache"
    cache.parent.mkdir(parents=True)
    return cache


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    # Thousands of scans each rewrite the cache file: in memory where the system has a
    # memory file system (three times faster here), else in the usual temporary folder.
    shm = Path("/dev/shm")
    memory = shm.is_dir() and os.access(shm, os.W_OK)
    root = Path(tempfile.mkdtemp(prefix="ssot-integrity-", dir=shm if memory else
                                 tmp_path_factory.getbasetemp()))
    cache = _project(root)
    cfg = load_config(root, with_entry_points=False)
    cold = scan(cfg, root)
    first = scan(cfg, root, cache_path=cache)
    assert _answer(first) == _answer(cold) and cold.violations and cold.errors
    warm = scan(cfg, root, cache_path=cache)
    # The warm scan really answers from the cache (otherwise flips test nothing).
    assert warm.files_parsed == 0 and warm.files_from_cache == warm.files_scanned
    assert _answer(warm) == _answer(cold) and warm.cache_note == ""
    yield root, cfg, cache, cache.read_bytes(), _answer(cold)
    shutil.rmtree(root, ignore_errors=True)


def _warm_after(built: tuple, data: bytes, *, rewrite: bool = True):
    """The scan that finds ``data`` in the cache file. ``rewrite=False``: the cache it
    would write again is not written (the flip tests put their own bytes there next; what
    a scan writes after a discarded cache is tested once, below)."""
    root, cfg, cache, _good, _cold = built
    cache.write_bytes(data)
    if rewrite:
        return scan(cfg, root, cache_path=cache, jobs=1)
    with mock.patch.object(cache_module, "save_cache", lambda *args: None):
        return scan(cfg, root, cache_path=cache, jobs=1)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                      min_size=10, max_size=10))
def test_every_flipped_byte_is_found_and_the_answer_is_the_cold_one(built: tuple,
                                                                    flips: list) -> None:
    """Ten single-byte flips per example (1,000 in all), at places spread over the whole
    file (header, checksum, fingerprint, folders, loose files, results), each byte
    changed by any of the 255 other values."""
    _root, _cfg, _cache, good, cold = built
    for where, xor in flips:
        at = int(where * len(good))
        data = bytearray(good)
        data[at] ^= xor
        warm = _warm_after(built, bytes(data), rewrite=False)
        assert _answer(warm) == cold, (at, xor)
        assert "scan cache" in warm.cache_note and "cold" in warm.cache_note, (at, xor)
        assert "\n" not in warm.cache_note


def test_a_flip_at_every_position_is_found(built: tuple) -> None:
    """Exhaustive over the positions of the real file (one flip each), cheap on a small
    cache: no region of the file is left unchecked."""
    _root, _cfg, _cache, good, cold = built
    for at in range(len(good)):
        data = bytearray(good)
        data[at] ^= 1 << (at % 8)
        warm = _warm_after(built, bytes(data), rewrite=False)
        assert _answer(warm) == cold, at
        assert warm.cache_note, at


@pytest.mark.parametrize("damage", ["truncated", "extended", "empty", "swapped", "zeroed",
                                    "other file"])
def test_other_damage_is_found(built: tuple, damage: str) -> None:
    root, cfg, cache, good, cold = built
    half = len(good) // 2
    data = {"truncated": good[:-1], "extended": good + b"\0",
            "empty": b"", "swapped": good[:half - 8] + good[half:half + 8]
            + good[half - 8:half] + good[half + 8:],
            "zeroed": good[:half] + bytes(64) + good[half + 64:],
            "other file": b"[tool.pytest-ssot]\n"}[damage]
    warm = _warm_after(built, data)
    assert _answer(warm) == cold
    assert "cold" in warm.cache_note
    # and the cache written by that cold scan is whole again
    again = scan(cfg, root, cache_path=cache, jobs=1)
    assert _answer(again) == cold and again.cache_note == ""
    assert again.files_from_cache == again.files_scanned


def test_a_cache_written_for_other_settings_is_not_a_fault(built: tuple) -> None:
    """A configuration change makes the cache stale, not corrupt: no note."""
    root, _cfg, cache, good, _cold = built
    cache.write_bytes(good)
    import dataclasses

    cfg = load_config(root, with_entry_points=False)
    cfg = dataclasses.replace(cfg, exclude=(*cfg.exclude, "nothing-here"))
    result = scan(cfg, root, cache_path=cache, jobs=1)
    assert result.cache_note == ""


def test_a_cache_of_an_older_version_is_not_a_fault(built: tuple) -> None:
    """Version 7 wrote a bare marshal tuple (no checksum): stale after an upgrade."""
    import marshal

    root, cfg, cache, _good, cold = built
    result = _warm_after(built, marshal.dumps(("7|(3, 11)|[]", 1, marshal.dumps({}), {},
                                               marshal.dumps({}))))
    assert _answer(result) == cold and result.cache_note == ""
