"""What a pytest run collects, as the generated items need to know it.

Its own module so that the plugin's hooks and the session plugin both use it without
importing each other (``plugin`` imports ``session`` lazily; nothing imports ``plugin``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

__all__ = ["collects_broadly", "report_generated"]


def collects_broadly(config: "pytest.Config") -> bool:
    """Does this run collect a directory (or the default ``testpaths``)?

    Generated items (contract checks, isolation checks) join such runs; a run naming only
    files or node ids (``pytest tests/test_one.py::test_x``) is someone iterating on one
    test, and stays without them.
    """
    base = config.invocation_params.dir
    return any("::" not in arg and (base / arg).is_dir() for arg in config.args)


def report_generated(config: "pytest.Config", new: "list[pytest.Item]") -> None:
    """Report generated items as their parent's collection result, as pytest's own
    collection does for each collector: the terminal's "collected N items" counts them,
    and so does every plugin that follows collection reports."""
    import pytest  # only once there are items: pytest is loaded by then

    by_parent: dict[str, list[pytest.Item]] = {}
    for item in new:
        parent = item.parent.nodeid if item.parent is not None else ""
        by_parent.setdefault(parent, []).append(item)
    for nodeid, result in by_parent.items():
        config.hook.pytest_collectreport(
            report=pytest.CollectReport(nodeid, "passed", None, result))
