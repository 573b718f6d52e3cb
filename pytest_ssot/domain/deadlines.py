"""Removal deadlines of legacy paths (SPEC 13). Pure core: stdlib (and ``packaging`` when
installed), no pytest.

A legacy entry is a string or a table ``{path = "pkg.old", remove_in = "2.0",
remove_after = 2027-03-01}``. ``remove_in`` is due once the project's version is at least
that version; ``remove_after`` once today is that day or later. "Today" is the
environment variable ``SSOT_TODAY`` (``YYYY-MM-DD``) when set, else the local date: CI can
rehearse a deadline, and tests freeze the day without touching ``datetime``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .paths import PathSyntaxError, SsotPath, parse_path

__all__ = ["Deadline", "DeadlineError", "TODAY_VARIABLE", "today", "legacy_entries",
           "project_version", "version_at_least", "resolve",
           "with_deadlines_resolved"]

TODAY_VARIABLE = "SSOT_TODAY"
_ENTRY_KEYS = ("path", "remove_in", "remove_after")
_VERSION_RE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


class DeadlineError(ValueError):
    """A deadline cannot be read; the message says where and what is valid."""


@dataclass(frozen=True)
class Deadline:
    """When a legacy path must be gone; ``passed`` is set once resolved for this run."""

    remove_in: str | None = None
    remove_after: _dt.date | None = None
    passed: str | None = None  # "remove_in = '2.0' (the project is at 2.1)", ...

    def describe(self) -> str:
        """``removal in 2.0, after 2027-03-01`` (what the warnings say)."""
        parts = []
        if self.remove_in is not None:
            parts.append(f"in version {self.remove_in}")
        if self.remove_after is not None:
            parts.append(f"after {self.remove_after.isoformat()}")
        return "removal " + " or ".join(parts)

    def key(self) -> str:
        """A label to group by in reports: ``2.0``, ``2027-03-01``, ``2.0 / 2027-03-01``."""
        return " / ".join(x for x in (self.remove_in, self.remove_after and
                                      self.remove_after.isoformat()) if x)

    def to_dict(self) -> dict[str, Any]:
        return {"remove_in": self.remove_in,
                "remove_after": self.remove_after.isoformat() if self.remove_after else None,
                "passed": self.passed}


def today(environ: Mapping[str, str] | None = None) -> _dt.date:
    """The day deadlines are held to: ``SSOT_TODAY`` or the local date."""
    env = os.environ if environ is None else environ
    text = env.get(TODAY_VARIABLE, "").strip()
    if not text:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise DeadlineError(f"environment variable {TODAY_VARIABLE}={text!r}: expected a "
                            "date YYYY-MM-DD (e.g. 2027-03-01), or leave it unset") from None


def _date(value: object, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DeadlineError(f"{where} key 'remove_after': expected a date (TOML 2027-03-01 or "
                        f"the string \"2027-03-01\"), got {value!r}")


def _version_text(value: object, where: str) -> str:
    if isinstance(value, float):  # 2.10 reads as 2.1: the TOML number lost the version
        raise DeadlineError(f"{where} key 'remove_in': write the version as a string "
                            f"(remove_in = \"{value}\" is read as the number {value!r})")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (
            isinstance(value, str) and not _VERSION_RE.match(value)):
        raise DeadlineError(f"{where} key 'remove_in': expected a version string such as "
                            f"\"2.0\", got {value!r}")
    return str(value).strip()


def legacy_entries(value: object, where: str
                   ) -> tuple[tuple[SsotPath, ...], tuple[tuple[SsotPath, Deadline], ...]]:
    """Validate ``legacy = [...]``: strings and ``{path, remove_in, remove_after}`` tables.
    ``where`` names file, table and key (``pyproject.toml: [...] key 'legacy'``)."""
    if not isinstance(value, list):
        raise DeadlineError(f"{where}: expected an array of paths or tables "
                            "{path = \"pkg.old\", remove_in = \"2.0\", remove_after = "
                            f"2027-03-01}}, got {type(value).__name__}")
    paths: list[SsotPath] = []
    deadlines: list[tuple[SsotPath, Deadline]] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            text, table = item, None
        elif isinstance(item, Mapping):
            table = item
            here = f"{where} entry {i + 1}"
            unknown = [k for k in table if k not in _ENTRY_KEYS]
            if unknown:
                raise DeadlineError(f"{here}: unknown key '{unknown[0]}'; valid keys: "
                                    f"{', '.join(_ENTRY_KEYS)}")
            text = table.get("path")
            if not isinstance(text, str):
                raise DeadlineError(f"{here} key 'path': required, a path 'module' or "
                                    f"'module:attr', got {text!r}")
            if "remove_in" not in table and "remove_after" not in table:
                raise DeadlineError(f"{here}: a table entry needs 'remove_in' and/or "
                                    "'remove_after' (else write the path as a plain string)")
        else:
            raise DeadlineError(f"{where} entry {i + 1}: expected a path string or a table "
                                f"{{path = ..., remove_in = ..., remove_after = ...}}, got "
                                f"{item!r}")
        try:
            p = parse_path(text)
        except PathSyntaxError as exc:
            raise DeadlineError(f"{where}: {exc}") from None
        paths.append(p)
        if table is not None:
            here = f"{where} entry {i + 1} ({text})"
            remove_in = (_version_text(table["remove_in"], here)
                         if "remove_in" in table else None)
            remove_after = (_date(table["remove_after"], here)
                            if "remove_after" in table else None)
            deadlines.append((p, Deadline(remove_in, remove_after)))
    return tuple(paths), tuple(deadlines)


# --------------------------------------------------------------------------- versions


def _release(text: str) -> tuple[int, ...] | None:
    m = _VERSION_RE.match(text)
    if not m:
        return None
    parts = [int(x) for x in m.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


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
    a, b = _release(current), _release(wanted)
    if a is None or b is None:
        return None
    if a != b:
        return a > b
    # same release: "2.0rc1" is before "2.0"; a dev/pre suffix on ``current`` is not there yet
    suffix = current[_VERSION_RE.match(current).end():].strip().lower()  # type: ignore[union-attr]
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


def schedule(contracts: list, references: Mapping[tuple[str, str], int] | None
             ) -> list[dict[str, Any]]:
    """What is due when, soonest first: one row per legacy path with a deadline, with
    the references still left to it (``None`` when no scan ran). ``references``:
    ``(contract, legacy path) -> count``."""
    rows = []
    for c in contracts:
        for path, d in c.deadlines:
            row: dict[str, Any] = {"contract": c.name, "path": str(path), **d.to_dict(),
                                   "due": d.key()}
            row["references"] = (None if references is None
                                 else references.get((c.name, str(path)), 0))
            rows.append(row)
    far = _dt.date.max.isoformat()
    rows.sort(key=lambda r: (r["passed"] is None, r["remove_after"] or far,
                             _release(r["remove_in"] or "") or (10 ** 9,), r["contract"],
                             r["path"]))
    return rows


def schedule_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The schedule as terminal lines (the terminal summary and ``pytest-ssot scan``)."""
    if not rows:
        return []
    out = ["deadlines (what is due when):"]
    width = max(len(r["due"]) for r in rows)
    for r in rows:
        left = ("" if r["references"] is None
                else f": {r['references']} reference(s) left")
        state = f"  PASSED: {r['passed']}" if r["passed"] else ""
        out.append(f"  {r['due']:<{width}}  {r['contract']} {r['path']}{left}{state}")
    return out
