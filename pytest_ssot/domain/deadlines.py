"""Removal deadlines of legacy paths (SPEC 13). Pure: stdlib only, no pytest. (Whether a
deadline is due at the project's version is ``config.deadlines``: it reads the version.)

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
from typing import Any, Mapping

from ..errors import USAGE, SsotError
from .paths import PathSyntaxError, SsotPath, parse_path

__all__ = ["Deadline", "DeadlineError", "TODAY_VARIABLE", "VERSION_RE", "today",
           "legacy_entries", "release_numbers", "schedule", "schedule_lines"]

TODAY_VARIABLE = "SSOT_TODAY"
_ENTRY_KEYS = ("path", "remove_in", "remove_after")
VERSION_RE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


class DeadlineError(ValueError, SsotError):
    """A deadline cannot be read; the message says where and what is valid."""

    exit_code = USAGE


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
            isinstance(value, str) and not VERSION_RE.match(value)):
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


def release_numbers(text: str) -> tuple[int, ...] | None:
    """A version's release numbers, trailing zeros dropped (``"2.0rc1"`` -> ``(2,)``);
    ``None`` when it does not start with one."""
    m = VERSION_RE.match(text)
    if not m:
        return None
    parts = [int(x) for x in m.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


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
                             release_numbers(r["remove_in"] or "") or (10 ** 9,), r["contract"],
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
