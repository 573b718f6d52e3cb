"""Scan speed: `pytest-ssot scan` against `ruff check --select TID251`, same tree, same run.

    python -m pip install ruff            # the peer (not a test dependency)
    python benchmarks/scan_speed.py [--files 60000] [--runs 5] [--tree DIR]

Generates the synthetic chat monorepo (benchmarks/gen_monorepo.py) unless --tree names one,
then interleaves, per round: ruff cold (--no-cache), ours cold (cache removed), ruff warm
(cache primed, nothing changed), ours warm. Prints medians of wall time, the ratios, and
the peak RSS of the largest process of each tool's process tree. Targets (issue 3):
cold <= 1.0x ruff, warm <= 0.5x ruff warm, peak memory <= 200 MB.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURE = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""


def measure(tree: Path, cmd: list[str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tree), *cmd], capture_output=True,
                         text=True, check=True).stdout.split()
    if int(out[2]) not in (0, 1):  # both tools exit 1 on findings; anything else is a crash
        detail = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
        raise SystemExit(f"{' '.join(cmd)} exited {out[2]}; a timing of a crash is no figure:\n"
                         f"{detail.stderr[-2000:]}")
    return float(out[0]), int(out[1])


def sanity(tree: Path, ruff_cmd: list[str], ours: str) -> None:
    """Both tools must find references in the tree, or the timings compare nothing."""
    r = subprocess.run(ruff_cmd[:-1] + ["--statistics"], cwd=tree, capture_output=True,
                       text=True)
    o = subprocess.run([ours, "scan"], cwd=tree, capture_output=True, text=True)
    if "TID251" not in r.stdout or "violation(s)" not in o.stdout:
        raise SystemExit(f"a tool found nothing:\nruff: {r.stdout[-500:]}{r.stderr[-500:]}\n"
                         f"pytest-ssot: {o.stdout[-500:]}{o.stderr[-500:]}")
    print("ruff:", " ".join(r.stdout.split()[:3]), "| pytest-ssot:",
          next(line.strip() for line in o.stdout.splitlines() if "violation(s)" in line))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=60000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tree", type=Path, default=None)
    args = ap.parse_args()
    ruff = shutil.which("ruff")
    ours = shutil.which("pytest-ssot")
    if not ruff or not ours:
        print("needs `ruff` and `pytest-ssot` on PATH (python -m pip install ruff -e .)")
        return 2
    tmp = None
    tree = args.tree
    if tree is None:
        tmp = tempfile.mkdtemp(prefix="ssot-mono-")
        tree = Path(tmp) / "mono"
        subprocess.run([sys.executable, str(HERE / "gen_monorepo.py"), str(tree), "--files",
                        str(args.files)], check=True)
    try:
        files = sum(1 for _ in tree.rglob("*.py"))
        cache = tree / ".pytest_cache" / "d" / "ssot"
        arms: dict[str, list[tuple[float, int]]] = {k: [] for k in
                                                    ("ruff cold", "ours cold", "ruff warm",
                                                     "ours warm")}
        ruff_cmd = [ruff, "check", "--select", "TID251", "-q"]
        # Installed packages carry compiled bytecode (pip compiles at install; Python writes it
        # on first import). Machines with PYTHONDONTWRITEBYTECODE set never write it for an
        # editable install, and every run would compile our modules again: compile once.
        import pytest_ssot

        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(pytest_ssot.__file__).parent)], check=True)
        sanity(tree, ruff_cmd, ours)
        # warm the OS page cache and both tools' caches once
        measure(tree, ruff_cmd)
        measure(tree, [ours, "scan"])
        for _ in range(args.runs):
            arms["ruff cold"].append(measure(tree, ruff_cmd + ["--no-cache"]))
            shutil.rmtree(cache, ignore_errors=True)
            arms["ours cold"].append(measure(tree, [ours, "scan"]))
            arms["ruff warm"].append(measure(tree, ruff_cmd))
            arms["ours warm"].append(measure(tree, [ours, "scan"]))
        med = {k: statistics.median(w for w, _ in v) for k, v in arms.items()}
        mem = {k: max(m for _, m in v) / 1024 for k, v in arms.items()}
        print(f"{files} Python files, {args.runs} interleaved rounds, median wall time")
        for k in arms:
            print(f"  {k:<10} {med[k]:6.2f} s   peak RSS {mem[k]:6.1f} MB")
        cold = med["ours cold"] / med["ruff cold"]
        warm = med["ours warm"] / med["ruff warm"]
        print(f"  cold ratio {cold:.2f}x (target <= 1.0x, stretch 0.5x)")
        print(f"  warm ratio {warm:.2f}x (target <= 0.5x)")
        print(f"  peak memory {max(mem['ours cold'], mem['ours warm']):.1f} MB "
              "(target <= 200 MB)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
