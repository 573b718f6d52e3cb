"""``[tool.pytest-ssot]`` -> validated, frozen configuration objects.

Pure core: no pytest import. Every problem is a :class:`ConfigError` whose message names
the file, the table and the key, and says what is valid; the plugin turns it into a
pytest usage error (exit code 4).
"""

from __future__ import annotations

import dataclasses

import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..domain.deadlines import Deadline, DeadlineError, legacy_entries
from ..domain.paths import PathSyntaxError, SsotPath, is_module_name, parse_path

__all__ = [
    "ConfigError",
    "Contract",
    "GoldenPathConfig",
    "SsotConfig",
    "DEFAULT_EXCLUDES",
    "load_config",
    "contract_from_mapping",
]

TABLE = "tool.pytest-ssot"
ENTRY_POINT_GROUP = "pytest_ssot.contracts"
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
# Text files scanned for legacy dotted paths (SPEC 13): kinds ``doc`` and ``config``. A
# glob without ``/`` matches a file name at any depth within ``paths``; one with ``/``
# matches the rootdir-relative POSIX path (``**`` spans folders).
DEFAULT_DOC_FILES: tuple[str, ...] = ("docs/**/*.md", "docs/**/*.rst", "docs/**/*.txt")
DEFAULT_CONFIG_FILES: tuple[str, ...] = (
    "*.toml", "*.cfg", "*.ini", "*.yaml", "*.yml", "*.json", "Dockerfile", "Makefile",
)
_CONTRACT_KEYS = {
    "name", "canonical", "legacy", "factories", "allow", "alias_scope",
    "deprecation_warnings", "max_import_ms", "replacements",
}
_GOLDEN_KEYS = {"required", "min_tests"}


class ConfigError(Exception):
    """The configuration is wrong; the message says where and what is valid."""


@dataclass(frozen=True)
class Contract:
    """One SSOT contract: a canonical path and the paths that must go away."""

    name: str
    canonical: SsotPath
    legacy: tuple[SsotPath, ...] = ()
    factories: tuple[SsotPath, ...] = ()
    allow: tuple[SsotPath, ...] = ()
    alias_scope: tuple[str, ...] = ()
    deprecation_warnings: tuple[SsotPath, ...] = ()
    max_import_ms: float = 0.0
    source: str = "pyproject.toml"
    # factory path -> the callable its calls become (``pytest-ssot fix``, SPEC 11)
    replacements: tuple[tuple[SsotPath, SsotPath], ...] = ()
    # legacy path -> its removal deadline (SPEC 13); ``passed`` set by ``load_config``
    deadlines: tuple[tuple[SsotPath, Deadline], ...] = ()

    def deadline(self, path: SsotPath | str) -> Deadline | None:
        for p, d in self.deadlines:
            if p == path or str(p) == path:
                return d
        return None

    # the canonical's top-level package is not the project's (a third-party library)
    external: bool = False

    @property
    def effective_alias_scope(self) -> tuple[str, ...]:
        """Packages searched for aliases (SPEC 4): configured; else the canonical's
        top-level package when it is the project's own, the canonical's own module when
        it lies in a third-party distribution (importing all of a large library costs
        minutes and proves nothing about the project)."""
        if self.alias_scope:
            return self.alias_scope
        if self.external:
            return (self.canonical.module,)
        return (self.canonical.parent_package or self.canonical.module,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canonical": str(self.canonical),
            "legacy": [str(p) for p in self.legacy],
            "factories": [str(p) for p in self.factories],
            "allow": [str(p) for p in self.allow],
            "alias_scope": list(self.alias_scope),
            "deprecation_warnings": [str(p) for p in self.deprecation_warnings],
            "max_import_ms": self.max_import_ms,
            "replacements": {str(k): str(v) for k, v in self.replacements},
        }


@dataclass(frozen=True)
class GoldenPathConfig:
    required: tuple[str, ...] = ()
    min_tests: int = 0


