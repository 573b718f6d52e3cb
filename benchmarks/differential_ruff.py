"""Differential test on real code: pytest-ssot's scan against ruff's TID251, same banned paths.

    python -m pip install ruff sqlalchemy      # the peer, and one of the targets
    python benchmarks/differential_ruff.py [--targets stdlib numpy ...] [--show 10]
                                           [--work DIR] [--oracle]

For each target (the running Python's stdlib, and installed packages: numpy, scipy, pip,
SQLAlchemy, moto, botocore), the `*.py` files are copied into a fresh project folder
(`benchmarks/_work/differential/<target>/`, top-level packages at its root, so module names
are what Python imports), with a `pyproject.toml` declaring real moved paths as contracts
(`numpy.core`, `distutils`, `imp`, `six`, `typing.Callable`, `sqlalchemy.ext.declarative`,
scipy's private namespaces, `botocore.vendored.six`, ...) and a `ruff.toml` banning the
same paths (TID251). ruff runs with `--no-cache --ignore-noqa --output-format json` and
`exclude = []` (its default exclusions would skip `build/` and `dist/` folders that are
code). TID251 checks imports
and, through ruff's semantic model, attribute chains (`typing.Callable` after `import
typing`, `np.core.numeric` after `import numpy as np`) with no extra setting; it never
looks at strings, calls of imported names or definitions.

Every hit is matched by (file, line, path), then by (file, statement, path): ruff reports a
multi-line `from M import (a, b)` on each name's line, SPEC 5 on the statement's first
line. Each difference is classified:

- ruff-only: `shim` (a file of a module entry: SPEC 5 does not scan those), `unparsable`
  (Python cannot parse the file; reported as a scan error), `excluded` (a file the scan did
  not read), else `import` or `attribute` by the statement that holds it: a miss;
- ours-only: by our kind (`string`, `call`, `definition`, `attribute`, `import`) and form
  (`literal-name` for `getattr(x, "A")`-like forms, `string-annotation`, `relative`, ...).

`--oracle` also runs, in this process, our fast path (pre-filter, partial parse, skipping)
and the whole walk on every file, which must agree.

All differences go to `<work>/<target>.differences.txt`; the terminal shows counts and
`--show` examples per class. Exit 1 if any ruff hit outside the shims and unparsable files
is missed, 2 if a tool could not run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
# SPEC 2's default-excluded folder names (a file under one that the scan did not read)
EXCLUDED_NAMES = {".git", ".hg", ".svn", ".venv", "venv", "env", ".tox", ".nox", "build",
                  "dist", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
                  ".ruff_cache", ".eggs"}

# Contracts every target gets (real deprecations and removals of the stdlib and of numpy).
COMMON = [
    {"name": "typing-callable", "canonical": "collections.abc:Callable",
     "legacy": ["typing:Callable"]},
    {"name": "typing-generics", "canonical": "builtins:dict",
     "legacy": ["typing:Dict", "typing:List", "typing:Tuple", "typing:Text"]},
    {"name": "oserror-aliases", "canonical": "builtins:OSError",
     "legacy": ["os:error", "socket:error", "select:error"]},
    # PEP 594's dead batteries, distutils (PEP 632), imp, and six
    {"name": "removed-modules", "canonical": "subprocess:run",
     "legacy": ["distutils", "imp", "asyncore", "asynchat", "smtpd", "cgi", "cgitb", "crypt",
                "sndhdr", "imghdr", "pipes", "telnetlib", "nntplib", "uu", "xdrlib", "chunk",
                "mailcap", "aifc", "sunau", "audioop", "msilib", "nis", "ossaudiodev", "spwd",
                "six"]},
    {"name": "numpy-core", "canonical": "numpy._core:multiarray", "legacy": ["numpy.core"]},
]
TARGETS: dict[str, dict] = {
    "stdlib": {"packages": None, "contracts": []},
    "numpy": {"packages": ["numpy"], "contracts": []},
    "scipy": {"packages": ["scipy"], "contracts": [
        {"name": "scipy-private", "canonical": "scipy.ndimage:gaussian_filter",
         "legacy": ["scipy.ndimage.filters", "scipy.signal.signaltools", "scipy.sparse.csr",
                    "scipy.linalg.basic", "scipy.integrate.quadpack", "scipy.misc"]}]},
    "pip": {"packages": ["pip"], "contracts": [
        {"name": "pip-vendored", "canonical": "packaging.version:Version",
         "legacy": ["pip._vendor.six", "pip._vendor.pkg_resources"]}]},
    "sqlalchemy": {"packages": ["sqlalchemy"], "contracts": [
        {"name": "declarative", "canonical": "sqlalchemy.orm:declarative_base",
         "legacy": ["sqlalchemy.ext.declarative"]}]},
    "moto": {"packages": ["moto"], "contracts": []},
    "botocore": {"packages": ["botocore"], "contracts": [
        {"name": "botocore-vendored", "canonical": "urllib3:PoolManager",
         "legacy": ["botocore.vendored.six", "botocore.vendored.requests"]}]},
}


def toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string for these paths


def write_configs(project: Path, contracts: list[dict]) -> None:
    lines = ["[tool.pytest-ssot]", 'paths = ["."]', ""]
    for c in contracts:
        lines += ["[[tool.pytest-ssot.contracts]]", f"name = {toml_str(c['name'])}",
                  f"canonical = {toml_str(c['canonical'])}",
                  "legacy = [" + ", ".join(toml_str(p) for p in c["legacy"]) + "]", ""]
    (project / "pyproject.toml").write_text("\n".join(lines))
    ruff = ['target-version = "py311"', "exclude = []", "respect-gitignore = false", "",
            "[lint]", 'select = ["TID251"]', "", "[lint.flake8-tidy-imports.banned-api]"]
    for c in contracts:
        for p in c["legacy"]:
            ruff.append(f"{toml_str(p.replace(':', '.'))}.msg = {toml_str(c['name'])}")
    (project / "ruff.toml").write_text("\n".join(ruff) + "\n")


def copy_py(src: Path, dst: Path, skip: set[str]) -> int:
    """Copy the *.py files of `src` into `dst` (same layout); returns how many."""
    n = 0
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        dirnames[:] = [d for d in dirnames
                       if d != "__pycache__" and (rel / d).as_posix() not in skip]
        target = dst / rel
        made = False
        for f in filenames:
            if f.endswith(".py"):
                if not made:
                    target.mkdir(parents=True, exist_ok=True)
                    made = True
                shutil.copyfile(os.path.join(dirpath, f), target / f)
                n += 1
    return n


def prepare(name: str, spec: dict, work: Path) -> tuple[Path, list[dict], int]:
    project = work / name
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    paths = sysconfig.get_paths()
    if spec["packages"] is None:
        stdlib = Path(paths["stdlib"])
        skip = {"site-packages"}
        n = copy_py(stdlib, project, skip)
    else:
        n = 0
        for pkg in spec["packages"]:
            src = Path(paths["purelib"]) / pkg
            if not src.is_dir():
                raise FileNotFoundError(f"{pkg} is not installed (python -m pip install {pkg})")
            n += copy_py(src, project / pkg, set())
    contracts = COMMON + spec["contracts"]
    write_configs(project, contracts)
    return project, contracts, n


def run_ruff(project: Path) -> tuple[list[tuple[str, int, str]], float]:
    ruff = shutil.which("ruff")
    if not ruff:
        raise SystemExit("needs `ruff` on PATH (python -m pip install ruff)")
    t = time.perf_counter()
    proc = subprocess.run([ruff, "check", "--no-cache", "--ignore-noqa", "--exit-zero",
                           "--output-format", "json", "."], cwd=project, capture_output=True,
                          text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"ruff exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    hits = []
    for d in json.loads(proc.stdout):
        if d.get("code") != "TID251":
            continue
        m = re.match(r"`([^`]+)` is banned", d["message"])
        if not m:
            raise SystemExit(f"unexpected ruff message: {d['message']!r}")
        rel = Path(d["filename"]).resolve().relative_to(project.resolve()).as_posix()
        hits.append((rel, d["location"]["row"], m.group(1)))
    return hits, wall


def run_ours(project: Path) -> tuple[dict, float]:
    exe = shutil.which("pytest-ssot")
    cmd = [exe] if exe else [sys.executable, "-m", "pytest_ssot.cli"]
    out = project / ".ssot-report.json"
    shutil.rmtree(project / ".pytest_cache", ignore_errors=True)
    t = time.perf_counter()
    proc = subprocess.run([*cmd, "scan", "--json", str(out)], cwd=project,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1) or not out.exists():
        raise SystemExit(f"pytest-ssot exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return json.loads(out.read_text()), wall


class Sources:
    """Per-file source lines and statement starts, read on demand."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self._lines: dict[str, list[str]] = {}
        self._stmt: dict[str, dict[int, tuple[int, str]] | None] = {}

    def line(self, file: str, n: int) -> str:
        if file not in self._lines:
            try:
                data = (self.project / file).read_bytes()
                self._lines[file] = data.decode("utf-8", "replace").splitlines()
            except OSError:
                self._lines[file] = []
        lines = self._lines[file]
        return lines[n - 1].strip() if 0 < n <= len(lines) else "?"

    def statement(self, file: str, n: int) -> tuple[int, str] | None:
        """(first line, type name) of the innermost statement holding line n."""
        if file not in self._stmt:
            try:
                tree = ast.parse((self.project / file).read_bytes())
            except (SyntaxError, ValueError, OSError):
                self._stmt[file] = None
            else:
                spans: dict[int, tuple[int, str]] = {}
                # breadth first: outer statements first, inner ones overwrite their lines,
                # so each line maps to the innermost statement holding it (an `except X:`
                # or `else:` line stays with its `try`/`if`)
                todo: list[ast.AST] = [tree]
                while todo:
                    node = todo.pop(0)
                    for child in ast.iter_child_nodes(node):
                        if isinstance(child, ast.stmt):
                            first = min([child.lineno] + [d.lineno for d in getattr(
                                child, "decorator_list", [])])
                            for ln in range(first, (child.end_lineno or child.lineno) + 1):
                                spans[ln] = (first, type(child).__name__)
                        todo.append(child)
                self._stmt[file] = spans
        spans = self._stmt[file]
        return None if spans is None else spans.get(n)


