"""``[tool.pytest-ssot]`` -> validated, frozen configuration objects (``domain.contracts``).

Pure core: no pytest import. Every problem is a :class:`ConfigError` whose message names
the file, the table and the key, and says what is valid; the plugin turns it into a
pytest usage error (exit code 4). Beside the loading: ``toml`` (the one TOML reader),
``entry_points`` (contracts of installed distributions), ``deadlines`` (resolved for this
run), ``existence`` (paths that never existed), ``syspath`` (the project's import path).
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..domain.contracts import (DEFAULT_CONFIG_FILES, DEFAULT_DOC_FILES, Contract,
                                GoldenPathConfig, SsotConfig)
from ..domain.deadlines import DeadlineError, legacy_entries
from ..domain.paths import PathSyntaxError, SsotPath, is_module_name, parse_path
from ..errors import ConfigError
from .entry_points import entry_point_tables
from .toml import load_toml, type_name

__all__ = ["DEFAULT_EXCLUDES", "TABLE", "load_config", "contract_from_mapping",
           "lookalike_tables"]

TABLE = "tool.pytest-ssot"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".tox", ".nox", "build", "dist",
    "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".eggs", "*.egg-info", "_build",  # (Sphinx's build folder: copies of the doc sources)
)

_TOP_KEYS = {
    "paths", "exclude", "strict", "baseline", "probe_timeout", "areas", "contracts",
    "golden-path", "doc_files", "config_files",
}
_CONTRACT_KEYS = {
    "name", "canonical", "legacy", "factories", "allow", "alias_scope",
    "deprecation_warnings", "max_import_ms", "replacements",
}
_GOLDEN_KEYS = {"required", "min_tests"}


def _where(file: str, table: str, key: str | None = None) -> str:
    return f"{file}: [{table}]" + (f" key '{key}'" if key else "")


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected an array of strings, got {type_name(value)}"
                          + (f" {value!r}" if not isinstance(value, list) else ""))
    return tuple(value)


def _number(value: object, where: str, minimum: float = 0.0, strict_min: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: expected a number, got {type_name(value)} {value!r}")
    if not math.isfinite(value):  # nan compares false with everything: it passed every check
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    if value < minimum or (strict_min and value == minimum):
        cmp = ">" if strict_min else ">="
        raise ConfigError(f"{where}: expected a number {cmp} {minimum:g}, got {value!r}")
    return float(value)


def _text_globs(table: dict[str, Any], key: str, default: tuple[str, ...], where: str
                ) -> tuple[str, ...]:
    """``doc_files`` / ``config_files``: globs of text files to scan (``[]``: none)."""
    globs = _str_list(table.get(key, list(default)), where)
    for g in globs:
        if not g.strip().strip("/"):
            raise ConfigError(f"{where}: {g!r} is not a glob: expected a file name pattern "
                              "such as \"*.yaml\" or a path pattern such as \"docs/**/*.md\"")
        if "\x00" in g:
            raise ConfigError(f"{where}: {g!r} holds a NUL character, which no file name can")
        if g.endswith(".py") or g.endswith(".pyi"):
            raise ConfigError(f"{where}: {g!r} names Python files: they are code, scanned "
                              "as code already; list only text files (docs, configuration)")
    return globs


def _unknown(keys: Iterable[str], valid: set[str], where_table: str) -> None:
    for key in keys:
        if key not in valid:
            raise ConfigError(
                f"{where_table} unknown key '{key}'; valid keys: {', '.join(sorted(valid))}"
            )


def _paths(value: object, where: str, need_attr: bool = False) -> tuple[SsotPath, ...]:
    out = []
    for text in _str_list(value, where):
        try:
            p = parse_path(text)
        except PathSyntaxError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if need_attr and p.attr is None:
            raise ConfigError(f"{where}: {text!r} must name a class as 'module:Class'")
        out.append(p)
    return tuple(out)


def contract_from_mapping(data: object, file: str, table: str) -> Contract:
    """Validate one contract given as a mapping (TOML table, entry point dict, marker)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{_where(file, table)}: each contract must be a table, got "
                          f"{type_name(data)}")
    name = data.get("name")
    label = table if not isinstance(name, str) else f"{table}] [contract '{name}'"
    where_table = f"{file}: [{label}]"
    _unknown(data.keys(), _CONTRACT_KEYS, where_table)
    for required in ("name", "canonical"):
        if required not in data:
            raise ConfigError(f"{where_table} key '{required}' is missing; it is required")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{where_table} key 'name': {name!r} is not a valid contract name; "
                          "expected [a-z0-9][a-z0-9_.-]*")

    def key_where(k: str) -> str:
        return f"{where_table} key '{k}'"

    try:
        canonical = parse_path(data["canonical"])
    except PathSyntaxError as exc:
        raise ConfigError(f"{key_where('canonical')}: {exc}") from None
    try:
        legacy, deadlines = legacy_entries(data.get("legacy", []), key_where("legacy"))
    except DeadlineError as exc:
        raise ConfigError(str(exc)) from None
    factories = _paths(data.get("factories", []), key_where("factories"))
    allow = _paths(data.get("allow", []), key_where("allow"))
    categories = _paths(data.get("deprecation_warnings", []),
                        key_where("deprecation_warnings"), need_attr=True)
    scope = _str_list(data.get("alias_scope", []), key_where("alias_scope"))
    for mod in scope:
        if not is_module_name(mod):
            raise ConfigError(f"{key_where('alias_scope')}: {mod!r} is not a module name "
                              "(a dotted name such as 'chat.app')")
    max_ms = _number(data.get("max_import_ms", 0), key_where("max_import_ms"))

    for key, group in (("legacy", legacy), ("factories", factories)):
        for p in group:
            if _contains(p, canonical):
                raise ConfigError(
                    f"{key_where(key)}: {str(p)!r} contains the canonical path "
                    f"{str(canonical)!r} (it is the canonical's own module or a parent "
                    "package): deleting it would delete the canonical; list the legacy "
                    "attribute instead ('module:Name')")
    seen: dict[SsotPath, str] = {canonical: "canonical"}
    for key, group in (("legacy", legacy), ("factories", factories), ("allow", allow)):
        for p in group:
            if p in seen:
                raise ConfigError(f"{key_where(key)}: {str(p)!r} is listed twice "
                                  f"(also in '{seen[p]}'); each path may appear once")
            seen[p] = key
    replacements = _replacements(data.get("replacements", {}), factories,
                                 key_where("replacements"))
    return Contract(name=name, canonical=canonical, legacy=legacy, factories=factories,
                    allow=allow, alias_scope=scope, deprecation_warnings=categories,
                    max_import_ms=max_ms, source=file, replacements=replacements,
                    deadlines=deadlines)


