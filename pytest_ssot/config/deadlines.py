"""Removal deadlines resolved for this run (SPEC 13): is each one due at the project's
version (``[project] version``, else the installed distribution's) and today? Pure core:
stdlib (and ``packaging`` when installed), no pytest; the deadlines themselves and their
reading from the contract tables are ``domain.deadlines``.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from ..domain.deadlines import VERSION_RE, Deadline, DeadlineError, release_numbers, today
from ..domain.paths import SsotPath

__all__ = ["version_at_least", "project_version", "resolve", "with_deadlines_resolved"]


def version_at_least(current: str, wanted: str) -> bool | None:
    """``current >= wanted`` as PEP 440 orders them (``packaging`` when installed; else the
    release numbers, a pre-release counting as before its release). ``None``: unreadable."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is nearly always there
        Version = None  # type: ignore[assignment,misc]
    if Version is not None:
        try:
            return Version(current) >= Version(wanted)
        except InvalidVersion:
            return None
    a, b = release_numbers(current), release_numbers(wanted)
    if a is None or b is None:
        return None
    if a != b:
        return a > b
    # same release: "2.0rc1" is before "2.0"; a dev/pre suffix on ``current`` is not there yet
    suffix = current[VERSION_RE.match(current).end():].strip().lower()  # type: ignore[union-attr]
    return not re.match(r"^[.\-_]?(a|b|c|rc|alpha|beta|pre|preview|dev)", suffix)


def project_version(root: Path, project: Mapping[str, Any] | None) -> tuple[str | None, str]:
    """``(version, where it came from)``: ``[project] version``, else (dynamic) the
    installed distribution's metadata. ``(None, why)`` when neither is known."""
    project = project if isinstance(project, Mapping) else {}
    version = project.get("version")
    if isinstance(version, str) and version.strip():
        return version.strip(), "[project] version"
    name = project.get("name")
    if not isinstance(name, str) or not name:
        return None, "pyproject.toml has no [project] name or version"
    from importlib import metadata

    try:
        return metadata.version(name), f"installed distribution {name}"
    except metadata.PackageNotFoundError:
        return None, (f"the version is dynamic and distribution {name!r} is not installed "
                      "(pip install -e .)")


def resolve(deadlines: tuple[tuple[SsotPath, Deadline], ...], *,
            version: Callable[[], tuple[str | None, str]], day: _dt.date
            ) -> tuple[tuple[SsotPath, Deadline], ...]:
    """Each deadline with ``passed`` set when it is due today or at this version. A
    ``remove_in`` that cannot be compared (version unknown) is an error: never a silent
    'not yet' that lets a release ship its shims."""
    out = []
    for path, d in deadlines:
        passed = []
        if d.remove_in is not None:
            current, origin = version()
            if current is None:
                raise DeadlineError(f"{path}: remove_in = {d.remove_in!r} cannot be held: "
                                    f"the project's version is unknown ({origin}); set "
                                    "[project] version, install the project, or use "
                                    "remove_after")
            at_least = version_at_least(current, d.remove_in)
            if at_least is None:
                raise DeadlineError(f"{path}: remove_in = {d.remove_in!r} cannot be compared "
                                    f"with the project's version {current!r} ({origin})")
            if at_least:
                passed.append(f"remove_in = \"{d.remove_in}\" (the project is at {current})")
        if d.remove_after is not None and day >= d.remove_after:
            passed.append(f"remove_after = {d.remove_after.isoformat()} (today is "
                          f"{day.isoformat()})")
        out.append((path, Deadline(d.remove_in, d.remove_after,
                                   " and ".join(passed) or None)))
    return tuple(out)


def with_deadlines_resolved(contracts: list, root: Path, project: object) -> list:
    """The contracts with each deadline's ``passed`` set for this run (today, and the
    project's version read at most once, and only when a ``remove_in`` asks for it)."""
    import dataclasses

    known: list[tuple[str | None, str]] = []

    def version() -> tuple[str | None, str]:
        if not known:
            known.append(project_version(root, project if isinstance(project, Mapping)
                                         else None))
        return known[0]

    day = today()
    return [dataclasses.replace(c, deadlines=resolve(c.deadlines, version=version, day=day))
            if c.deadlines else c for c in contracts]
