"""Cost of the self-verifying scan cache and of `--verify` / `--cold` (issue 22).

    python benchmarks/cache_modes.py --tree /tmp/mono60 --base /tmp/base --runs 9

``--base``: a folder holding another checkout's ``pytest_ssot`` package (e.g. made with
``git archive <commit> pytest_ssot | tar -x -C /tmp/base``). The tree is copied once (the
two versions' caches differ in format, so each arm keeps its own copy, mtimes preserved).
Per round, interleaved: base warm, ours warm, ours ``--verify``, ours ``--cold``, base cold
(``scan --json``, output to files, as ``scan_speed.py`` runs it). Prints medians of wall
time and the median of the rounds' warm ratios (ours / base).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(code: Path, tree: Path, *extra: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(code)}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", "--json",
                             f"{tmp}/r.json", *extra], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        wall = time.perf_counter() - t
    if rc != 1:
        raise SystemExit(f"{code}: scan {' '.join(extra)} exited {rc} (expected 1: findings)")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, required=True)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    ours_code = HERE.parent
    for code in (ours_code, args.base):  # PYTHONDONTWRITEBYTECODE machines: compile once
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "pytest_ssot")],
                       check=True)
    copy = Path(tempfile.mkdtemp(prefix="ssot-cache-modes-")) / "tree"
    shutil.copytree(args.tree, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".pytest_cache"))
    trees = {"base": args.tree, "ours": copy}
    codes = {"base": args.base, "ours": ours_code}
    try:
        for arm in ("base", "ours"):
            shutil.rmtree(trees[arm] / ".pytest_cache", ignore_errors=True)
            run(codes[arm], trees[arm])  # fill the cache and the page cache
            run(codes[arm], trees[arm])
        times: dict[str, list[float]] = {k: [] for k in ("base warm", "ours warm",
                                                         "ours --verify", "ours --cold",
                                                         "base cold")}
        for _ in range(args.runs):
            times["base warm"].append(run(codes["base"], trees["base"]))
            times["ours warm"].append(run(codes["ours"], trees["ours"]))
            times["ours --verify"].append(run(codes["ours"], trees["ours"], "--verify"))
            times["ours --cold"].append(run(codes["ours"], trees["ours"], "--cold"))
            shutil.rmtree(trees["base"] / ".pytest_cache" / "d" / "ssot", ignore_errors=True)
            times["base cold"].append(run(codes["base"], trees["base"]))
            run(codes["base"], trees["base"])  # base warm again next round
            run(codes["ours"], trees["ours"])  # (--cold left a whole cache: warm next)
        print(f"{args.runs} interleaved rounds, median wall time")
        for k, v in times.items():
            print(f"  {k:<14} {statistics.median(v):6.3f} s  (min {min(v):.3f})")
        ratios = [o / b for o, b in zip(times["ours warm"], times["base warm"])]
        print("  warm ours/base per round: " + ", ".join(f"{r:.3f}" for r in ratios))
        print(f"  median of the rounds' warm ratios: {statistics.median(ratios):.3f}")
        print(f"  --verify / base cold: "
              f"{statistics.median(times['ours --verify']) / statistics.median(times['base cold']):.2f}")
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
