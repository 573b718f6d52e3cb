"""Discover every import path that serves an object, as a contract (the core of
``pytest-ssot discover MODULE:NAME``; its command part is ``cli/commands/discover.py``).

Pure core: no pytest, no libcst (tomlkit only for ``--write``). The probe script
``probe/_discover.py`` imports each module of the canonical's top-level package in a fresh
interpreter state and reports, per module, how it holds the object; the static scan counts
the references to each path; this module decides which paths are import paths *of the
object* (as opposed to modules that merely use it) and renders the report and the table.

Which modules are listed. A module that binds the very object (``is``) is listed when

1. it binds it under another name by an assignment (``WSManager = WebSocketManager``: a
   renamed alias; ``from m import X as Y`` beside code of its own is its own use), or
2. the name is in its ``__all__`` (an export), or
3. its ``__getattr__`` serves it (a PEP 562 lazy shim), or
4. its own top-level code raises a deprecation warning at import (a deprecation shim;
   a warning raised by a module it imports is that module's, not its own), or
5. it is a package ``__init__`` (``from pkg import Name`` is how packages re-export), or
6. it defines no class or function of its own (a module of imports and assignments is
   a compatibility shim, whatever it is called), or
7. other code imports the name from it (``from pkg.users.u1 import Name``): whatever the
   module's intent, it has become an import path.

Every other module that binds the object under its own name defines code of its own and
nobody imports the name from it: it imports the object for its own use, and is counted,
not listed. The module that defines the object is never listed under the object's own
name (it is where the object lives); when its ``__all__`` lists the name, the path goes to
``allow``, so that the alias check does not report it.

Second implementations are modules that bind a *different* class or function of the same
name, defined there, plus what the scan finds as module-level definitions of the name.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..config.toml import loads
from ..domain.contracts import Contract, SsotConfig
from ..errors import USAGE, ConfigError, SsotError
from ..domain.display import shown
from ..domain.paths import SsotPath, parse_path

__all__ = ["DiscoverError", "Discovery", "Found", "discover", "render_report",
           "render_table", "write_contract", "contract_name", "add_arguments", "run"]

TABLE_HEADER = "[[tool.pytest-ssot.contracts]]"


class DiscoverError(SsotError):
    """Discovery cannot go on (bad argument, canonical that does not resolve, clash)."""

    exit_code = USAGE


@dataclass
class Found:
    """One ``module:attr`` path and why it is listed."""

    path: SsotPath
    roles: list[str] = field(default_factory=list)
    warning: str | None = None  # first deprecation warning a fresh import/access raised
    references: dict[str, int] = field(default_factory=dict)  # by kind
    where: str | None = None  # file:line of a second implementation's definition

    @property
    def total(self) -> int:
        return sum(self.references.values())


@dataclass
class Discovery:
    canonical: SsotPath
    kind: str
    defined_in: str | None
    modules: int = 0
    paths: list[Found] = field(default_factory=list)
    allow: list[Found] = field(default_factory=list)
    second: list[Found] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    users: list[str] = field(default_factory=list)  # bind it for their own use: not listed
    canonical_references: int = 0
    scanned_files: int = 0
    scan_errors: int = 0


# --------------------------------------------------------------------------- probing


def _probe(canonical: SsotPath, sys_path: Sequence[str], timeout: float,
           parallel: int | None) -> dict[str, Any]:
    """The discovery probe's answer. A module whose import kills the probe (its process,
    or its whole process group) costs only its own entry: the scope is asked alone, then
    the modules in halves, down to the one that kills it, as the probe server does."""
    request = {"canonical": {"module": canonical.module, "attr": canonical.attr},
               "sys_path": list(sys_path), "timeout": timeout,
               "parallel": parallel or min(8, os.cpu_count() or 1)}
    answer, death = _run_probe(request)
    if answer is None:
        alone, death = _run_probe({**request, "only_scope": True})
        if alone is None:
            answer = {"scope": {"died": f"its import killed the discovery probe ({death})"},
                      "modules": {}}
        else:
            answer = {"scope": alone["scope"],
                      "modules": _probe_modules(request, alone["scope"].get("modules", []))}
    bugs = [a["internal_error"] for a in [answer["scope"], *answer["modules"].values()]
            if "internal_error" in a]
    if bugs:  # our own bug: loud, with its traceback
        raise RuntimeError("pytest-ssot discovery probe bug:\n" + bugs[0])
    return answer


def _probe_modules(request: dict, modules: list[str]) -> dict[str, Any]:
    if not modules:
        return {}
    answer, death = _run_probe({**request, "modules": modules})
    if answer is not None:
        return answer["modules"]
    if len(modules) == 1:
        return {modules[0]: {"died": f"its import killed the discovery probe ({death})"}}
    mid = len(modules) // 2
    return {**_probe_modules(request, modules[:mid]), **_probe_modules(request, modules[mid:])}


def _run_probe(request: dict) -> tuple[dict | None, str]:
    """One run of the discovery probe: ``(answer, "")`` or ``(None, how it died)``."""
    from ..probe import DISCOVER, run_script

    return run_script(DISCOVER, request,
                      lambda answer: isinstance(answer, dict) and "scope" in answer)


def _warning(pairs: Sequence[Sequence[str]]) -> str | None:
    return f"{pairs[0][0]}: {pairs[0][1]}" if pairs else None


def discover(canonical: SsotPath, root: Path, *, sys_path: Sequence[str],
             settings: SsotConfig | None = None, timeout: float | None = None,
             parallel: int | None = None) -> Discovery:
    """Find every path that serves ``canonical``'s object in its top-level package."""
    if canonical.attr is None:
        raise DiscoverError(f"{canonical}: give the object as 'module:NAME' (a class or "
                            "function of that module)")
    settings = settings or SsotConfig()
    answer = _probe(canonical, sys_path, timeout or settings.probe_timeout, parallel)
    scope = answer["scope"]
    if "died" in scope or "error" in scope:
        reason = scope.get("died") or scope["error"]
        raise DiscoverError(f"{canonical} does not resolve in a fresh interpreter: {reason}"
                            + (f" (at {scope['where']})" if scope.get("where") else "")
                            + "; check the path, and that the project is importable from "
                            f"{root} (installed, or its folder on sys.path)")
    if scope["kind"] not in ("class", "function"):
        raise DiscoverError(f"{canonical} is a {scope['kind']}, not a class or function: "
                            "identity tells nothing about where it comes from")
    found = Discovery(canonical, scope["kind"], scope.get("defined_in"),
                      modules=len(answer["modules"]))
    for err in scope.get("errors", []):
        found.failures.append((err["module"], err["error"]))

    listed: dict[SsotPath, Found] = {}
    users: dict[SsotPath, Found] = {}
    home_allow: list[Found] = []
    for module, res in sorted(answer["modules"].items()):
        if "died" in res or "error" in res:
            found.failures.append((module, res.get("died") or res["error"]))
            continue
        _classify(found, module, res, listed, users, home_allow)
    _count_references(found, settings, root, listed, users)
    for path, f in users.items():
        if f.references.get("import"):
            f.roles.append("imported from here")
            listed[path] = f
        else:
            found.users.append(str(path))
    found.paths = sorted(listed.values(), key=lambda f: f.path)
    found.allow = home_allow
    found.second.sort(key=lambda f: f.path)
    return found


