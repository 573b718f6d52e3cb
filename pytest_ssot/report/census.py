"""Runtime census in decisions and reports (SPEC 14). Pure: no pytest, no I/O but reading
census files through ``census.read_census``.

Two sources of runtime evidence:

- the test run's own census: records ``(path, caller, test)``; at test time a hit is
  counted once per test and caller (a module imported at collection counts once per
  collecting module), so the numbers do not depend on import caching or on how xdist
  spread the tests;
- census files (``--ssot-census``, ``scan --census``): ``(path, caller) -> count,
  last_seen`` from services.

A caller the static scan did not report (no reference to that path at that ``file:line``)
is ``dynamic``: the scan cannot see it (``importlib.import_module(name)``, a plugin named in
configuration). A module entry with runtime hits on it or inside it is not removable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from ..census import CensusMerge
    from ..scan import ScanResult

__all__ = ["TestCensus", "add_runtime_blockers", "census_section", "census_terminal_lines"]

SESSION = "<session>"  # hits before any collector or test ran (conftest, plugins)


def _module(path: str) -> str:
    return path.partition(":")[0]


def _inside(path: str, shim: str) -> bool:
    m = _module(path)
    return m == shim or m.startswith(shim + ".")


def _covers(entry: str, referenced: str) -> bool:
    """Does a static reference to ``referenced`` count as one to the census ``entry``?"""
    if ":" in entry:
        return referenced == entry or _module(referenced) == entry.replace(":", ".")
    return _inside(referenced, entry)


class TestCensus:
    """The test run's census: ``(path, caller, test)`` records, merged across processes."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], int] = {}

    def add(self, path: str, caller: str, test: str | None, count: int = 1) -> None:
        key = (path, caller, test or SESSION)
        self.records[key] = self.records.get(key, 0) + count

    def to_list(self) -> list[list[Any]]:
        return [[p, c, t, n] for (p, c, t), n in sorted(self.records.items())]

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for p, c, t, n in rows:
            self.add(str(p), str(c), str(t), int(n))

    def by_path(self, scan: "ScanResult | None") -> dict[str, dict[str, Any]]:
        """Per path: callers (most tests first) with the tests that reached them."""
        static = _static_index(scan)
        out: dict[str, dict[str, Any]] = {}
        for (path, caller, test) in sorted(self.records):
            entry = out.setdefault(path, {"callers": {}, "tests": set()})
            c = entry["callers"].setdefault(caller, set())
            c.add(test)
            entry["tests"].add(test)
        result = {}
        for path, entry in out.items():
            callers = []
            for caller, tests in entry["callers"].items():
                row: dict[str, Any] = {"caller": caller, "hits": len(tests),
                                       "tests": sorted(tests)}
                if scan is not None:
                    row["dynamic"] = not _is_static(path, caller, static)
                callers.append(row)
            callers.sort(key=lambda r: (-r["hits"], r["caller"]))
            result[path] = {"hits": sum(r["hits"] for r in callers), "callers": callers,
                            "tests": sorted(entry["tests"])}
        return result


def _static_index(scan: "ScanResult | None") -> dict[tuple[str, int], list[str]]:
    index: dict[tuple[str, int], list[str]] = {}
    for v in scan.violations if scan is not None else ():
        index.setdefault((v.file, v.line), []).append(v.path)
    return index


def _is_static(path: str, caller: str, index: Mapping[tuple[str, int], list[str]]) -> bool:
    file, _, line = caller.rpartition(":")
    if not line.isdigit():
        return False
    return any(_covers(path, ref) for ref in index.get((file, int(line)), ()))


def census_section(test: TestCensus | None, merge: "CensusMerge | None",
                   scan: "ScanResult | None") -> dict[str, Any]:
    """The report's ``census``: this run's callers and tests per path, and the merged
    census files (with the files skipped and why)."""
    out: dict[str, Any] = {}
    if test is not None:
        out["test_run"] = test.by_path(scan)
    if merge is not None:
        files = merge.to_dict()
        static = _static_index(scan)
        for path, hits in files["paths"].items():
            for h in hits:
                if scan is not None:
                    h["dynamic"] = not _is_static(path, h["caller"], static)
        out["files"] = files
    return out


