"""Contracts declared by installed distributions: the ``pytest_ssot.contracts`` entry
point group, each entry a callable returning a list of contract tables (SPEC 4).

Pure core: no pytest import. Here the entry points are found and called; ``config``
validates what they return, as it validates the tables of ``pyproject.toml``.
"""

from __future__ import annotations

import os
import sys
from typing import Iterator

from ..errors import ConfigError
from .toml import type_name

__all__ = ["ENTRY_POINT_GROUP", "group_may_be_declared", "entry_point_tables"]

ENTRY_POINT_GROUP = "pytest_ssot.contracts"


def group_may_be_declared(group: str) -> bool:
    """Can an installed distribution declare entry points in ``group``? ``False`` is a
    proof; ``True`` when unsure. Importing ``importlib.metadata`` costs a standalone
    ``pytest-ssot scan`` about 35 ms (``email``, ``zipfile``, ``csv``...), most of a warm
    run's fixed cost, for a group that is declared rarely: this reads what it would read,
    the ``entry_points.txt`` of each ``*.dist-info``/``*.egg-info`` folder on ``sys.path``
    (and ``EGG-INFO`` inside an ``*.egg`` folder). Anything else that can hold metadata
    (a zip on ``sys.path``, a meta path finder of its own) answers ``True``."""
    import importlib.machinery

    for finder in sys.meta_path:
        if (getattr(finder, "find_distributions", None) is not None
                and finder is not importlib.machinery.PathFinder):
            return True
    needle = f"[{group}]".encode()
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except NotADirectoryError:
            return True  # a zip file: its metadata is not read here
        except OSError:
            continue  # not there: nothing installed there
        egg = os.path.basename(root).lower().endswith(".egg")
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")) or (egg and low == "egg-info"):
                try:
                    with open(os.path.join(root, child, "entry_points.txt"), "rb") as fh:
                        if needle in fh.read():
                            return True
                except (FileNotFoundError, NotADirectoryError):
                    continue  # no entry points (an ``*.egg-info`` file holds none)
                except OSError:
                    return True  # unreadable: let importlib.metadata say
    return False


def entry_point_tables() -> Iterator[tuple[str, list]]:
    """``(origin, the list it returned)`` per entry point of the group, by name; the
    origin names the entry point and its distribution for messages. Each is loaded when
    the previous one's list has been used."""
    if "importlib.metadata" not in sys.modules and not group_may_be_declared(
            ENTRY_POINT_GROUP):
        return
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        origin = f"entry point '{ep.name} = {ep.value}' ({ENTRY_POINT_GROUP}, distribution {dist})"
        try:
            items = ep.load()()
        except Exception as exc:  # a third-party distribution's bug: report, don't crash
            raise ConfigError(f"{origin}: failed to load: {type(exc).__name__}: {exc}") from None
        if not isinstance(items, list):
            raise ConfigError(f"{origin}: must return a list of contract dicts, got "
                              f"{type_name(items)}")
        yield origin, items
