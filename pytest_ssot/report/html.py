"""The self-contained HTML dashboard (SPEC 11: ``--ssot-html``, ``history --html``).

Pure core: no pytest. Imported only when a page is asked for; Jinja2 renders the page and
pygal draws the burndown chart as inline SVG, both imported inside the functions that use
them. The page holds everything (styles, SVG; no script, no font or image to fetch), so it
opens from a file, an artifact store or a wall screen without network.

The page is built from plain data (``page_data``): the SPEC 6 report document of a pytest
session, or the newest commit of a history, plus the history's series when one is known.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..atomic import write_atomic
from ..errors import USAGE, SsotError

if TYPE_CHECKING:
    from ..domain.contracts import SsotConfig
    from ..history.timeline import History

__all__ = ["MissingDependency", "check_dependencies", "page_data", "history_page_data",
           "session_page_data", "render", "write_page"]

_TEMPLATE = Path(__file__).with_name("templates") / "dashboard.html.j2"
_WORST = 8


class MissingDependency(SsotError):
    """The optional ``html`` extra is not installed."""

    exit_code = USAGE


def check_dependencies() -> None:
    """Raise ``MissingDependency`` naming what to install; imports nothing."""
    missing = [name for name in ("jinja2", "pygal") if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency(
            f"the HTML page needs {' and '.join(missing)}: "
            "python -m pip install 'pytest-ssot[html]'")


# ---------------------------------------------------------------------- data

def _count(items: Sequence[Mapping[str, Any]], key: str) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for v in items:
        out[str(v.get(key))] = out.get(str(v.get(key)), 0) + 1
    return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))


def _why(blockers: Sequence[Any]) -> str:
    """What keeps a legacy module alive, in a few words (the report's ``blockers``)."""
    refs = [b for b in blockers if isinstance(b, Mapping) and b.get("kind") == "reference"]
    parts = []
    if refs:
        files = sorted({str(b.get("file")) for b in refs})
        parts.append(f"{len(refs)} reference(s) in {len(files)} file(s): "
                     + ", ".join(files[:3]) + (", ..." if len(files) > 3 else ""))
    for b in blockers:
        if not isinstance(b, Mapping):
            parts.append(str(b))
        elif b.get("kind") == "canonical-import":
            parts.append(f"the canonical {b.get('path')} imports it")
        elif b.get("kind") == "resolves-through":
            parts.append(f"{b.get('path')} resolves through it")
        elif b.get("kind") not in ("reference", "runtime"):
            parts.append(str(b.get("reason") or b.get("kind")))
    from .census import runtime_why  # SPEC 14: runtime hits beside references

    runtime = runtime_why([b for b in blockers if isinstance(b, Mapping)])
    if runtime:
        parts.append(runtime)
    return "; ".join(parts) or "blocked"


def _runtime_hits(section: Mapping[str, Any]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """SPEC 14 beside the static references: hits per declared path (this run's tests and
    the census files), and the top callers."""
    hits: dict[str, int] = {}
    callers: list[dict[str, Any]] = []
    for path, data in (section.get("test_run") or {}).items():
        hits[path] = hits.get(path, 0) + data.get("hits", 0)
        for c in data.get("callers", []):
            callers.append({"path": path, "caller": c["caller"], "hits": c["hits"],
                            "dynamic": c.get("dynamic"), "where": "tests"})
    for path, rows in ((section.get("files") or {}).get("paths") or {}).items():
        for r in rows:
            hits[path] = hits.get(path, 0) + r.get("count", 0)
            callers.append({"path": path, "caller": r["caller"], "hits": r["count"],
                            "dynamic": r.get("dynamic"), "where": f"last seen {r['last_seen']}"})
    callers.sort(key=lambda r: (-r["hits"], r["path"], r["caller"]))
    return hits, callers


def _series(history: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """One contract's burndown: labels, violations, compliance, the largest rise."""
    if not history or not history.get("commits"):
        return None
    labels, violations, compliance, subjects, indexes, narrow = [], [], [], [], [], []
    for c in history["commits"]:
        entry = c.get("contracts", {}).get(name)
        if entry is None:
            continue
        sha = str(c.get("commit", ""))
        short = sha[:7] if len(sha) == 40 or len(sha) == 64 else sha
        labels.append(f"{str(c.get('date', ''))[:10]} {short}".strip())
        violations.append(int(entry.get("violations", 0)))
        compliance.append(float(entry.get("compliance", 1.0)))
        subjects.append(str(c.get("subject", "")))
        indexes.append(c.get("index"))
        narrow.append(c.get("narrow"))
    if not labels:
        return None
    rise, best = None, 0
    for i in range(1, len(violations)):
        if violations[i] - violations[i - 1] > best:
            rise, best = i, violations[i] - violations[i - 1]
    gap = None  # sampled: the rise happened somewhere between two shown commits
    if (rise is not None and isinstance(indexes[rise], int)
            and isinstance(indexes[rise - 1], int) and indexes[rise] - indexes[rise - 1] > 1):
        gap = indexes[rise] - indexes[rise - 1]
    return {"labels": labels, "violations": violations, "compliance": compliance,
            "subjects": subjects, "rise": rise, "rise_by": best, "gap": gap,
            "narrow": narrow[rise] if rise is not None else None,
            "delta": violations[-1] - violations[0],
            "compliance_delta": compliance[-1] - compliance[0]}


def page_data(report: Mapping[str, Any], history: Mapping[str, Any] | None = None, *,
              source: str, head: str | None = None, probed: bool = True) -> dict[str, Any]:
    """Everything the template shows, from a SPEC 6 report document and, optionally, a
    SPEC 11 history document (whose commits may also carry a ``subject``)."""
    violations = list(report.get("violations", []))
    runtime, callers = _runtime_hits(report.get("census") or {})
    contracts = [_contract_data(c, violations, runtime, callers, history, probed,
                                bool(report.get("census")))
                 for c in report.get("contracts", [])]
    return {
        "title": "pytest-ssot: migration dashboard",
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "source": source,
        "head": head,
        "strict": report.get("strict", False),
        "contracts": contracts,
        "errors": list(report.get("errors", [])),
        "summary": report.get("summary", {}),
    }


def _contract_data(c: Mapping[str, Any], violations: list, runtime: dict[str, int],
                   callers: list[dict[str, Any]], history: Mapping[str, Any] | None,
                   probed: bool, runtime_known: bool) -> dict[str, Any]:
    """One contract's part of the page."""
    name = c["name"]
    mine = [v for v in violations if v.get("contract") == name]
    canonical = c.get("canonical", {})
    rows, removable_known, deletable, blocked = _verdict_rows(c, mine, runtime, probed)
    per_file: dict[str, int] = {}
    for v in mine:
        per_file[v.get("file", "")] = per_file.get(v.get("file", ""), 0) + 1
    worst = sorted(per_file.items(), key=lambda kv: (-kv[1], kv[0]))[:_WORST]
    refs = c.get("references", {})
    return {
        "name": name,
        "canonical": canonical.get("path", ""),
        "passed": c.get("passed"),
        "compliance": c.get("compliance"),
        "violations": refs.get("violations", len(mine)),
        "canonical_refs": refs.get("canonical"),
        "files": len(per_file),
        "verdicts": rows,
        "probed": probed,
        "by_area": _count(mine, "area"),
        "by_kind": _count(mine, "kind"),
        "worst": worst,
        "removable_known": removable_known,
        "removable_why": _removable_why(c, removable_known),
        "deletable": deletable,
        "blocked": blocked,
        "history": _series(history, name),
        "runtime_known": runtime_known,
        "runtime_callers": [r for r in callers
                            if any(r["path"] == e.get("path") for key in ("legacy", "factories")
                                   for e in c.get(key, []))][:_WORST],
        "deadlines": list(c.get("deadlines", [])),
    }


def _verdict_rows(c: Mapping[str, Any], mine: list, runtime: dict[str, int], probed: bool
                  ) -> tuple[list[dict[str, Any]], bool, list[dict[str, Any]],
                             list[dict[str, Any]]]:
    """The verdict table's rows (canonical, legacy, factories), whether removability is
    known, and which legacy modules can be deleted now and which cannot (why)."""
    per_path: dict[str, int] = {}
    for v in mine:
        per_path[v.get("path", "")] = per_path.get(v.get("path", ""), 0) + 1
    rows = []
    canonical = c.get("canonical", {})
    rows.append({"role": "canonical", "path": canonical.get("path", ""),
                 "verdict": canonical.get("verdict") if probed else None,
                 "passed": canonical.get("passed"), "detail": canonical.get("error") or "",
                 "references": c.get("references", {}).get("canonical"),
                 "runtime": None})
    removable_known = False
    deletable, blocked = [], []
    for role, key in (("legacy", "legacy"), ("factory", "factories")):
        for e in c.get(key, []):
            rows.append({"role": role, "path": e.get("path", ""),
                         "verdict": e.get("verdict") if probed else None,
                         "passed": e.get("passed"),
                         "detail": e.get("warning") or e.get("error") or "",
                         "references": per_path.get(e.get("path", ""), 0),
                         "runtime": runtime.get(e.get("path", ""))})
            if "removable" in e:
                removable_known = True
                if probed and e.get("verdict") == "absent":
                    continue  # already deleted
                if e["removable"]:
                    deletable.append({"path": e.get("path", ""), "role": role})
                else:
                    blocked.append({"path": e.get("path", ""), "role": role,
                                    "why": _why(e.get("blockers") or [])})
    return rows, removable_known, deletable, blocked


def _removable_why(c: Mapping[str, Any], removable_known: bool) -> str:
    """Why the page cannot say which legacy modules can be deleted ("" when it can)."""
    declared = [e.get("path", "") for key in ("legacy", "factories") for e in c.get(key, [])]
    if removable_known:
        return ""
    if not declared:
        return "the contract declares no legacy or factory path"
    if all(":" in p for p in declared):
        return ("every legacy and factory entry of this contract is an attribute "
                "(module:attr); removability is judged for whole modules, and "
                "an attribute goes when the line that serves it is deleted")
    return ("it is judged from the runtime probes and the static scan of one "
            "pytest run together: pytest --ssot-html=PATH with the contract "
            "items shows it")


def history_page_data(settings: "SsotConfig", history: "History",
                      census: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The page of ``pytest-ssot history --html``: the newest commit in detail (a static
    scan: no runtime verdicts), and the burndown over the sampled commits."""
    from . import scan_part

    newest = history.points[-1]
    result = newest.result
    contracts = []
    for c in settings.contracts:
        summary = history.contract_summary(newest, c.name)
        contracts.append({
            "name": c.name, "canonical": {"path": str(c.canonical)},
            "legacy": [{"path": str(p)} for p in c.legacy],
            "factories": [{"path": str(p)} for p in c.factories],
            "references": {"canonical": summary["canonical"],
                           "violations": summary["violations"]},
            "compliance": summary["compliance"]})
    report = {"schema": "pytest-ssot/1", "strict": settings.strict, "contracts": contracts,
              **scan_part(result)}
    if census:  # `history --census FILE`: runtime hits beside the static references
        report["census"] = census
    doc = history.to_json()
    for i, (entry, point) in enumerate(zip(doc["commits"], history.points)):
        entry["subject"], entry["index"] = point.commit.subject, point.index
        entry["narrow"] = history.narrow(i)
    head = f"{newest.commit.sha[:9]} ({newest.commit.date[:10]}) {newest.commit.subject}"
    return page_data(report, doc, source="pytest-ssot history", head=head, probed=False)


def session_page_data(report: Mapping[str, Any],
                      history: Mapping[str, Any] | None) -> dict[str, Any]:
    """The page of ``pytest --ssot-html``: this session's report; the last stored history
    (``pytest-ssot history`` keeps one in pytest's cache) with this run's working tree as
    its newest point."""
    if history and history.get("commits"):
        now = {"commit": "now", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "subject": "this pytest run (working tree)", "contracts": {}}
        violations = report.get("violations", [])
        for c in report.get("contracts", []):
            if "references" not in c:
                continue
            by_area: dict[str, int] = {}
            for v in violations:
                if v.get("contract") == c["name"]:
                    by_area[v.get("area", "other")] = by_area.get(v.get("area", "other"), 0) + 1
            now["contracts"][c["name"]] = {"violations": c["references"]["violations"],
                                           "canonical": c["references"]["canonical"],
                                           "compliance": c.get("compliance", 1.0),
                                           "by_area": by_area}
        history = {**history, "commits": [*history["commits"], now]}
    return page_data(report, history, source="pytest session", head="working tree")


# ---------------------------------------------------------------------- rendering

def _nice(x: float) -> int:
    """The smallest round step (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten; an
    integer) that is >= x."""
    import math

    if x <= 1:
        return 1
    power = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * power >= x and float(m * power).is_integer():
            return int(m * power)
    return int(10 * power)


def _tick(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-6 else f"{x:.1f}"


def _chart(series: Mapping[str, Any]) -> str:
    """The burndown as inline SVG: violations (left axis), compliance % (right axis), and
    the largest rise marked in red."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="transparent", plot_background="transparent",
        foreground="#c9d1d9", foreground_strong="#f0f6fc", foreground_subtle="#30363d",
        # pygal colours the primary series first, then the secondary one
        colors=("#ff7b72", "#f2cc60", "#3fb950"),
        font_family="DejaVu Sans, Liberation Sans, Arial, sans-serif",
        label_font_size=15, major_label_font_size=15, legend_font_size=18,
        title_font_size=20, value_font_size=14, tooltip_font_size=14,
        opacity="0.9", opacity_hover="1", transition="0ms",
    )
    n = len(series["labels"])
    chart = pygal.Line(
        style=style, width=1200, height=430, js=[], disable_xml_declaration=True,
        show_legend=True, legend_at_bottom=True, legend_at_bottom_columns=3,
        x_label_rotation=0, show_minor_x_labels=False,
        x_labels_major_every=max(1, round(n / 6)), truncate_label=-1,
        secondary_range=(0, 100), include_x_axis=True, dots_size=4 if n <= 60 else 2,
        margin=12, show_x_guides=False, show_y_guides=True, allow_interruptions=True,
        explicit_size=False, no_data_text="no commits", truncate_legend=-1,
        # the right axis shares the left one's ticks: 91.66666667 reads badly on a wall
        value_formatter=_tick)
    # Four equal steps on the left axis, so that the right one reads 0, 25, 50, 75, 100 %.
    step = _nice(max(series["violations"]) / 4)
    chart.range = (0, 4 * step)
    chart.y_labels = [k * step for k in range(5)]
    chart.x_labels = [label[:10] for label in series["labels"]]
    chart.add("violations", series["violations"], stroke_style={"width": 5})
    chart.add("compliance %", [round(100 * x, 1) for x in series["compliance"]],
              secondary=True, stroke_style={"width": 3, "dasharray": "8, 6"})
    rise = series["rise"]
    if rise is not None:
        marks: list[Any] = [None] * n
        marks[rise - 1] = series["violations"][rise - 1]
        marks[rise] = {"value": series["violations"][rise], "node": {"r": 11}}
        chart.add(f"largest rise +{series['rise_by']} ({series['labels'][rise][11:] or rise})",
                  marks, stroke_style={"width": 6}, dots_size=9)
    return chart.render(is_unicode=True)


def render(data: Mapping[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_TEMPLATE.read_text(encoding="utf-8"))
    charts = {c["name"]: _chart(c["history"]) for c in data["contracts"] if c["history"]}
    return template.render(data=data, charts=charts, markup=jinja2.utils.markupsafe.Markup)


def write_page(path: Path, data: Mapping[str, Any]) -> None:
    """Render and write atomically (a wall screen reloading it never sees half a page)."""
    write_atomic(path, render(data).encode("utf-8"))
