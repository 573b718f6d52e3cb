"""Scan speed: `pytest-ssot scan` against `ruff check --select TID251`, same tree, same run.

    python -m pip install ruff            # the peer (not a test dependency)
    python benchmarks/scan_speed.py [--files 60000] [--seed 1] [--runs 5] [--tree DIR]

Generates the realistic chat monorepo (benchmarks/gen_monorepo.py) unless --tree names one,
then interleaves, per round: ruff cold (`--no-cache`), ours cold (cache removed), ruff warm
(its cache primed, nothing changed), ours warm. Both tools' terminal output goes to a file
(it is produced and written, not thrown away), and ours also writes its JSON report
(`--json`): the report is part of what a user waits for. Prints medians of wall time, the
ratios, and the peak RSS of the largest process of each tool's process tree
(`getrusage(RUSAGE_CHILDREN)` of a measuring process). A tool that exits with anything but
0/1, or finds nothing, is not timed. Targets (issue 10): cold <= 1.0x ruff, warm <= 0.5x
ruff warm, peak memory <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURE = r"""
import resource, subprocess, sys, time
with open(sys.argv[2], "wb") as out:
    t = time.perf_counter()
    rc = subprocess.run(sys.argv[3:], cwd=sys.argv[1], stdout=out,
                        stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""
# the terminal output of each run lands here (overwritten each time)
OUTPUT = Path(os.environ.get("TMPDIR", "/tmp")) / f"ssot-scan-speed-{os.getpid()}.out"


def measure(tree: Path, cmd: list[str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tree), str(OUTPUT), *cmd],
                         capture_output=True, text=True, check=True).stdout.split()
    if int(out[2]) != 1:  # both tools exit 1 on findings: 0 found nothing, others crashed
        detail = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
        raise SystemExit(f"{' '.join(cmd)} exited {out[2]}; a timing of a crash or of a run "
                         f"that found nothing is no figure:\n{detail.stderr[-2000:]}")
    return float(out[0]), int(out[1])


def sanity(tree: Path, ruff: str, ours_cmd: list[str], report: Path) -> None:
    """Both tools must run and find references in the tree, or the timings compare nothing."""
    r = subprocess.run([ruff, "check", "--no-cache", "--select", "TID251", "--output-format",
                        "json", "--exit-zero"], cwd=tree, capture_output=True, text=True)
    o = subprocess.run(ours_cmd, cwd=tree, capture_output=True, text=True)
    try:
        hits = [h for h in json.loads(r.stdout) if h.get("code") == "TID251"]
    except ValueError:
        hits = []
    try:
        doc = json.loads(report.read_text())
    except (OSError, ValueError):
        doc = {}
    refs = len(doc.get("violations", []))
    canonical = sum(c["references"]["canonical"] for c in doc.get("contracts", []))
    if r.returncode != 0 or o.returncode not in (0, 1) or not hits or not refs:
        raise SystemExit(f"a tool crashed or found nothing (ruff exit {r.returncode}, "
                         f"{len(hits)} hits; pytest-ssot exit {o.returncode}, {refs} "
                         f"violations):\nruff: {r.stderr[-800:]}\n"
                         f"pytest-ssot: {o.stdout[-800:]}{o.stderr[-800:]}")
    kinds: dict[str, int] = {}
    for v in doc["violations"]:
        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
    print(f"ruff: {len(hits)} TID251 hits | pytest-ssot: {refs} violations "
          f"{dict(sorted(kinds.items()))}, {canonical} canonical references")


def _executable(name: str) -> str | None:
    """The installed command itself, beside this interpreter (as a venv's ``bin`` holds
    it), rather than the first one on PATH: a version manager's shim (pyenv's is a shell
    script running ``pyenv exec``) costs each call ~50 ms that neither tool spends."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tree", type=Path, default=None)
    args = ap.parse_args()
    if args.runs < 1 or args.files < 1:
        ap.error("--runs and --files must be >= 1")
    ruff = _executable("ruff")
    ours = _executable("pytest-ssot")
    if not ruff or not ours:
        print("needs `ruff` and `pytest-ssot` on PATH (python -m pip install ruff -e .)")
        return 2
    tmp = None
    tree = args.tree
    report = Path(tempfile.mkdtemp(prefix="ssot-report-")) / "report.json"
    if tree is None:
        tmp = tempfile.mkdtemp(prefix="ssot-mono-")
        tree = Path(tmp) / "mono"
        subprocess.run([sys.executable, str(HERE / "gen_monorepo.py"), str(tree), "--files",
                        str(args.files), "--seed", str(args.seed)], check=True,
                       stdout=subprocess.DEVNULL)
    try:
        files = sum(1 for _ in tree.rglob("*.py"))
        cache = tree / ".pytest_cache" / "d" / "ssot"
        arms: dict[str, list[tuple[float, int]]] = {k: [] for k in
                                                    ("ruff cold", "ours cold", "ruff warm",
                                                     "ours warm")}
        ruff_cmd = [ruff, "check", "--select", "TID251"]
        ours_cmd = [ours, "scan", "--json", str(report)]
        # Installed packages carry compiled bytecode (pip compiles at install; Python writes it
        # on first import). Machines with PYTHONDONTWRITEBYTECODE set never write it for an
        # editable install, and every run would compile our modules again: compile once.
        import pytest_ssot

        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(pytest_ssot.__file__).parent)], check=True)
        shutil.rmtree(cache, ignore_errors=True)
        sanity(tree, ruff, ours_cmd, report)
        # warm the OS page cache and both tools' caches once
        measure(tree, ruff_cmd)
        measure(tree, ours_cmd)
        for _ in range(args.runs):
            arms["ruff cold"].append(measure(tree, ruff_cmd + ["--no-cache"]))
            shutil.rmtree(cache, ignore_errors=True)
            arms["ours cold"].append(measure(tree, ours_cmd))
            arms["ruff warm"].append(measure(tree, ruff_cmd))
            arms["ours warm"].append(measure(tree, ours_cmd))
        med = {k: statistics.median(w for w, _ in v) for k, v in arms.items()}
        mem = {k: max(m for _, m in v) / 1024 for k, v in arms.items()}
        print(f"{files} Python files, {args.runs} interleaved rounds, median wall time")
        for k in arms:
            print(f"  {k:<10} {med[k]:6.2f} s   peak RSS {mem[k]:6.1f} MB")
        cold = med["ours cold"] / med["ruff cold"]
        warm = med["ours warm"] / med["ruff warm"]
        # Each round's own ratio: both tools under the same moment of a shared machine.
        rounds = [(oc / rc, ow / rw) for (rc, _), (oc, _), (rw, _), (ow, _) in zip(
            arms["ruff cold"], arms["ours cold"], arms["ruff warm"], arms["ours warm"])]
        print("  per round (cold, warm): " + ", ".join(f"{c:.2f}/{w:.2f}" for c, w in rounds))
        print(f"  median of the rounds' ratios: cold {statistics.median(c for c, _ in rounds):.2f}x,"
              f" warm {statistics.median(w for _, w in rounds):.2f}x")
        print(f"  cold ratio {cold:.2f}x (target <= 1.0x, stretch 0.5x)")
        print(f"  warm ratio {warm:.2f}x (target <= 0.5x)")
        print(f"  peak memory {max(mem['ours cold'], mem['ours warm']):.1f} MB "
              "(target <= 200 MB)")
        print("  (ours: terminal output written to a file and the JSON report written; "
              "ruff: its terminal output written to a file)")
    finally:
        OUTPUT.unlink(missing_ok=True)
        shutil.rmtree(report.parent, ignore_errors=True)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
