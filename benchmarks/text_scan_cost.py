"""What reading docs and configuration files costs the scan: two installs, same tree, same run.

    python benchmarks/gen_monorepo.py /tmp/mono60d --files 60000 --seed 1 --docs 3000
    python benchmarks/text_scan_cost.py --tree /tmp/mono60d --before OLD/pytest-ssot \
        --after NEW/pytest-ssot [--runs 5]

Compile both installs' modules first, as pip does at install (``python -m compileall -q
SRC/pytest_ssot``): with ``PYTHONDONTWRITEBYTECODE`` set, an uncompiled tree is compiled
again on every run, and the figure would be the compiler's. Interleaves, per round: before cold (cache removed), after cold, before warm, after warm
(each warm run after a priming run of the same install: the two installs' caches differ).
Prints the medians of wall time and of CPU time (user + system of the scan's process tree:
less disturbed than wall time on a shared machine) and the after/before ratios (issue 26:
cold <= 1.2x, warm <= 1.1x). Both must exit 0 or 1 (1: violations found).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

MEASURE = r"""
import os, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, r.ru_utime + r.ru_stime, rc)
"""


def measure(tree: Path, cmd: list[str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tree), *cmd],
                         capture_output=True, text=True, check=True).stdout.split()
    if int(out[2]) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {out[2]}: no figure")
    return float(out[0]), float(out[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, required=True)
    ap.add_argument("--before", required=True, help="the pytest-ssot executable of main")
    ap.add_argument("--after", required=True, help="the pytest-ssot executable to judge")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    cache = args.tree / ".pytest_cache" / "d" / "ssot"
    arms: dict[str, list[tuple[float, float]]] = {
        k: [] for k in ("before cold", "after cold", "before warm", "after warm")}
    for _ in range(args.runs):
        for name, exe in (("before", args.before), ("after", args.after)):
            shutil.rmtree(cache, ignore_errors=True)
            arms[f"{name} cold"].append(measure(args.tree, [exe, "scan"]))
        for name, exe in (("before", args.before), ("after", args.after)):
            measure(args.tree, [exe, "scan"])  # this install's cache, primed
            arms[f"{name} warm"].append(measure(args.tree, [exe, "scan"]))
    print(f"{args.runs} interleaved rounds, medians")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in arms.items()}
    for k, (wall, cpu) in med.items():
        print(f"  {k:<12} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
    for phase, target in (("cold", 1.2), ("warm", 1.1)):
        b, a = med[f"before {phase}"], med[f"after {phase}"]
        print(f"  {phase}: after/before wall {a[0] / b[0]:.3f}x, cpu {a[1] / b[1]:.3f}x "
              f"(target <= {target}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