def _classify(found: Discovery, module: str, res: dict[str, Any],
              listed: dict[SsotPath, Found], users: dict[SsotPath, Found],
              home_allow: list[Found]) -> None:
    """Where one module's bindings of the object go: listed (an import path of it), a
    user (its own use), the home's ``allow``, or a second implementation."""
    canonical, name = found.canonical, found.canonical.attr
    own = bool(res["own_warnings"])
    warning = _warning(res["warnings"])
    for attr, in_all in res["bound"]:
        path = SsotPath(module, attr)
        if path == canonical:
            continue
        roles = []
        # SPEC 4: an assignment offers the object under that name; an import (``as``
        # included) beside code of the module's own is its own use: "renamed alias"
        # then describes the name but does not list the module. Without source to
        # read, a binding under another name is taken for an alias.
        assigned = res.get("assigned")
        by_assignment = assigned is not None and attr in assigned
        offered = by_assignment or (attr != name and assigned is None)
        if attr != name:
            roles.append("renamed alias")
        elif by_assignment:
            roles.append("alias (an assignment)")
        if in_all:
            roles.append("in __all__")
        if module == found.defined_in and attr == name:
            if in_all:  # where the object lives: sanctioned, never legacy
                home_allow.append(Found(path, ["defined here, exported in __all__"]))
            continue
        if own:
            roles.append("deprecation shim")
        if res["package"]:
            roles.append("package re-export")
        if res["defines_code"] is False:
            roles.append("no code of its own")
        if offered or in_all or own or res["package"] or res["defines_code"] is False:
            listed[path] = Found(path, roles, warning)
        else:
            users[path] = Found(path, roles, warning)
    for attr, in_all, access in res["lazy"]:
        path = SsotPath(module, attr)
        roles = ["lazy (__getattr__)"]
        if attr != name:
            roles.append("renamed alias")
        if in_all:
            roles.append("in __all__")
        listed[path] = Found(path, roles, _warning(access) or warning)
    if res["second_implementation"]:
        path = SsotPath(module, name)
        found.second.append(Found(path, [f"a different {found.kind} named {name}"],
                                  warning))


