"""Bug-finding power of the generated isolation tests, measured.

    python benchmarks/isolation_corpus.py [--correct-runs 20]

For each bug of tests/isolation_corpus.py: one pytest run with default settings and `-x`,
the wall time to the first failure, the check that failed first, and for the hypothesis
check the number of examples generated before the first failing one. Then the correct
manager, run `--correct-runs` times: it must never fail. Goals (issue 5): every bug found
in <= 60 s; zero failures of the correct manager.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from isolation_corpus import BUGS, CONFTEST, CORRECT  # noqa: E402


def run(source: str, root: Path, extra: list[str]) -> tuple[float, str, int]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(source)
    (root / "conftest.py").write_text(CONFTEST)
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                          "-p", "no:randomly", "--hypothesis-show-statistics", *extra],
                         cwd=root, capture_output=True, text=True)
    return time.perf_counter() - t0, out.stdout, out.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--correct-runs", type=int, default=20)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'bug':32} {'found by':20} {'examples':>8} {'seconds':>8}")
        for name, (_, source, _) in sorted(BUGS.items()):
            seconds, out, rc = run(source, Path(tmp) / name, ["-x"])
            failed = re.findall(r"FAILED \S+::isolation\[corpus\]::(\S+)", out)
            first = failed[0] if failed else "NOT FOUND"
            examples = "-"
            if first == "asyncio-schedules":
                m = re.search(r"found at generated example (\d+)", out)
                examples = m.group(1) if m else "?"
            print(f"{name:32} {first:20} {examples:>8} {seconds:8.1f}")
            ok &= rc == 1 and seconds <= 60
        failures = 0
        t0 = time.perf_counter()
        for i in range(args.correct_runs):
            _, out, rc = run(CORRECT, Path(tmp) / f"correct{i}",
                             [f"--hypothesis-seed={i}"])
            failures += rc != 0
        print(f"correct manager: {failures} failing run(s) of {args.correct_runs} "
              f"({time.perf_counter() - t0:.1f} s, 4 checks each, seeds 0..{args.correct_runs - 1})")
        ok &= failures == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
