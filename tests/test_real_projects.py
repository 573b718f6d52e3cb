"""`benchmarks/real_projects.py` on the sdists cached by an earlier run of it: three real
PyPI packages' own tests give the same outcome per test before and after `fix`. No network
here: skipped cleanly when the cache folder (or a dependency the packages need) is absent.
The cache is `benchmarks/_cache/real_projects/`, or `SSOT_REAL_PROJECTS_CACHE`."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SSOT_REAL_PROJECTS_CACHE",
                            ROOT / "benchmarks" / "_cache" / "real_projects"))


def _script():
    spec = importlib.util.spec_from_file_location("real_projects",
                                                  ROOT / "benchmarks" / "real_projects.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _missing_dependency() -> str | None:
    """What the packages' tests and the peer need (the deprecated submodules must exist)."""
    if shutil.which("ruff") is None:
        return "ruff"
    for name in ("scipy.ndimage.interpolation", "pandas.util.testing", "parameterized", "six"):
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except ImportError:
            return name
    return None


real_projects = _script()


@pytest.mark.parametrize("name", sorted(real_projects.PACKAGES))
def test_fix_keeps_each_package_test_results(name, tmp_path):
    spec = real_projects.PACKAGES[name]
    try:
        archive = real_projects.sdist(CACHE, name, spec["version"], offline=True)
    except FileNotFoundError:
        pytest.skip(f"{name}=={spec['version']} is not cached in {CACHE} "
                    "(run benchmarks/real_projects.py once)")
    missing = _missing_dependency()
    if missing:
        pytest.skip(f"needs {missing} (see benchmarks/real_projects.py)")
    assert archive.is_file()
    r = real_projects.run_one(name, spec, CACHE, tmp_path, offline=True)
    assert sum(r["tests_before"].values()) > 0
    assert r["differ"] == [], "fix changed the outcome of these tests"
    assert r["tests_before"] == r["tests_after"]
    assert r["changed"] and r["compiles"]
    assert r["check_exit"] == 0, r["check_out"]
    # the scan found what ruff TID251 found, line for line, and fix left nothing
    assert {(f, n) for f, n, _ in r["ours"]} == set(r["ruff"])
    assert r["left"] == []
    for code in ("I001", "E501", "E127"):
        assert r["style_after"][code] <= r["style_before"][code], code