def _count_references(found: Discovery, settings: SsotConfig, root: Path,
                      listed: dict[SsotPath, Found], users: dict[SsotPath, Found]) -> None:
    """Scan once with a synthetic contract whose legacy entries are every candidate."""
    from ..scan import scan

    entries = {**listed, **users, **{f.path: f for f in found.second}}
    contract = Contract(name="discover", canonical=found.canonical,
                        legacy=tuple(sorted(entries)))
    probe_settings = SsotConfig(file=settings.file, paths=settings.paths,
                                exclude=settings.exclude, areas=settings.areas,
                                contracts=(contract,))
    try:
        result = scan(probe_settings, root, cache_path=None)  # never the project's cache
    except ConfigError as exc:
        raise DiscoverError(str(exc)) from None
    found.canonical_references = result.canonical.get("discover", 0)
    found.scanned_files = result.files_scanned
    found.scan_errors = len(result.errors)
    for v in result.violations:
        if v.kind == "definition":
            module = _module_of(v.file)
            path = SsotPath(module, found.canonical.attr)
            second = next((f for f in found.second if f.path == path), None)
            if second is None:
                second = Found(path, [f"a module-level definition of "
                                      f"{found.canonical.attr}"])
                found.second.append(second)
            second.where = second.where or f"{v.file}:{v.line}"
            continue
        target = entries.get(parse_path(v.path))
        if target is not None:
            target.references[v.kind] = target.references.get(v.kind, 0) + 1


def _module_of(rel: str) -> str:
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


# --------------------------------------------------------------------------- rendering


def contract_name(canonical: SsotPath) -> str:
    """A contract name from the object's name: ``WebSocketManager`` -> ``web-socket-manager``."""
    attr = canonical.attr or canonical.module.rpartition(".")[2]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", attr)
    text = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    return text or "contract"


def _refs(f: Found) -> str:
    if not f.total:
        return "no references"
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(f.references.items()))
    return f"{f.total} reference{'s' if f.total != 1 else ''} ({kinds})"


def render_report(d: Discovery) -> list[str]:
    """What the terminal shows before the table."""
    lines = [f"pytest-ssot discover: {d.canonical} is a {d.kind}"
             + (f" defined in {d.defined_in}" if d.defined_in else ""),
             f"imported {d.modules} module(s) of package '{d.canonical.module.split('.')[0]}' "
             f"each in a fresh interpreter ({len(d.failures)} failed); scanned "
             f"{d.scanned_files} file(s) for references"
             + (f" ({d.scan_errors} could not be parsed)" if d.scan_errors else ""),
             "",
             f"canonical  {d.canonical}",
             f"           {d.canonical_references} canonical reference(s)"]
    if d.paths:
        lines += ["", f"{len(d.paths)} other path(s) to the same object:"]
        for f in d.paths:
            verdict = f"warns ({f.warning})" if f.warning else "resolves silently"
            lines += [f"  {f.path}", f"      {'; '.join(f.roles)}; {verdict}; {_refs(f)}"]
    else:
        lines += ["", "no other path to the same object"]
    if d.second:
        lines += ["", f"{len(d.second)} second implementation(s) (same name, another object):"]
        for f in d.second:
            at = f" at {shown(f.where)}" if f.where else ""
            lines += [f"  {f.path}{at}", f"      {'; '.join(f.roles)}; {_refs(f)}"]
    if d.allow:
        lines += ["", "exported where it is defined (goes to `allow`):"]
        lines += [f"  {f.path}" for f in d.allow]
    if d.failures:
        lines += ["", f"{len(d.failures)} module(s) failed at import (not searched; fix "
                      "them and run again):"]
        lines += [f"  {m}: {shown(e)}" for m, e in d.failures]
    if d.users:
        lines += ["", f"not listed: {len(d.users)} module(s) import it for their own use "
                      "(an import beside code of their own: not assigned to a name, not in "
                      "__all__, not served by __getattr__, and nothing imports the name "
                      "from them):"]
        lines += [f"  {u}" for u in d.users]
    return lines


def _comment(f: Found, extra: str = "") -> str:
    what = ", ".join(f.roles) + (", warns" if f.warning else "")
    text = f"{extra}{what}; {_refs(f)}"
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)


