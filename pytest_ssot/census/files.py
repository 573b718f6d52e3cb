"""Reading census files: merging them (``read_census``, ``CensusMerge``), skipping whole a
file that is truncated, damaged, from another project or a newer version, and the
terminal's view of a merge."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Iterable, Mapping

from .watches import SCHEMA, SCHEMA_NAME, SCHEMA_VERSION


class CensusMerge:
    """Hits merged from census files: per (path, caller) ``count``, ``last_seen``."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], dict[str, Any]] = {}
        self.files: list[str] = []
        self.skipped: list[tuple[str, str]] = []  # (file, why): never merged
        self.notes: list[tuple[str, str]] = []

    def add(self, rec: Mapping[str, Any], source: str) -> None:
        key = (rec["path"], rec["caller"])
        got = self.hits.get(key)
        if got is None:
            self.hits[key] = {"path": rec["path"], "contract": rec.get("contract", ""),
                              "caller": rec["caller"], "count": rec["count"],
                              "first_seen": rec["first_seen"], "last_seen": rec["last_seen"],
                              "sources": [source]}
            return
        got["count"] += rec["count"]
        got["first_seen"] = min(got["first_seen"], rec["first_seen"])
        got["last_seen"] = max(got["last_seen"], rec["last_seen"])
        if source not in got["sources"]:
            got["sources"].append(source)

    def by_path(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for h in sorted(self.hits.values(), key=lambda h: (h["path"], -h["count"], h["caller"])):
            out.setdefault(h["path"], []).append(h)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "pytest-ssot-census-merge/1", "files": self.files,
                "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
                "notes": [{"file": f, "note": n} for f, n in self.notes],
                "paths": {p: [{k: h[k] for k in ("caller", "count", "first_seen",
                                                  "last_seen", "contract")}
                              for h in hs] for p, hs in self.by_path().items()}}


_HIT_FIELDS = {"path": str, "caller": str, "count": int, "first_seen": str, "last_seen": str}


def _schema_problem(rec: Mapping[str, Any], project: str | None) -> str | None:
    schema = rec.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_NAME + "/"):
        return "not a pytest-ssot census file"
    version = schema.rpartition("/")[2]
    if not version.isdigit():
        return f"unknown census schema {schema!r}"
    if int(version) > SCHEMA_VERSION:
        return (f"written by a newer pytest-ssot ({schema}; this one reads {SCHEMA}): "
                "upgrade pytest-ssot to read it")
    if project is not None and rec.get("project") != project:
        return (f"from another project ({rec.get('project')!r}, this is {project!r})")
    return None


def _read_one(path: Path, project: str | None) -> tuple[list[dict[str, Any]] | None, str,
                                                        list[str]]:
    """(hit records, or None when the file is skipped; the reason; notes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}", []
    if not data.strip():
        return None, "empty: no census record (truncated?)", []
    lines = data.split(b"\n")
    ends_clean = data.endswith(b"\n")
    if ends_clean:
        lines.pop()
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    parsed: list[Any] = []
    for raw in lines:
        try:
            parsed.append(json.loads(raw))
        except ValueError:
            parsed.append(None)
    for i, rec in enumerate(parsed):
        last = i == len(parsed) - 1
        if rec is None:
            following = parsed[i + 1] if not last else None
            # A kill mid-flush leaves one partial line: last in the file, or followed by
            # the start record of the next process (whose writer began a fresh line).
            if last and not ends_clean or (isinstance(following, dict)
                                           and following.get("kind") == "start"):
                if i == 0:
                    return None, "truncated: its first record is incomplete", notes
                notes.append(f"line {i + 1} is incomplete (a flush was cut off): skipped")
                continue
            return None, f"damaged: line {i + 1} is not a census record", notes
        if not isinstance(rec, dict):
            return None, f"damaged: line {i + 1} is not a census record", notes
        problem = _schema_problem(rec, project)
        if problem is not None:
            return None, problem, notes
        if i == 0 and rec.get("kind") != "start":
            return None, "truncated: it does not begin with a census start record", notes
        if rec.get("kind") == "hits":
            if not all(isinstance(rec.get(k), t) for k, t in _HIT_FIELDS.items()) \
                    or isinstance(rec.get("count"), bool) or rec["count"] < 0:
                return None, f"damaged: line {i + 1} is not a census record", notes
            records.append(rec)
    return records, "", notes


def not_a_census_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a census file (said for what it is), or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a census file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a FIFO, a device or a socket), not a census file"
    return None


def read_census(paths: Iterable[str | os.PathLike[str]], project: str | None = None
                ) -> CensusMerge:
    """Merge census files. A file that is truncated, damaged, from another ``project``
    (when given) or from a newer version is skipped whole and listed in ``skipped``: it is
    never merged as zero hits. A partial last line (a kill mid-flush) is a note."""
    merge = CensusMerge()
    for p in paths:
        path = Path(p)
        records, why, notes = _read_one(path, project)
        for n in notes:
            merge.notes.append((str(p), n))
        if records is None:
            merge.skipped.append((str(p), why))
            continue
        merge.files.append(str(p))
        for rec in records:
            merge.add(rec, str(p))
    return merge


def census_lines(merge: CensusMerge, limit: int | None = None) -> list[str]:
    """The terminal's view of a merge: hits per legacy path and caller."""
    out = []
    for f, why in merge.skipped:
        out.append(f"census file skipped: {f}: {why}")
    for f, note in merge.notes:
        out.append(f"census note: {f}: {note}")
    for path, hits in merge.by_path().items():
        total = sum(h["count"] for h in hits)
        out.append(f"{path}: {total} hit(s) from {len(hits)} caller(s)")
        for h in hits[:limit] if limit else hits:
            out.append(f"  {h['caller']}: {h['count']} (last seen {h['last_seen']})")
        if limit and len(hits) > limit:
            out.append(f"  ... {len(hits) - limit} more caller(s)")
    if not merge.hits and not merge.skipped:
        out.append("no runtime hits on legacy paths")
    return out

