"""GitHub Actions output: workflow-command annotations and the Markdown step summary. Pure.

Annotations follow GitHub's workflow-command escaping (as ``@actions/core`` does it): in
the message ``%``, CR and LF are percent-encoded; in a property value ``:`` and ``,`` too,
since they delimit the properties.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..domain.contracts import Contract
from ..domain.checks import Check, ContractRuntime

if TYPE_CHECKING:
    from ..scan import ScanResult
    from ..scan.baseline import Held

__all__ = ["escape_data", "escape_property", "annotations", "step_summary",
           "append_step_summary", "in_github_actions"]


def in_github_actions(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, message: str, **props: Any) -> str:
    given = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items()
                     if v is not None)
    return f"::{level} {given}::{escape_data(message)}" if given else \
        f"::{level}::{escape_data(message)}"


def annotations(result: "ScanResult", held: "Held", strict: bool) -> list[str]:
    """One ``::error`` per violation that fails the run (new, or any with ``strict``), one
    ``::warning`` per violation the baseline holds (or that no baseline limits); one
    ``::error`` per file that could not be scanned."""
    out = []
    for v, state in zip(result.violations, held.states):
        level = "error" if strict or state == "new" else "warning"
        out.append(_command(level, f"{v.path} -> {v.fix}", file=v.file, line=v.line,
                            title=f"pytest-ssot ({v.contract})"))
    for e in result.errors:
        out.append(_command("error", e["message"], file=e["file"], title="pytest-ssot (scan)"))
    return out


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + _cell(text).replace("`", "'") + "`"


def step_summary(contracts: Sequence[Contract], result: "ScanResult | None",
                 held: "Held | None", checks: Mapping[str, Check], strict: bool,
                 runtimes: Mapping[str, ContractRuntime] | None = None,
                 readiness: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                 new_listed: int = 20, strict_from: str = "") -> str:
    """The Markdown appended to ``$GITHUB_STEP_SUMMARY``: per contract its verdicts (when
    the run probed), violations by area, compliance, new and fixed against the baseline,
    and the modules that can be deleted now (when known)."""
    from . import mode_text

    mode = mode_text(strict, strict_from)
    lines = ["## pytest-ssot", "", f"Mode: {mode}."]
    if held is not None and held.schema is None and not strict:
        lines.append(" No baseline file: violations are not limited.")
    lines.append("")
    for c in contracts:
        check = checks.get(c.name)
        state = ("passed" if check is None or check.passed else "**failed**")
        lines += [f"### {_cell(c.name)}: references {state}", ""]
        rt = (runtimes or {}).get(c.name)
        if rt is not None:
            lines += ["| role | path | verdict |", "| --- | --- | --- |"]
            for role, verdict in [("canonical", rt.canonical),
                                  *(("legacy", v) for v in rt.legacy),
                                  *(("factory", v) for v in rt.factories)]:
                lines.append(f"| {role} | {_code(verdict.path)} | {verdict.verdict} |")
            lines.append("")
        if result is None:
            continue
        mine = [i for i, v in enumerate(result.violations) if v.contract == c.name]
        by_area: dict[str, int] = {}
        for i in mine:
            area = result.violations[i].area
            by_area[area] = by_area.get(area, 0) + 1
        areas = ", ".join(f"{_cell(a)} {n}" for a, n in sorted(by_area.items())) or "none"
        row = [f"| violations | {len(mine)} ({areas}) |",
               f"| compliance | {result.compliance(c.name):.3f} |"]
        if held is not None and held.schema is not None:
            row += [f"| new | {len(held.new(c.name))} |",
                    f"| fixed since the baseline | {held.fixed_total(c.name)} |"]
        lines += ["| measure | value |", "| --- | --- |", *row, ""]
        new = held.new(c.name) if held is not None else []
        if new:
            lines.append("New violations:")
            lines.append("")
            for i in new[:new_listed]:
                v = result.violations[i]
                lines.append(f"- {_code(f'{v.file}:{v.line}')}: {_code(v.path)} -> "
                             f"{_code(v.fix)}")
            if len(new) > new_listed:
                lines.append(f"- ... and {len(new) - new_listed} more")
            lines.append("")
        ready = [m for m in (readiness or {}).get(c.name, ())
                 if m.get("removable") and m.get("verdict") != "absent"]
        if ready:
            lines.append("Can be deleted now: " + ", ".join(_code(m["path"]) for m in ready))
            lines.append("")
    if result is not None and result.errors:
        lines.append(f"{len(result.errors)} file(s) could not be scanned: "
                     + ", ".join(_code(e["file"]) for e in result.errors[:10]))
        lines.append("")
    return "\n".join(lines) + "\n"


def _kind(mode: int) -> str:
    import stat

    return ("a FIFO" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")


def append_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Append to the file ``$GITHUB_STEP_SUMMARY`` names; the problem, if it fails.

    Regular files only, as for report paths (SPEC 12): the file is opened without
    blocking and checked before anything is written, so a FIFO nobody reads, a device or
    a folder is one line, never a hang."""
    import stat

    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    where = f"GITHUB_STEP_SUMMARY ({target!r})"
    flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(target, flags, 0o666)
    except ValueError:  # a NUL in the name
        return f"cannot append to {where}: not a file name"
    except OSError as exc:  # ENXIO: a FIFO with no reader; EISDIR: a folder
        try:
            mode = os.stat(target).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            return f"cannot append to {where}: it is {_kind(mode)}; give a regular file"
        return f"cannot append to {where}: {exc.strerror or exc}"
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return f"cannot append to {where}: it is {_kind(mode)}; give a regular file"
        os.set_blocking(fd, True)
        with os.fdopen(fd, "a", encoding="utf-8", closefd=False) as fh:
            fh.write(markdown)
    except OSError as exc:
        return f"cannot append to {where}: {exc.strerror or exc}"
    finally:
        os.close(fd)
    return None