def render_table(d: Discovery, name: str) -> str:
    """The ``[[tool.pytest-ssot.contracts]]`` table, ready to paste (one entry a line)."""
    lines = [TABLE_HEADER, f'name = "{name}"', f'canonical = "{d.canonical}"']
    entries = [(f, "") for f in d.paths] + [(f, "second implementation: ") for f in d.second]
    if entries:
        lines.append("legacy = [")
        width = max(len(str(f.path)) for f, _ in entries) + 4
        for f, extra in entries:
            lines.append(f'  {f"{chr(34)}{f.path}{chr(34)},":<{width}}# {_comment(f, extra)}')
        lines.append("]")
    else:
        lines.append("legacy = []")
    if d.allow:
        lines.append("allow = [" + ", ".join(f'"{f.path}"' for f in d.allow) + "]")
    lines.append("factories = []  # add the functions that build the object, if any")
    return "\n".join(lines) + "\n"


def table_mapping(table: str) -> dict[str, Any]:
    return loads(table)["tool"]["pytest-ssot"]["contracts"][0]


def write_contract(pyproject: Path, table: str) -> str:
    """Add ``table`` to ``pyproject``, keeping every other byte's meaning and layout.

    Returns the contract's name. Refuses (``DiscoverError``) a name that is already taken,
    a file that is not valid TOML or not a regular file.
    """
    import tomlkit

    from ..atomic import ChangedSinceRead, WouldNotKeep, write_atomic

    new = table_mapping(table)
    target = pyproject.resolve() if pyproject.is_symlink() else pyproject
    if target.exists() and not target.is_file():
        raise DiscoverError(f"{pyproject}: not a regular file")
    try:
        raw = target.read_bytes() if target.exists() else b""
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiscoverError(f"{pyproject}: cannot be read: {exc}") from None
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise DiscoverError(f"{pyproject}: not valid TOML: {exc}") from None
    before = doc.unwrap()
    section = before.get("tool", {}).get("pytest-ssot", {})
    existing = section.get("contracts", []) if isinstance(section, dict) else []
    names = [c.get("name") for c in existing if isinstance(c, dict)]
    if new["name"] in names:
        raise DiscoverError(f"{pyproject}: [tool.pytest-ssot] already has a contract named "
                            f"'{new['name']}'; pick another with --name, or edit that one")
    newline = "\r\n" if "\r\n" in text else "\n"
    # The blank line after the table keeps it apart from a table that follows it.
    piece = tomlkit.parse((table + "\n").replace("\n", newline))
    piece_section = piece["tool"]["pytest-ssot"]  # type: ignore[index]

    tool = doc.get("tool")
    if tool is None:
        doc.append("tool", piece["tool"])
    elif "pytest-ssot" not in tool:
        tool.append("pytest-ssot", piece_section)
    else:
        section_item = tool["pytest-ssot"]
        aot = section_item.get("contracts")
        if aot is None:
            section_item.append("contracts", piece_section["contracts"])
        elif isinstance(aot, tomlkit.items.AoT):
            aot.append(piece_section["contracts"][0])
        else:  # contracts = [{...}]: an inline array takes an inline table
            inline = tomlkit.inline_table()
            inline.update(new)
            aot.append(inline)
    out = tomlkit.dumps(doc)
    if newline == "\r\n":  # tomlkit separates what it adds with "\n"
        out = re.sub(r"(?<!\r)\n", "\r\n", out)
    out = out.rstrip("\r\n") + newline
    # The promise: everything that was there means what it meant, plus one contract.
    expected = json.loads(json.dumps(before))
    expected.setdefault("tool", {}).setdefault("pytest-ssot", {}).setdefault(
        "contracts", []).append(new)
    if _plain(out) != expected:
        raise DiscoverError(f"{pyproject}: the table could not be added without changing "
                            "the rest of the file; paste it by hand")
    try:  # compare-and-swap: only over the bytes read above, keeping owner and links
        write_atomic(target, out.encode("utf-8"), keep_mode=target.exists(),
                     expect=raw if target.exists() else None)
    except ChangedSinceRead:
        raise DiscoverError(f"{pyproject}: changed while discover was writing it; left "
                            "untouched: run again") from None
    except WouldNotKeep as exc:
        raise DiscoverError(f"{pyproject}: not written: {exc}") from None
    except OSError as exc:
        raise DiscoverError(f"{pyproject}: cannot be written: {exc.strerror or exc}") from None
    return str(new["name"])


def _plain(text: str) -> Any:
    try:
        return json.loads(json.dumps(loads(text), default=str))
    except ValueError:  # tomllib.TOMLDecodeError
        return None
