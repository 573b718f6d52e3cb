"""Bug-finding power of the generated isolation tests, measured, with and without a protocol.

    python benchmarks/isolation_corpus.py [--seeds 3] [--correct-runs 20] [--only NAME ...]

For each bug of tests/isolation_corpus.py, with the spec declaring no protocol and then
DEFAULT_PROTOCOL: one pytest run per hypothesis seed (0..seeds-1) with default settings
and `-x`; the check that failed first, the generated example that first failed (asyncio
check) and the wall time of the whole run (start-up included). Then every correct manager
(tests/isolation_corpus.py CORRECT_APPS) `--correct-runs` times, seeds 0.., the protocol
declared on odd seeds: it must never fail. Goals (issue 16): every bug found with every
seed, with and without a protocol, each run <= 60 s; zero failures of a correct manager.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from isolation_corpus import BUGS, CORRECT_APPS, conftest  # noqa: E402


def run(source: str, root: Path, protocol: bool, extra: list[str]) -> tuple[float, str, int]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(source)
    (root / "conftest.py").write_text(conftest(protocol))
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                          "-p", "no:randomly", *extra],
                         cwd=root, capture_output=True, text=True)
    return time.perf_counter() - t0, out.stdout, out.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--correct-runs", type=int, default=20)
    ap.add_argument("--only", nargs="*", default=None, help="corpus names to run")
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'bug':31} {'protocol':8} {'found by (per seed)':38} {'examples':>12} "
              f"{'seconds':>11}")
        for name, (_, source, _) in sorted(BUGS.items()):
            if args.only and name not in args.only:
                continue
            for protocol in (False, True):
                found, examples, seconds = [], [], []
                for seed in range(args.seeds):
                    took, out, rc = run(source, Path(tmp) / f"{name}-{protocol}-{seed}",
                                        protocol, ["-x", f"--hypothesis-seed={seed}"])
                    failed = re.findall(r"FAILED \S+::isolation\[corpus\]::(\S+)", out)
                    check = failed[0] if failed else "NOT FOUND"
                    found.append(check)
                    m = re.search(r"(?:found at generated example|stopped at example) (\d+)",
                                  out)
                    if check == "asyncio-schedules" and m:
                        examples.append(int(m.group(1)))
                    seconds.append(took)
                    ok &= rc == 1 and took <= 60
                by = ", ".join(sorted(set(found)))
                ex = (f"{min(examples)}-{max(examples)}" if examples else "-")
                print(f"{name:31} {'yes' if protocol else 'no':8} {by:38} {ex:>12} "
                      f"{statistics.median(seconds):5.1f} /{max(seconds):4.1f}", flush=True)
        for name, source in sorted(CORRECT_APPS.items()):
            if args.only and name not in args.only:
                continue
            failures = 0
            t0 = time.perf_counter()
            for i in range(args.correct_runs):
                _, out, rc = run(source, Path(tmp) / f"correct-{name}-{i}", i % 2 == 1,
                                 [f"--hypothesis-seed={i}"])
                if rc != 0:
                    failures += 1
                    print(out[-3000:])
            print(f"correct {name}: {failures} failing run(s) of {args.correct_runs} "
                  f"({time.perf_counter() - t0:.1f} s, 4 checks each, seeds "
                  f"0..{args.correct_runs - 1}, protocol on odd seeds)", flush=True)
            ok &= failures == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
