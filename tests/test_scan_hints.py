"""The scan's hint (``-> FIX``) says what ``fix`` would write: a factory's declared
replacement, and for a legacy module the canonical module with the names the line
imports, not the contract's own symbol."""

from __future__ import annotations

from pathlib import Path

from helpers import write_tree
from pytest_ssot.config import load_config
from pytest_ssot.scan import scan


def test_hints_name_the_replacement_and_the_names_imported(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "pyproject.toml": """
            [tool.pytest-ssot]
            paths = ["app"]
            [[tool.pytest-ssot.contracts]]
            name = "t"
            canonical = "lib.testing:assert_frame_equal"
            legacy = ["lib.util.testing"]
            factories = ["lib:make", "lib:build"]
            replacements = {"lib:make" = "lib.registry:get"}
        """,
        "app/__init__.py": "",
        "app/a.py": """
            from lib.util.testing import assert_series_equal
            from lib.util.testing import (assert_frame_equal,
                                          assert_index_equal as aie)
            import lib.util.testing as tm
            from lib import make, build
        """,
    })
    settings = load_config(tmp_path, with_entry_points=False)
    got = {(v.line, v.path): v.fix for v in scan(settings, tmp_path).violations}
    assert got == {
        (1, "lib.util.testing"): "lib.testing:assert_series_equal",
        (2, "lib.util.testing"): "lib.testing:assert_frame_equal, lib.testing:assert_index_equal",
        (4, "lib.util.testing"): "lib.testing",
        (5, "lib:make"): "lib.registry:get",
        (5, "lib:build"): "lib.testing:assert_frame_equal",
    }
