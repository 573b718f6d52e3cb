"""`pytest-ssot fix` on real packages from PyPI: their own tests before and after, ruff as peer.

    python -m pip install "numpy==1.26.4" "scipy==1.11.4" "pandas==1.5.3" six pillow \
        parameterized pytest ruff
    python benchmarks/real_projects.py [--cache DIR] [--work DIR] [--only NAME ...] [--offline]

Each package below is a pure-Python release that imported a deprecated alias path of a
dependency (SciPy's `scipy.ndimage.interpolation`, pandas' `pandas.util.testing`). Its sdist
is downloaded once into the cache folder (`pip download --no-deps --no-binary :all:
NAME==VER`; `--offline` never downloads) and unpacked into a fresh work folder, where a
`[tool.pytest-ssot]` contract for those paths and a `ruff.toml` banning the same paths
(TID251) are written. Then, for each package:

1. its own tests run (`python -m pytest -p no:ssot`, per-test outcomes from JUnit XML);
2. `pytest-ssot scan --json` and `ruff check --select TID251` count the references;
3. `ruff check --preview --select I,E501,E127` runs on the files that hold references;
4. `pytest-ssot fix`; its listing gives what was left and why;
5. the tests again, which must give the same outcome for every test, a second `fix
   --check` must find nothing to do, and step 3 again on the same files.

The dependency versions must still ship the deprecated submodules (SciPy <= 1.13, pandas <
2.0) and install on this Python. Exit 0 when every package's results are identical, 1 if
any differ (a bug of `fix`), 2 if a package could not be prepared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

NDIMAGE_INTERPOLATION = {"name": "scipy-ndimage-interpolation",
                         "canonical": "scipy.ndimage:shift",
                         "legacy": ["scipy.ndimage.interpolation"]}
PANDAS_TESTING = {"name": "pandas-util-testing",
                  "canonical": "pandas.testing:assert_frame_equal",
                  "legacy": ["pandas.util.testing"]}

# name -> what to fetch, where its code lies, which tests to run (a subset that runs in
# seconds to minutes here; the whole test folder of each package)
PACKAGES: dict[str, dict] = {
    "PyAbel": {"version": "0.8.4", "pythonpath": ".", "tests": ["abel/tests"],
               "paths": ["abel", "examples"], "contracts": [NDIMAGE_INTERPOLATION]},
    "imreg_dft": {"version": "2.0.0", "pythonpath": "src",
                  # plain unittest modules that run `unittest.main()` when imported
                  "unittest": "tests/unittests", "tests": ["imreg", "utils"],
                  "paths": ["src", "tests"], "contracts": [NDIMAGE_INTERPOLATION]},
    "empyrical": {"version": "0.5.5", "pythonpath": ".", "tests": ["empyrical/tests"],
                  "paths": ["empyrical"], "contracts": [PANDAS_TESTING]},
}


def toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string for these paths


def sdist(cache: Path, name: str, version: str, offline: bool) -> Path:
    stem = f"{name}-{version}".lower().replace("-", "_")
    for f in sorted(cache.glob("*.tar.gz")) if cache.is_dir() else []:
        if f.name[:-len(".tar.gz")].lower().replace("-", "_") == stem:
            return f
    if offline:
        raise FileNotFoundError(f"{name}=={version} is not in {cache}")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--no-binary", ":all:", f"{name}=={version}", "-d", str(cache)], check=True)
    return sdist(cache, name, version, True)


def unpack(archive: Path, work: Path) -> Path:
    with tarfile.open(archive) as tf:
        top = {m.name.split("/")[0] for m in tf.getmembers()}
        if len(top) != 1:
            raise ValueError(f"{archive.name}: not one top folder")
        project = work / top.pop()
        if project.exists():
            shutil.rmtree(project)
        tf.extractall(work, filter="data")
    return project


def write_configs(project: Path, spec: dict) -> None:
    lines = ["", "[tool.pytest-ssot]",
             "paths = [" + ", ".join(toml_str(p) for p in spec["paths"]) + "]", ""]
    for c in spec["contracts"]:
        lines += ["[[tool.pytest-ssot.contracts]]", f"name = {toml_str(c['name'])}",
                  f"canonical = {toml_str(c['canonical'])}",
                  "legacy = [" + ", ".join(toml_str(p) for p in c["legacy"]) + "]", ""]
    py = project / "pyproject.toml"
    old = py.read_text() if py.exists() else ""
    py.write_text(old + "\n".join(lines))
    ruff = ['target-version = "py311"', "exclude = []", "respect-gitignore = false",
            "line-length = 99", "", "[lint.flake8-tidy-imports.banned-api]"]
    for c in spec["contracts"]:
        for p in c["legacy"]:
            ruff.append(f"{toml_str(p.replace(':', '.'))}.msg = {toml_str(c['name'])}")
    (project / "ruff.toml").write_text("\n".join(ruff) + "\n")


UNITTEST_LINE = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n[^\n]*?)? \.\.\. (ok|ERROR|FAIL|skipped|"
                           r"expected failure|unexpected success)", re.M)
UNITTEST_KIND = {"ok": "passed", "ERROR": "error", "FAIL": "failure", "skipped": "skipped",
                 "expected failure": "skipped", "unexpected success": "failure"}


def run_tests(project: Path, spec: dict, tag: str) -> tuple[dict[str, str], str]:
    env = dict(os.environ, PYTHONPATH=str(project / spec["pythonpath"]), MPLBACKEND="Agg")
    if "unittest" in spec:
        proc = subprocess.run([sys.executable, "-W", "ignore", "-m", "unittest", "-v",
                               *spec["tests"]], cwd=project / spec["unittest"], env=env,
                              capture_output=True, text=True)
        found = {f"{cls}::{name}": UNITTEST_KIND[kind]
                 for name, cls, kind in UNITTEST_LINE.findall(proc.stderr)}
        if not found:
            raise RuntimeError(f"tests did not run (exit {proc.returncode}):\n"
                               f"{proc.stderr[-2000:]}")
        return found, proc.stderr.strip().splitlines()[-1]
    xml = project / f".junit-{tag}.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:ssot", "-p",
                           "no:cacheprovider", "-q", "-W", "ignore", f"--junitxml={xml}",
                           *spec["tests"]], cwd=project, env=env, capture_output=True,
                          text=True)
    if not xml.exists():
        raise RuntimeError(f"tests did not run (exit {proc.returncode}):\n{proc.stdout[-2000:]}")
    outcomes: dict[str, str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        key = f"{case.get('classname')}::{case.get('name')}"
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = child.tag
        outcomes[key] = kind
    xml.unlink()
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return outcomes, summary


def ssot(project: Path, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("pytest-ssot")
    cmd = [exe] if exe else [sys.executable, "-m", "pytest_ssot.cli"]
    return subprocess.run([*cmd, *args], cwd=project, capture_output=True, text=True)


def ruff_json(project: Path, args: list[str], files: list[str]) -> list[dict]:
    if not files:
        return []
    proc = subprocess.run(["ruff", "check", "--no-cache", "--exit-zero", "--output-format",
                           "json", *args, *files], cwd=project, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ruff exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def rel(project: Path, name: str) -> str:
    return Path(name).resolve().relative_to(project.resolve()).as_posix()


def style(project: Path, files: list[str]) -> Counter:
    """ruff's findings on `files`, and under "isort" the changed lines of the diff its
    import sorting would apply (I001 is one finding per import block, too coarse to see a
    statement added to an unsorted block)."""
    found = ruff_json(project, ["--preview", "--ignore-noqa", "--select", "I,E501,E127"],
                      files)
    c = Counter(d["code"] for d in found)
    if files:
        proc = subprocess.run(["ruff", "check", "--no-cache", "--ignore-noqa", "--select", "I",
                               "--diff", *files], cwd=project, capture_output=True, text=True)
        c["isort"] = sum(1 for line in proc.stdout.splitlines()
                         if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return c


def references(project: Path, spec: dict) -> tuple[list[tuple], list[tuple]]:
    """(ours, ruff's) as (file, line) pairs of import/attribute references."""
    out = project / ".ssot-scan.json"
    proc = ssot(project, "scan", "--strict", "--json", str(out))
    if proc.returncode not in (0, 1) or not out.exists():
        raise RuntimeError(f"scan exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    report = json.loads(out.read_text())
    out.unlink()
    ours = sorted((v["file"], v["line"], v.get("kind", "")) for v in report["violations"])
    found = ruff_json(project, ["--ignore-noqa", "--select", "TID251"], spec["paths"])
    theirs = sorted((rel(project, d["filename"]), d["location"]["row"]) for d in found)
    return ours, theirs


def listed_reasons(text: str) -> Counter:
    """The reasons of `fix`'s listing (one line per reference left)."""
    reasons: Counter = Counter()
    for line in text.splitlines():
        m = re.match(r"\s*\S+:\d+(?::\d+)?:? .*?(?:left|not rewritten)[:,]?\s*(.*)", line)
        if m:
            reasons[m.group(1)[:90] or line.strip()[:90]] += 1
    return reasons


def run_one(name: str, spec: dict, cache: Path, work: Path, offline: bool) -> dict:
    archive = sdist(cache, name, spec["version"], offline)
    project = unpack(archive, work)
    write_configs(project, spec)
    before_tests, before_summary = run_tests(project, spec, "before")
    ours, theirs = references(project, spec)
    files = sorted({f for f, *_ in ours})
    style_before = style(project, files)
    originals = {f: (project / f).read_text() for f in files}
    fix = ssot(project, "fix")
    changed = sorted(f for f in files if (project / f).read_text() != originals[f])
    after_ours, _ = references(project, spec)
    again = ssot(project, "fix", "--check")
    after_tests, after_summary = run_tests(project, spec, "after")
    style_after = style(project, files)
    differ = sorted(k for k in set(before_tests) | set(after_tests)
                    if before_tests.get(k) != after_tests.get(k))
    return {
        "name": f"{name} {spec['version']}", "project": project, "files": files,
        "ours": ours, "ruff": theirs, "fix_exit": fix.returncode, "fix_out": fix.stdout,
        "left": after_ours, "changed": changed, "check_exit": again.returncode,
        "check_out": again.stdout + again.stderr,
        "tests_before": Counter(before_tests.values()), "tests_after": Counter(after_tests.values()),
        "summary_before": before_summary, "summary_after": after_summary, "differ": differ,
        "style_before": style_before, "style_after": style_after,
        "compiles": all(compile((project / f).read_text(), f, "exec") for f in changed),
    }


STYLE = ("I001", "isort", "E501", "E127")


def counts(c: Counter, keys: tuple[str, ...]) -> str:
    return " ".join(f"{k} {c.get(k, 0)}" for k in keys)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=HERE / "_cache" / "real_projects",
                    help="folder of the downloaded sdists (default: %(default)s)")
    ap.add_argument("--work", type=Path, default=HERE / "_work" / "real_projects",
                    help="folder the sdists are unpacked into (emptied per package)")
    ap.add_argument("--only", nargs="*", choices=sorted(PACKAGES), default=None)
    ap.add_argument("--offline", action="store_true", help="never download; fail without")
    args = ap.parse_args(argv)
    if not shutil.which("ruff"):
        print("needs `ruff` on PATH (python -m pip install ruff)", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.only or PACKAGES:
        try:
            results.append(run_one(name, PACKAGES[name], args.cache, args.work, args.offline))
        except (OSError, RuntimeError, ValueError, subprocess.CalledProcessError) as e:
            print(f"{name}: could not run: {e}", file=sys.stderr)
            return 2
    bad = False
    rows = ["| package | references: ours / ruff TID251 | rewritten / left | tests before "
            "| tests after | identical | `fix --check` after | I001, isort diff lines, E501, E127 "
            "before | after |", "| --- " * 9 + "|"]
    for r in results:
        ruff_lines = len(set(r["ruff"]))
        ours_lines = len({(f, n) for f, n, _ in r["ours"]})
        rewritten = len(r["ours"]) - len(r["left"])
        keys = ("passed", "failure", "error", "skipped")
        same = not r["differ"]
        grew = any(r["style_after"][k] > r["style_before"][k] for k in r["style_after"])
        bad |= (not same) or grew or r["check_exit"] != 0 or not r["compiles"]
        rows.append(
            f"| {r['name']} | {len(r['ours'])} on {ours_lines} lines / {len(r['ruff'])} on "
            f"{ruff_lines} lines | {rewritten} in {len(r['changed'])} files / {len(r['left'])} "
            f"| {counts(r['tests_before'], keys)} | {counts(r['tests_after'], keys)} "
            f"| {'yes' if same else 'NO: ' + ', '.join(r['differ'][:3])} "
            f"| exit {r['check_exit']} "
            f"| {counts(r['style_before'], STYLE)} "
            f"| {counts(r['style_after'], STYLE)} |")
    print("\n".join(rows))
    for r in results:
        print(f"\n{r['name']} ({r['project']}):")
        print(f"  tests before: {r['summary_before']}\n  tests after:  {r['summary_after']}")
        mine = {(f, n) for f, n, _ in r["ours"]}
        theirs = set(r["ruff"])
        if mine != theirs:
            print(f"  lines only ours: {sorted(mine - theirs)}; only ruff's: "
                  f"{sorted(theirs - mine)}")
        print(f"  changed files: {', '.join(r['changed']) or '-'}")
        for f, n, kind in r["left"]:
            print(f"  left: {f}:{n} ({kind})")
        if r["left"] or r["fix_exit"]:
            print("  fix said:\n    " + "\n    ".join(r["fix_out"].strip().splitlines()[-15:]))
        if r["check_exit"]:
            print("  fix --check said:\n    " + "\n    ".join(r["check_out"].splitlines()[-8:]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