def _replacements(value: object, factories: tuple[SsotPath, ...], where: str
                  ) -> tuple[tuple[SsotPath, SsotPath], ...]:
    """``{factory path: "module:callable"}``. A key is a declared factory ``F:f``, or a
    function ``F:f`` of a declared factory *module* ``F`` (one module has many callables)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table of factory path = \"module:callable\", "
                          f"got {type_name(value)} {value!r}")
    modules = {f.module for f in factories if f.attr is None}
    out = []
    for key, target in value.items():
        try:
            factory = parse_path(key)
        except PathSyntaxError as exc:
            raise ConfigError(f"{where}: key {key!r}: {exc}") from None
        if factory not in factories and not (factory.attr and factory.module in modules):
            declared = ", ".join(repr(str(f)) for f in factories) or "none"
            raise ConfigError(f"{where}: {key!r} is not a factory of this contract (declared "
                              f"in 'factories': {declared}; a factory module's function is "
                              "'module:function')")
        if factory.attr is None:
            raise ConfigError(f"{where}: {key!r} is a module: name the function whose calls "
                              f"are replaced, as '{key}:function'")
        if not isinstance(target, str):
            raise ConfigError(f"{where}: {key!r}: expected a 'module:callable' string, got "
                              f"{type_name(target)} {target!r}")
        try:
            callable_ = parse_path(target)
        except PathSyntaxError as exc:
            raise ConfigError(f"{where}: {key!r}: {exc}") from None
        if callable_.attr is None:
            raise ConfigError(f"{where}: {key!r}: {target!r} must name a callable as "
                              "'module:callable'")
        out.append((factory, callable_))
    return tuple(out)


def _contains(path: SsotPath, canonical: SsotPath) -> bool:
    """Is ``path`` a whole module that holds the canonical: its module or a parent package?"""
    if path.attr is not None:
        return False
    return canonical.module == path.module or canonical.module.startswith(path.module + ".")


def _check_across(contracts: list[Contract]) -> None:
    """No contract's legacy or factory path is, or holds, another contract's canonical: the
    scan would skip the canonical's file as a shim and count its imports as violations."""
    for c in contracts:
        for key, group in (("legacy", c.legacy), ("factories", c.factories)):
            for p in group:
                for other in contracts:
                    if other is c:
                        continue
                    if p == other.canonical or _contains(p, other.canonical):
                        raise ConfigError(
                            f"{c.source}: [{TABLE}.contracts] [contract '{c.name}'] key "
                            f"'{key}': {str(p)!r} is or contains the canonical path "
                            f"{str(other.canonical)!r} of contract '{other.name}'; a path "
                            "cannot be both canonical and on its way out")