def add_runtime_blockers(ready: Mapping[str, list[dict[str, Any]]],
                         section: Mapping[str, Any]) -> None:
    """A legacy or factory module with runtime hits (on it, inside it, or on one of its
    attributes) is not removable: one ``runtime`` blocker per caller, naming when it was
    last seen (census files) or the tests that reached it (this run)."""
    test_run = section.get("test_run", {})
    files = section.get("files", {}).get("paths", {})
    skipped = [s["file"] for s in section.get("files", {}).get("skipped", [])]
    for entries in ready.values():
        for e in entries:
            shim = e["path"]
            blockers = []
            for path, data in test_run.items():
                if _inside(path, shim):
                    for c in data["callers"]:
                        blockers.append({"kind": "runtime", "path": path,
                                         "caller": c["caller"], "hits": c["hits"],
                                         "source": "test run", "tests": c["tests"][:5],
                                         "dynamic": c.get("dynamic")})
            for path, hits in files.items():
                if _inside(path, shim):
                    for h in hits:
                        blockers.append({"kind": "runtime", "path": path,
                                         "caller": h["caller"], "hits": h["count"],
                                         "source": "census", "last_seen": h["last_seen"],
                                         "dynamic": h.get("dynamic")})
            if skipped:  # a file that could not be merged may hold hits on it
                blockers.append({"kind": "unknown", "files": skipped,
                                 "reason": "census file(s) skipped, their hits unknown: "
                                           + ", ".join(skipped)})
            if blockers:
                e["blockers"] = [*e["blockers"], *blockers]
                e["removable"] = False


def runtime_why(blockers: Sequence[Mapping[str, Any]], limit: int = 3) -> str | None:
    """``3 runtime caller(s): app/x.py:12 (last seen ...), ...`` or None."""
    runtime = [b for b in blockers if b.get("kind") == "runtime"]
    if not runtime:
        return None
    names = []
    for b in runtime[:limit]:
        when = (f"last seen {b['last_seen']}" if b.get("last_seen")
                else f"in {b.get('hits', 0)} test(s)")
        dyn = ", dynamic" if b.get("dynamic") else ""
        names.append(f"{b.get('caller')} ({when}{dyn})")
    more = f", ... {len(runtime) - limit} more" if len(runtime) > limit else ""
    return f"{len(runtime)} runtime caller(s): " + ", ".join(names) + more


def census_terminal_lines(section: Mapping[str, Any], top: int = 3) -> list[str]:
    """The terminal summary's census: per path the hits and the top callers."""
    lines: list[str] = []
    test_run = section.get("test_run")
    if test_run is not None:
        if not test_run:
            lines.append("runtime census: no test reached a legacy or factory path")
        for path, data in test_run.items():
            lines.append(f"runtime census {path}: {len(data['callers'])} caller(s) in "
                         f"{len(data['tests'])} test(s)")
            for c in data["callers"][:top]:
                dyn = "  dynamic: the scan cannot see this reference" if c.get("dynamic") else ""
                lines.append(f"  {c['caller']} ({c['hits']} test(s), e.g. {c['tests'][0]})"
                             f"{dyn}")
            if len(data["callers"]) > top:
                lines.append(f"  ... {len(data['callers']) - top} more caller(s)")
    files = section.get("files")
    if files is not None:
        for s in files["skipped"]:
            lines.append(f"census file skipped: {s['file']}: {s['reason']}")
        for n in files["notes"]:
            lines.append(f"census note: {n['file']}: {n['note']}")
        for path, hits in files["paths"].items():
            total = sum(h["count"] for h in hits)
            lines.append(f"census files {path}: {total} hit(s) from {len(hits)} caller(s)")
            for h in hits[:top]:
                dyn = "  dynamic" if h.get("dynamic") else ""
                lines.append(f"  {h['caller']}: {h['count']} (last seen {h['last_seen']})"
                             f"{dyn}")
    return lines


def declared_modules(contracts: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """A readiness skeleton for the scan-only command (no probes): each legacy and factory
    module entry, removable until a runtime blocker says otherwise."""
    out: dict[str, list[dict[str, Any]]] = {}
    for c in contracts:
        out[c.name] = [{"path": str(p), "role": role, "removable": True, "blockers": []}
                       for role, paths in (("legacy", c.legacy), ("factory", c.factories))
                       for p in paths if p.attr is None]
    return out


def scan_census(contracts: Sequence[Any], merge: "CensusMerge",
                scan: "ScanResult") -> tuple[dict[str, Any], list[str]]:
    """``pytest-ssot scan --census``: the report's ``census`` section (with the module
    entries that runtime hits keep) and the lines the terminal shows."""
    section = census_section(None, merge, scan)
    ready = declared_modules(contracts)
    add_runtime_blockers(ready, section)
    blocked = [{"contract": name, **e} for name, entries in ready.items() for e in entries
               if not e["removable"]]
    section["not_removable"] = blocked
    lines = census_terminal_lines(section)
    for b in blocked:
        why = runtime_why(b["blockers"]) or next(
            x["reason"] for x in b["blockers"] if x["kind"] == "unknown")
        lines.append(f"census: {b['path']} is not removable: {why}")
    return section, lines
