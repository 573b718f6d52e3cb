"""History cost: `pytest-ssot history` against one cold `pytest-ssot scan` of HEAD.

    python benchmarks/history_cost.py [--files 1500] [--commits 50] [--runs 5]

Generates the synthetic chat monorepo (benchmarks/gen_monorepo.py), commits it, then makes
``--commits - 1`` more commits, each editing a handful of files the way a migration does
(references rewritten to the canonical path, ordinary code edits, new modules, a regression
commit that brings legacy imports back). Then interleaves, per round: one cold scan (scan
cache removed), history of the last 30 commits and of the whole range, both cold (history
cache removed), and the whole range warm. Prints medians of wall time and the ratios to
the cold scan. Targets (issue 13): a 30-commit range <= 3x one cold scan; a long range
close to "one cold scan plus the changed files".
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEGACY = re.compile(r"^from chat\.app\.websocket_core(?:\.manager|\.unified_manager)? import "
                    r"(?:WebSocketManager|UnifiedWebSocketManager)$", re.MULTILINE)
CANONICAL = "from chat.app.websocket_core.websocket_manager import WebSocketManager"
REGRESSION = "from chat.app.websocket_core.manager import WebSocketManager"
ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
       # no user or system configuration (a missing file reads as empty)
        "GIT_CONFIG_GLOBAL": "/nonexistent/ssot-gitconfig", "GIT_CONFIG_NOSYSTEM": "1"}


def git(tree: Path, *args: str, day: int = 0) -> str:
    date = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00+00:00"
    env = {**os.environ, **ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=tree, env=env, check=True, capture_output=True,
                          text=True).stdout


def build_history(tree: Path, commits: int, seed: int) -> int:
    """Commit the tree, then ``commits - 1`` edits; returns the number of files changed."""
    rng = random.Random(seed)
    git(tree, "init", "-q", "-b", "main")
    (tree / ".gitignore").write_text(".pytest_cache/\n")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "import the monorepo")
    files = sorted(tree.rglob("mod*.py"))
    referencing = [f for f in files if LEGACY.search(f.read_text())]
    changed = 0
    for day in range(1, commits):
        touched: set[Path] = set()
        if day == commits * 2 // 3:  # the regression: a feature branch on the old path
            for f in rng.sample(files, 12):
                f.write_text(REGRESSION + "\n" + f.read_text())
                touched.add(f)
            message = "feature: notifications (imports the legacy manager)"
        else:
            for f in rng.sample(referencing, min(len(referencing), rng.randint(1, 4))):
                f.write_text(LEGACY.sub(CANONICAL, f.read_text()))
                touched.add(f)
            for f in rng.sample(files, rng.randint(3, 10)):  # ordinary work
                f.write_text(f.read_text() + f"\n\ndef touched_{day}() -> int:\n    return {day}\n")
                touched.add(f)
            new = files[0].parent / f"new_{day:03d}.py"
            new.write_text(f"VALUE = {day}\n")
            touched.add(new)
            message = f"migrate and ship, day {day}"
        changed += len(touched)
        git(tree, "add", "-A")
        git(tree, "commit", "-q", "-m", message, day=day)
    return changed


def timed(tree: Path, cmd: list[str]) -> float:
    t = time.perf_counter()
    rc = subprocess.run(cmd, cwd=tree, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if rc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {rc.returncode}: {rc.stderr[-2000:]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1500)
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ours = shutil.which("pytest-ssot")
    if not ours:
        print("needs `pytest-ssot` on PATH (python -m pip install -e .)")
        return 2
    tmp = tempfile.mkdtemp(prefix="ssot-history-")
    try:
        tree = Path(tmp) / "mono"
        subprocess.run([sys.executable, str(HERE / "gen_monorepo.py"), str(tree), "--files",
                        str(args.files)], check=True, stdout=subprocess.DEVNULL)
        t = time.perf_counter()
        changed = build_history(tree, args.commits, seed=2)
        print(f"built {args.commits} commits in {time.perf_counter() - t:.1f} s "
              f"({changed} file changes)")
        import pytest_ssot  # compile our bytecode once (see scan_speed.py)

        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(pytest_ssot.__file__).parent)], check=True)
        cache = tree / ".pytest_cache" / "d" / "ssot"
        history_cache = cache / "history.cache"
        last30 = "HEAD~30..HEAD" if args.commits > 30 else "HEAD"
        out = subprocess.run([ours, "history"], cwd=tree, capture_output=True, text=True)
        print("\n".join(out.stdout.splitlines()[-3:]))
        arms: dict[str, list[float]] = {k: [] for k in (
            "scan cold", "history 30 cold", "history all cold", "history all warm")}
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            arms["scan cold"].append(timed(tree, [ours, "scan"]))
            history_cache.unlink(missing_ok=True)
            arms["history 30 cold"].append(timed(tree, [ours, "history", last30]))
            history_cache.unlink(missing_ok=True)
            arms["history all cold"].append(timed(tree, [ours, "history"]))
            arms["history all warm"].append(timed(tree, [ours, "history"]))
        files = sum(1 for _ in tree.rglob("*.py"))
        med = {k: statistics.median(v) for k, v in arms.items()}
        print(f"{files} Python files at HEAD, {args.commits} commits, {args.runs} interleaved "
              "rounds, median wall time")
        for k, v in med.items():
            print(f"  {k:<17} {v:6.2f} s   {v / med['scan cold']:5.2f}x one cold scan")
        print("  target: history of 30 commits <= 3x one cold scan")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