def _entry_point_contracts() -> list[Contract]:
    return [contract_from_mapping(item, origin, "contracts")
            for origin, items in entry_point_tables() for item in items]


def _third_party(root: Path, paths: list[str], top: str) -> bool:
    """Whether the top-level package ``top`` is not the project's (no folder or file of
    that name at the rootdir, in ``src/`` or in a configured path) but installed (found
    on this interpreter's path; only the finder is asked, nothing is imported)."""
    import importlib.machinery

    for base in {root, root / "src", *(root / p for p in paths)}:
        if (base / top).is_dir() or (base / f"{top}.py").is_file() or base.name == top:
            return False
    if top in sys.builtin_module_names:
        return True
    try:
        return importlib.machinery.PathFinder.find_spec(top) is not None
    except (ImportError, ValueError, OSError):
        return False


def lookalike_tables(rootpath: Path) -> list[str]:
    """One warning per ``[tool.X]`` table, X not ``pytest-ssot``, that holds ``contracts``
    with ``canonical`` keys (``tool.pytest_ssot``, ``tool.ssot``): contracts pytest-ssot
    never reads, which would otherwise pass without a word (SPEC 12)."""
    file = rootpath / "pyproject.toml"
    try:
        tool = load_toml(file).get("tool")
    except (ConfigError, ValueError):  # said by the configuration's loading, if ours
        return []
    if not isinstance(tool, dict):
        return []
    found = []
    for name, table in tool.items():
        contracts = table.get("contracts") if isinstance(table, dict) else None
        if name != "pytest-ssot" and isinstance(contracts, list) and any(
                isinstance(c, dict) and "canonical" in c for c in contracts):
            found.append(f"{file.name}: [tool.{name}] holds contracts, but pytest-ssot reads "
                         f"only [{TABLE}] (with a hyphen): rename it "
                         f"[[{TABLE}.contracts]]; these contracts are not checked")
    return found


