"""`pytest-ssot fix` on a generated mid-migration monorepo: what share it rewrites, why the
rest is left, how long it takes and how much memory it needs; then the proofs that it
broke nothing (every changed file compiles, every changed module imports, a second run
changes nothing).

    python benchmarks/gen_monorepo.py /tmp/mono --files 60000
    python benchmarks/fix_bench.py --tree /tmp/mono [--keep DIR]

The tree is copied (the original stays as generated). The contract gets `replacements`
for its factory (`create_websocket_manager(ctx)` -> `managers_registry.register(ctx)`: the
project vouches for it, as a real project would after reading both). "Cold": no scan cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPLACEMENTS = (
    'replacements = {"chat.app.websocket_core:create_websocket_manager" = '
    '"chat.app.websocket_core.managers_registry:register", '
    '"chat.app.websocket_core.factory:build_manager" = '
    '"chat.app.websocket_core.managers_registry:register"}\n')


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", *args], cwd=root,
                          capture_output=True, text=True)


def _violations(root: Path, name: str) -> list[dict]:
    out = root / f".{name}.json"
    _cli(root, "scan", "--json", str(out))
    data = json.loads(out.read_text())
    out.unlink()
    return data["violations"]


def _share(before: list[dict], after: list[dict], keep) -> tuple[int, int, float]:
    b = sum(1 for v in before if keep(v))
    a = sum(1 for v in after if keep(v))
    return b, b - a, (b - a) / b if b else 1.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, required=True)
    ap.add_argument("--keep", type=Path, help="copy here instead of a temporary folder")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="fix_bench_")) / "tree"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(args.tree, work, symlinks=True)
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(r'(factories = \[[^\]]*\]\n)', lambda m: m.group(1) + REPLACEMENTS, text,
                  count=1)
    pyproject.write_text(text)
    files = {p.relative_to(work).as_posix(): p.read_bytes() for p in work.rglob("*.py")}
    print(f"tree: {len(files):,} .py files")

    before = _violations(work, "before")
    shutil.rmtree(work / ".pytest_cache", ignore_errors=True)  # cold
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run = _cli(work, "fix")
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    peak = r1.ru_maxrss / 1024
    load = os.getloadavg()[0]
    if run.returncode not in (0, 1) or "rewrote" not in run.stdout:
        print(run.stdout[-3000:], run.stderr[-3000:])
        return 1
    after = _violations(work, "after")
    summary = [line for line in run.stdout.splitlines() if line.startswith("pytest-ssot fix:")]
    print(summary[-1])
    print(f"wall {wall:.1f} s (cold, {os.cpu_count()} cores, load average {load:.1f} at the "
          f"end), CPU {cpu:.1f} s (all processes), peak RSS of the largest process "
          f"{peak:.0f} MB")

    def legacy_ia(v: dict) -> bool:
        return v["role"] == "legacy" and v["kind"] in ("import", "attribute")

    def factory(v: dict) -> bool:
        return v["role"] == "factory" and v["kind"] in ("import", "attribute", "call")

    for contract in sorted({v["contract"] for v in before}):
        for label, keep in (("legacy import+attribute", legacy_ia),
                            ("factory import+attribute+call", factory),
                            ("strings", lambda v: v["kind"] == "string"),
                            ("all but definitions", lambda v: v["kind"] != "definition")):
            b, done, share = _share(before, after,
                                    lambda v, k=keep, c=contract: v["contract"] == c and k(v))
            if b:
                print(f"  {contract:<11} {label:<30} {done:>6,} of {b:>6,} rewritten "
                      f"({share:.1%})")
    print("left, by reason:")
    grouping = False
    for line in run.stdout.splitlines():
        if line.startswith("left as they are, by reason:"):
            grouping = True
            continue
        if grouping and line.startswith("  "):
            print(line)
    kinds = Counter((v["contract"], v["kind"], v["role"]) for v in after)
    print("left, by kind:", ", ".join(f"{c}/{k}/{r}: {n}" for (c, k, r), n in
                                      sorted(kinds.items())))

    changed = [rel for rel, data in files.items()
               if (work / rel).exists() and (work / rel).read_bytes() != data]
    bad = []
    for rel in changed:
        try:
            compile((work / rel).read_bytes(), rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            bad.append(f"{rel}: {exc}")
    print(f"changed files: {len(changed):,}; compile errors: {len(bad)}", *bad[:5], sep="\n  ")
    modules = [rel[:-3].replace("/", ".").removesuffix(".__init__") for rel in changed]
    check = ("import importlib, sys, warnings\nwarnings.simplefilter('ignore')\nbad = []\n"
             "for m in sys.argv[1:]:\n    try:\n        importlib.import_module(m)\n"
             "    except Exception as exc:\n        bad.append(f'{m}: {exc!r}')\n"
             "print(len(bad)); print(*bad[:5], sep='\\n')")
    imp = subprocess.run([sys.executable, "-c", check, *modules], cwd=work,
                         capture_output=True, text=True)
    print(f"changed modules that fail to import: {imp.stdout.strip() or imp.stderr[-500:]}")
    again = _cli(work, "fix", "--check")
    tail = [line for line in again.stdout.splitlines() if line.startswith("pytest-ssot fix:")]
    print(f"second run (--check): {tail[-1] if tail else again.stderr[-500:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
