"""`pytest-ssot fix` on a generated mid-migration monorepo: what share it rewrites, why the
rest is left, how long it takes and how much memory it needs; then the proofs that it
broke nothing (every changed file compiles, every changed module imports, a second run
changes nothing).

    python benchmarks/gen_monorepo.py /tmp/mono --files 60000
    python benchmarks/fix_bench.py --tree /tmp/mono [--keep DIR] [--runs 3] [--log FILE]

The tree is copied (the original stays as generated). The contract gets `replacements`
for its factory (`create_websocket_manager(ctx)` -> `managers_registry.register(ctx)`: the
project vouches for it, as a real project would after reading both). "Cold": no scan cache.
With ``--runs N`` each run gets a fresh copy; the figures are per run (wall, CPU of the fix
process and all its children, peak RSS of the largest of them, load average before and
after) and their median, and every run must give the same output and the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
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


# Runs the command and writes its wall time, CPU (its children included) and peak RSS. A
# small process of its own: Linux keeps a process's peak RSS across exec, so a fix forked
# from this benchmark (which holds the tree's bytes) would report this process's size.
_MEASURE = """import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_pid, status, ru = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    json.dump([os.waitstatus_to_exitcode(status), wall, ru.ru_utime + ru.ru_stime,
               ru.ru_maxrss / 1024], fh)
"""


def _busy() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _wait_idle(limit: float) -> str:
    """Wait (at most ``limit`` s) until the machine was idle for 10 s (under 0.5 CPU s busy):
    on a shared machine, so that a run measures the fix and not the neighbours."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        before = _busy()
        if before is None:
            return "idle unknown"
        time.sleep(10)
        after = _busy()
        if after is not None and after - before < 0.5:
            return "idle 10 s before"
    return f"not idle within {limit:.0f} s"


def _timed_fix(root: Path, code_path: str | None = None) -> tuple[str, float, float, float]:
    """``fix`` in ``root``: (stdout, wall s, CPU s of it and all its children, peak RSS MB
    of the largest of them), from ``wait4`` on that process alone. ``code_path``: run the
    pytest-ssot found there instead (first on ``PYTHONPATH``)."""
    env = dict(os.environ)
    if code_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [code_path, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        out = subprocess.run([sys.executable, "-c", _MEASURE, str(figures), sys.executable,
                              "-m", "pytest_ssot.cli", "fix"], cwd=root, capture_output=True,
                             text=True, check=False, env=env)
        code, wall, cpu, peak = json.loads(figures.read_text())
    if code not in (0, 1) or "rewrote" not in out.stdout:
        print(out.stdout[-3000:], out.stderr[-3000:])
        raise SystemExit(1)
    return out.stdout, wall, cpu, peak


def _digest(root: Path, rels) -> str:
    h = hashlib.sha256()
    for rel in sorted(rels):
        path = root / rel
        h.update(rel.encode() + b"\0" + (path.read_bytes() if path.exists() else b"-") + b"\0")
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, required=True)
    ap.add_argument("--keep", type=Path, help="copy here instead of a temporary folder")
    ap.add_argument("--runs", type=int, default=1, help="cold runs, each on a fresh copy")
    ap.add_argument("--log", type=Path, help="write the first run's output here")
    ap.add_argument("--idle", type=float, metavar="SECONDS", default=0,
                    help="before each run, wait up to this long for 10 idle seconds")
    ap.add_argument("--versus", metavar="DIR",
                    help="another pytest-ssot (a folder holding its package, e.g. `git "
                         "archive REV pytest_ssot | tar -x -C DIR`): each run is followed "
                         "by one of it on a fresh copy, under the same machine state; its "
                         "output and files must be the same")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fix_bench_"))
    base = tmp / "base"
    shutil.copytree(args.tree, base, symlinks=True)
    pyproject = base / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(r'(factories = \[[^\]]*\]\n)', lambda m: m.group(1) + REPLACEMENTS, text,
                  count=1)
    pyproject.write_text(text)
    files = {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*.py")}
    print(f"tree: {len(files):,} .py files")
    before = _violations(base, "before")
    shutil.rmtree(base / ".pytest_cache", ignore_errors=True)  # cold

    work = args.keep or tmp / "tree"
    figures: dict[str, list] = {"this": [], "versus": []}
    first: tuple[str, str] | None = None
    versions = [("this", None)] + ([("versus", args.versus)] if args.versus else [])
    for k in range(args.runs):
        for label, code_path in versions:
            here = work if k == 0 and label == "this" else tmp / f"run{k}{label}"
            if here.exists():
                shutil.rmtree(here)
            shutil.copytree(base, here, symlinks=True)
            waited = _wait_idle(args.idle) + ", " if args.idle else ""
            load0, busy0 = os.getloadavg()[0], _busy()
            stdout, wall, cpu, peak = _timed_fix(here, code_path)
            load1, busy1 = os.getloadavg()[0], _busy()
            figures[label].append((wall, cpu, peak))
            # what else ran meanwhile: the machine's busy CPU time minus the fix's own
            others = (f", other processes {max(0.0, busy1 - busy0 - cpu):.1f} CPU s meanwhile"
                      if busy0 is not None and busy1 is not None else "")
            name = f"run {k + 1}" + (f" ({label})" if args.versus else "")
            print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB "
                  f"({waited}load average {load0:.2f} before, {load1:.2f} after{others})",
                  flush=True)
            same = (stdout, _digest(here, files))
            if first is None:
                first = same
                run_stdout = stdout
                if args.log:
                    args.log.write_text(stdout)
            elif same != first:
                print(f"{name} differs from run 1 (output or files)")
                return 1
            if here != work:
                shutil.rmtree(here)
    shutil.rmtree(base)
    if args.versus:
        w, c, m = (statistics.median(f[i] for f in figures["versus"]) for i in range(3))
        print(f"versus {args.versus}: wall {w:.1f} s, CPU {c:.1f} s, peak RSS {m:.0f} MB "
              f"(medians of {len(figures['versus'])}), the same output and files")
    figures = figures["this"]  # type: ignore[assignment]
    wall, cpu, peak = (statistics.median(f[i] for f in figures) for i in range(3))
    after = _violations(work, "after")
    summary = [line for line in run_stdout.splitlines() if line.startswith("pytest-ssot fix:")]
    print(summary[-1])
    print(f"wall {wall:.1f} s (cold, {os.cpu_count()} cores, median of {len(figures)}), "
          f"CPU {cpu:.1f} s (the fix process and all its children), peak RSS of the "
          f"largest process {peak:.0f} MB" + (", every run the same output and files"
                                                if len(figures) > 1 else ""))

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
    for line in run_stdout.splitlines():
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
    if args.keep is None:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