@dataclass(frozen=True)
class SsotConfig:
    """The whole ``[tool.pytest-ssot]`` table, validated."""

    file: Path | None = None
    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    strict: bool = False
    baseline: str = ".ssot-baseline.json"
    probe_timeout: float = 30.0
    areas: tuple[tuple[str, str], ...] = ()
    contracts: tuple[Contract, ...] = ()
    golden_path: GoldenPathConfig = field(default_factory=GoldenPathConfig)
    doc_files: tuple[str, ...] = DEFAULT_DOC_FILES
    config_files: tuple[str, ...] = DEFAULT_CONFIG_FILES

    def contract(self, name: str) -> Contract | None:
        for c in self.contracts:
            if c.name == name:
                return c
        return None


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib lets the decoder's error out
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 (byte 0x{exc.object[exc.start]:02x} "
                          f"at offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _where(file: str, table: str, key: str | None = None) -> str:
    return f"{file}: [{table}]" + (f" key '{key}'" if key else "")


def _type_name(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            list: "array", dict: "table"}.get(type(value), type(value).__name__)


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected an array of strings, got {_type_name(value)}"
                          + (f" {value!r}" if not isinstance(value, list) else ""))
    return tuple(value)


def _number(value: object, where: str, minimum: float = 0.0, strict_min: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: expected a number, got {_type_name(value)} {value!r}")
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
                          f"{_type_name(data)}")
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
                          f"got {_type_name(value)} {value!r}")
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
                              f"{_type_name(target)} {target!r}")
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


def _group_may_be_declared(group: str) -> bool:
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


def _entry_point_contracts() -> list[Contract]:
    if "importlib.metadata" not in sys.modules and not _group_may_be_declared(
            ENTRY_POINT_GROUP):
        return []
    from importlib.metadata import entry_points

    out: list[Contract] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        origin = f"entry point '{ep.name} = {ep.value}' ({ENTRY_POINT_GROUP}, distribution {dist})"
        try:
            items = ep.load()()
        except Exception as exc:  # a third-party distribution's bug: report, don't crash
            raise ConfigError(f"{origin}: failed to load: {type(exc).__name__}: {exc}") from None
        if not isinstance(items, list):
            raise ConfigError(f"{origin}: must return a list of contract dicts, got "
                              f"{_type_name(items)}")
        out.extend(contract_from_mapping(item, origin, "contracts") for item in items)
    return out


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
        tool = _load_toml(file).get("tool")
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
    doc = _load_toml(file)
    tool = doc.get("tool", {})
    if not isinstance(tool, dict) or "pytest-ssot" not in tool:
        return None
    shown = file.name
    table = tool["pytest-ssot"]
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [{TABLE}] must be a table, got {_type_name(table)}")
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
        raise ConfigError(f"{w('strict')}: expected true or false, got {_type_name(strict)} "
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

    areas_raw = table.get("areas", {})
    if not isinstance(areas_raw, dict):
        raise ConfigError(f"{w('areas')}: expected a table of path prefix = label")
    areas = []
    for prefix, label in areas_raw.items():
        if not isinstance(label, str) or not label:
            raise ConfigError(f"{_where(shown, TABLE + '.areas', prefix)}: expected a label "
                              f"(string), got {_type_name(label)} {label!r}")
        areas.append((prefix.strip("/"), label))

    gp_raw = table.get("golden-path", {})
    if not isinstance(gp_raw, dict):
        raise ConfigError(f"{w('golden-path')}: expected a table with keys "
                          f"{', '.join(sorted(_GOLDEN_KEYS))}")
    gp_table = f"{shown}: [{TABLE}.golden-path]"
    _unknown(gp_raw.keys(), _GOLDEN_KEYS, gp_table)
    required = _str_list(gp_raw.get("required", []), f"{gp_table} key 'required'")
    min_tests = gp_raw.get("min_tests", 0)
    if isinstance(min_tests, bool) or not isinstance(min_tests, int) or min_tests < 0:
        raise ConfigError(f"{gp_table} key 'min_tests': expected an integer >= 0, got "
                          f"{min_tests!r}")

    raw_contracts = table.get("contracts", [])
    if not isinstance(raw_contracts, list):
        raise ConfigError(f"{w('contracts')}: expected an array of tables "
                          "([[tool.pytest-ssot.contracts]])")
    contracts = [contract_from_mapping(c, shown, f"{TABLE}.contracts") for c in raw_contracts]
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
        from ..domain.deadlines import with_deadlines_resolved

        try:
            contracts = with_deadlines_resolved(contracts, rootpath, doc.get("project"))
        except DeadlineError as exc:
            raise ConfigError(f"{shown}: [{TABLE}.contracts] key 'legacy': {exc}") from None

    return SsotConfig(
        file=file, paths=paths, exclude=exclude, strict=strict, baseline=baseline,
        probe_timeout=timeout, areas=tuple(areas), contracts=tuple(contracts),
        golden_path=GoldenPathConfig(required=required, min_tests=min_tests),
        doc_files=doc_files, config_files=config_files,
    )