def load_config(rootpath: Path, *, with_entry_points: bool = True) -> SsotConfig | None:
    """Read ``rootpath/pyproject.toml``; ``None`` when it has no ``[tool.pytest-ssot]``."""
    file = rootpath / "pyproject.toml"
    if not file.is_file():
        return None
    doc = load_toml(file)
    tool = doc.get("tool", {})
    if not isinstance(tool, dict) or "pytest-ssot" not in tool:
        return None
    shown = file.name
    table = tool["pytest-ssot"]
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [{TABLE}] must be a table, got {type_name(table)}")
    _unknown(table.keys(), _TOP_KEYS, f"{shown}: [{TABLE}]")

    def w(key: str) -> str:
        return _where(shown, TABLE, key)

    paths = _str_list(table.get("paths", ["."]), w("paths"))
    if not paths:  # a scan of nothing passes every check: never silently
        raise ConfigError(f"{w('paths')}: expected at least one folder or file to scan "
                          "(default [\".\"]: the rootdir)")
    exclude = _str_list(table.get("exclude", []), w("exclude"))
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{w('strict')}: expected true or false, got {type_name(strict)} "
                          f"{strict!r}")
    baseline = table.get("baseline", ".ssot-baseline.json")
    if not isinstance(baseline, str) or not baseline:
        raise ConfigError(f"{w('baseline')}: expected a file name (string), got {baseline!r}")
    for key, values in (("paths", paths), ("exclude", exclude), ("baseline", (baseline,))):
        for value in values:
            if "\x00" in value:  # no file name holds one; the OS would raise ValueError
                raise ConfigError(f"{w(key)}: {value!r} holds a NUL character, which no "
                                  "file name can")
    doc_files = _text_globs(table, "doc_files", DEFAULT_DOC_FILES, w("doc_files"))
    config_files = _text_globs(table, "config_files", DEFAULT_CONFIG_FILES,
                               w("config_files"))
    timeout = _number(table.get("probe_timeout", 30), w("probe_timeout"), 0.0, strict_min=True)

    areas = _areas(table.get("areas", {}), shown, w("areas"))
    golden_path = _golden_path(table.get("golden-path", {}), shown, w("golden-path"))
    contracts = _contracts(table.get("contracts", []), rootpath, paths, shown,
                           with_entry_points, doc.get("project"), w("contracts"))

    return SsotConfig(
        file=file, paths=paths, exclude=exclude, strict=strict, baseline=baseline,
        probe_timeout=timeout, areas=areas, contracts=tuple(contracts),
        golden_path=golden_path,
        doc_files=doc_files, config_files=config_files,
    )


def _areas(raw: object, shown: str, where: str) -> tuple[tuple[str, str], ...]:
    """``[tool.pytest-ssot.areas]``: path prefix = label (the reports group by it)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of path prefix = label")
    areas = []
    for prefix, label in raw.items():
        if not isinstance(label, str) or not label:
            raise ConfigError(f"{_where(shown, TABLE + '.areas', prefix)}: expected a label "
                              f"(string), got {type_name(label)} {label!r}")
        areas.append((prefix.strip("/"), label))
    return tuple(areas)


def _golden_path(raw: object, shown: str, where: str) -> GoldenPathConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table with keys "
                          f"{', '.join(sorted(_GOLDEN_KEYS))}")
    gp_table = f"{shown}: [{TABLE}.golden-path]"
    _unknown(raw.keys(), _GOLDEN_KEYS, gp_table)
    required = _str_list(raw.get("required", []), f"{gp_table} key 'required'")
    min_tests = raw.get("min_tests", 0)
    if isinstance(min_tests, bool) or not isinstance(min_tests, int) or min_tests < 0:
        raise ConfigError(f"{gp_table} key 'min_tests': expected an integer >= 0, got "
                          f"{min_tests!r}")
    return GoldenPathConfig(required=required, min_tests=min_tests)


def _contracts(raw: object, rootpath: Path, paths: tuple[str, ...], shown: str,
               with_entry_points: bool, project: object, where: str) -> list[Contract]:
    """The contracts of the table (and of the entry points), validated one by one and
    together, with their deadlines resolved for this run."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected an array of tables "
                          "([[tool.pytest-ssot.contracts]])")
    contracts = [contract_from_mapping(c, shown, f"{TABLE}.contracts") for c in raw]
    contracts = [dataclasses.replace(c, external=True)
                 if _third_party(rootpath, paths, c.canonical.module.partition(".")[0])
                 else c for c in contracts]
    if with_entry_points:
        contracts.extend(_entry_point_contracts())
    names: dict[str, str] = {}
    for c in contracts:
        if c.name in names:
            raise ConfigError(f"{c.source}: [{TABLE}.contracts] key 'name': contract "
                              f"'{c.name}' is defined twice (also in {names[c.name]}); "
                              "names must be unique")
        names[c.name] = c.source
    _check_across(contracts)
    if any(c.deadlines for c in contracts):
        from .deadlines import with_deadlines_resolved

        try:
            contracts = with_deadlines_resolved(contracts, rootpath, project)
        except DeadlineError as exc:
            raise ConfigError(f"{shown}: [{TABLE}.contracts] key 'legacy': {exc}") from None
    return contracts