def shim_of(file: str, module_entries: list[str]) -> str | None:
    parts = file[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    mod = ".".join(parts)
    for m in module_entries:
        if mod == m or mod.startswith(m + "."):
            return m
    return None


def ours_form(kind: str, text: str, path: str) -> str:
    if kind == "attribute":
        if re.search(r"\b(getattr|hasattr|setattr|delattr|object)\s*\(", text):
            return "literal-name"
        last = path.replace(":", ".").split(".")[-1]
        if re.search(r"[\"'][\w. \[\]]*\b" + re.escape(last) + r"\b", text):
            return "string-annotation"
        return "chain"
    if kind == "import":
        return "relative" if re.match(r"from\s+\.", text) else "import"
    if kind == "string":
        return "decorator" if text.startswith("@") else "string"
    return kind


def compare(name: str, project: Path, contracts: list[dict], ruff_hits: list, report: dict,
            show: int, out_file: Path) -> tuple[bool, dict]:
    src = Sources(project)
    module_entries = [p for c in contracts for p in c["legacy"] if ":" not in p]
    ours = [(v["file"], v["line"], v["path"].replace(":", "."), v["kind"])
            for v in report.get("violations", [])]
    errors = {e["file"] for e in report.get("errors", [])}
    # 1. exact (file, line, path)
    r_left = Counter((f, ln, p) for f, ln, p in ruff_hits)
    o_left: dict[tuple, list[str]] = defaultdict(list)
    for f, ln, p, k in ours:
        o_left[(f, ln, p)].append(k)
    matched = 0
    for key in list(r_left):
        while r_left[key] and o_left.get(key):
            o_left[key].pop()
            r_left[key] -= 1
            matched += 1
    # 2. same statement
    by_stmt: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for (f, ln, p), kinds in o_left.items():
        for k in kinds:
            st = src.statement(f, ln)
            by_stmt[(f, st[0] if st else ln, p)].append((ln, k))
    ruff_only = []
    for (f, ln, p), n in r_left.items():
        for _ in range(n):
            st = src.statement(f, ln)
            key = (f, st[0] if st else ln, p)
            if by_stmt.get(key):
                by_stmt[key].pop()
                matched += 1
            else:
                ruff_only.append((f, ln, p, st[1] if st else None))
    ours_only = [(f, ln, p, k) for (f, _s, p), rest in by_stmt.items() for ln, k in rest]

    classes: dict[str, list[str]] = defaultdict(list)
    misses = 0
    for f, ln, p, stype in sorted(ruff_only):
        if shim_of(f, module_entries):
            cls = "shim"
        elif f in errors:
            cls = "unparsable"
        elif stype is None:
            cls = "unparsable by ast"
            misses += 1
        elif set(f.split("/")[:-1]) & EXCLUDED_NAMES:
            cls = "excluded-folder"
            misses += 1
        else:
            cls = "import" if stype in ("Import", "ImportFrom") else "attribute"
            misses += 1
        classes[f"ruff-only {cls}"].append(f"{f}:{ln}: {p}: {src.line(f, ln)}")
    for f, ln, p, k in sorted(ours_only):
        text = src.line(f, ln)
        classes[f"ours-only {k}/{ours_form(k, text, p)}"].append(f"{f}:{ln}: {p}: {text}")

    kinds = Counter(k for *_, k in ours)
    summary = {"ruff": len(ruff_hits), "ours": len(ours), "ours_by_kind": dict(sorted(
        kinds.items())), "matched": matched, "ruff_only_missed": misses,
        "classes": {c: len(v) for c, v in sorted(classes.items())},
        "scan_errors": len(errors)}
    with out_file.open("w") as fh:
        for cls, items in sorted(classes.items()):
            fh.write(f"== {cls}: {len(items)}\n")
            fh.writelines(f"   {i}\n" for i in items)
    print(f"ruff TID251 hits {len(ruff_hits)}, pytest-ssot violations {len(ours)} "
          f"{dict(sorted(kinds.items()))}, matched {matched}, scan errors {len(errors)}")
    for cls, items in sorted(classes.items()):
        miss = cls.startswith("ruff-only") and not cls.endswith(("shim", "unparsable"))
        print(f"  {cls}: {len(items)}{'   <-- MISSED' if miss else ''}")
        for i in items[: (len(items) if miss else show)]:
            print(f"     {i[:160]}")
    print(f"  all differences: {out_file}")
    return misses == 0, summary


def oracle(project: Path, shown: int) -> dict:
    """Our fast path (the pre-filter, the partial parse, the skipping) against the whole
    walk (every statement parsed and walked, scope analysis everywhere) on every file of
    the project, as the scan reads them: any difference is a bug of the fast path."""
    sys.path.insert(0, str(HERE.parent))
    from pytest_ssot.config import load_config
    from pytest_ssot.scan.defining import defining_modules
    from pytest_ssot.scan.files import module_name
    from pytest_ssot.scan.prefilter import Filter
    from pytest_ssot.scan.rules import Matcher
    from pytest_ssot.scan.analysis import analyze

    settings = load_config(project, with_entry_points=False)
    assert settings is not None
    matcher = Matcher(settings.contracts,
                      defining=defining_modules(settings.contracts, project, False, None))
    filt = Filter(matcher)
    files = checked = 0
    wrong: list[str] = []
    t = time.perf_counter()
    for dirpath, _dirs, names in os.walk(project):
        for n in names:
            if not n.endswith(".py"):
                continue
            path = Path(dirpath) / n
            rel = path.relative_to(project).as_posix()
            module, is_package = module_name(rel, False)
            if matcher.is_shim(module):
                continue
            data = path.read_bytes()
            files += 1
            full, full_error = analyze(data, matcher, module, is_package, always_resolve=True)
            if filt.needs_parse(data, module):
                checked += 1
                fast, fast_error = analyze(data, matcher, module, is_package)
            else:
                fast, fast_error = [], None
                if full_error is not None:
                    continue  # not parsed: its syntax error is not reported (README)
            a = [(str(h.entry.path), h.kind, h.line) for h in fast]
            b = [(str(h.entry.path), h.kind, h.line) for h in full]
            if a != b or (fast_error is None) != (full_error is None):
                wrong.append(f"{rel}: fast {a[:5]} {fast_error} | whole {b[:5]} {full_error}")
    for line in wrong[:shown]:
        print(f"  oracle: {line}")
    print(f"  oracle: {files} files, {checked} through the pre-filter, {len(wrong)} differ "
          f"from the whole walk ({time.perf_counter() - t:.1f} s)")
    return {"oracle_files": files, "oracle_differ": len(wrong)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    ap.add_argument("--show", type=int, default=5, help="examples per class of difference")
    ap.add_argument("--work", type=Path, default=HERE / "_work" / "differential")
    ap.add_argument("--json", type=Path, default=None, help="write the summary as JSON")
    ap.add_argument("--oracle", action="store_true",
                    help="also compare our fast path with the whole walk on every file")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    ok = True
    summaries = {}
    for name in args.targets:
        try:
            project, contracts, n = prepare(name, TARGETS[name], args.work)
        except FileNotFoundError as exc:
            print(f"== {name}: skipped: {exc}")
            summaries[name] = {"skipped": str(exc)}
            continue
        print(f"\n== {name}: {n} .py files in {project}")
        hits, ruff_wall = run_ruff(project)
        report, ours_wall = run_ours(project)
        good, summary = compare(name, project, contracts, hits, report, max(args.show, 0),
                                args.work / f"{name}.differences.txt")
        summary.update(files=n, ruff_s=round(ruff_wall, 2), ours_s=round(ours_wall, 2))
        if args.oracle:
            summary.update(oracle(project, max(args.show, 0)))
            ok &= summary["oracle_differ"] == 0
        print(f"  wall: ruff {ruff_wall:.2f} s, pytest-ssot {ours_wall:.2f} s (cold, 1 run)")
        summaries[name] = summary
        ok &= good
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1) + "\n")
    total_missed = sum(s.get("ruff_only_missed", 0) for s in summaries.values())
    print(f"\nruff hits outside the shims missed by pytest-ssot: {total_missed}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
