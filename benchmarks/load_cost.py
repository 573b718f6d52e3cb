"""Start-up cost of the plugin in a project WITHOUT a [tool.pytest-ssot] table.

Runs `pytest --collect-only -q` over a generated project of a few hundred tests, N times,
interleaving runs with the plugin and with `-p no:ssot`, and compares the median CPU time
(user + system of the pytest process). Target: within 3%.

    python benchmarks/load_cost.py [--runs 41] [--tests 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def make_project(root: Path, n_tests: int) -> None:
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n")
    tests = root / "tests"
    tests.mkdir()
    per_file = 20
    for f in range(max(1, n_tests // per_file)):
        body = "\n".join(f"def test_{f}_{i}():\n    assert {i} == {i}\n" for i in range(per_file))
        (tests / f"test_mod_{f}.py").write_text(body)


def cpu_of(cmd: list[str], cwd: Path) -> float:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--tests", type=int, default=400)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.tests)
        base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        arms = {"with plugin": base, "-p no:ssot": base + ["-p", "no:ssot"]}
        for cmd in arms.values():  # warm the OS caches
            cpu_of(cmd, root)
        times: dict[str, list[float]] = {k: [] for k in arms}
        for _ in range(args.runs):
            for name, cmd in arms.items():
                times[name].append(cpu_of(cmd, root))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["with plugin"] / med["-p no:ssot"]
    print(f"pytest --collect-only, {args.tests} tests, {args.runs} interleaved runs per arm")
    for k, v in med.items():
        print(f"  {k:<12} median CPU {v * 1000:7.1f} ms")
    print(f"  ratio {ratio:.4f} ({(ratio - 1) * 100:+.2f}%)  target: within 3%")
    return 0 if ratio <= 1.03 else 1


if __name__ == "__main__":
    sys.exit(main())
