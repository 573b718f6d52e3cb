"""Bug-finding power of the generated isolation tests, measured, with and without a protocol.

    python benchmarks/isolation_corpus.py [--seeds 3] [--correct-runs 20] [--only NAME ...]
    python benchmarks/isolation_corpus.py --sweep 20

``--sweep N`` (in-process, no pytest start-up): every bug and every correct manager, with
and without DEFAULT_PROTOCOL, hypothesis seeds 0..N-1, the checks in the items' order
(distinct managers, shared state, the asyncio search up to its first failure with the
default 100 examples, then 30 thread trials); per bug the check that found it and the
examples and seconds to the first failure over all seeds; per correct manager the number
of failing seeds (must be 0).

For each bug of tests/isolation_corpus.py, with the spec declaring no protocol and then
DEFAULT_PROTOCOL: one pytest run per hypothesis seed (0..seeds-1) with default settings
and `-x`; the check that failed first, the generated example that first failed (asyncio
check), the seconds from the start of that check to its first failure (as the item
reports it), and the wall and CPU seconds of the whole run (start-up, the checks that
passed before and shrinking included). CPU seconds are what the run costs on an idle
machine; wall seconds also count the wait for a CPU on a busy one. Then every correct manager
(tests/isolation_corpus.py CORRECT_APPS) `--correct-runs` times, seeds 0.., the protocol
declared on odd seeds: it must never fail. Goals (issue 16): every bug found with every
seed, with and without a protocol, each run <= 60 s; zero failures of a correct manager.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from isolation_corpus import BUGS, CORRECT_APPS, conftest  # noqa: E402


def _spec(source: str) -> object:
    """The corpus spec of tests/isolation_corpus.py, on a fresh module of ``source``."""
    import types

    app = types.ModuleType("app")
    exec(compile(source, "app.py", "exec", dont_inherit=True), app.__dict__)
    attrs = {"make_user": lambda self, user_id, thread_id: app.User(user_id, thread_id),
             "manager": lambda self, user: app.get_manager(user),
             "send": lambda self, user, event: app.send(user, event),
             "received": lambda self, user: app.received(user),
             "reset": lambda self: app.reset()}
    if hasattr(app, "drain"):
        attrs["drain"] = lambda self: app.drain()
    return type("CorpusIsolation", (), attrs)()


def first_failure(source: str, protocol: bool, seed: int) -> tuple[str, int, float] | None:
    """(check, examples or trial, seconds into that check) of the first failure, or None."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from pytest_ssot.isolation import (DEFAULT_PROTOCOL, distinct_and_policy,
                                       random_schedule, run_async, run_threads,
                                       schedules, shared_state)
    from pytest_ssot.isolation.runners import SpecCalls

    proto = DEFAULT_PROTOCOL if protocol else None
    spec = SpecCalls(_spec(source))
    ids = [f"user-{i}" for i in range(4)]
    if distinct_and_policy(spec, ("thread_id",), "same", ids):
        return "distinct-managers", 0, 0.0
    if shared_state(spec, ("thread_id",), (), ["alice", "bob"]):
        return "shared-state", 0, 0.0
    count = [0]
    t0 = time.perf_counter()

    class Found(Exception):
        pass

    @settings(database=None, deadline=None, max_examples=100, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hseed(seed)
    @given(schedules(100, proto, ("thread_id",)))
    def search(schedule: object) -> None:
        count[0] += 1
        if run_async(spec, schedule, proto):
            raise Found

    try:
        search()
    except Found:
        return "asyncio-schedules", count[0], time.perf_counter() - t0
    t0 = time.perf_counter()
    base = 20261121 + seed
    for trial in range(30):
        schedule = random_schedule(random.Random(base + trial), 100, proto, ("thread_id",))
        workers = max(2, min(8, len(schedule.users) - 1))
        if run_threads(spec, schedule, proto, "same", workers, trial % 2 == 1):
            return "thread-schedules", trial + 1, time.perf_counter() - t0
    return None


def sweep(seeds: int, only: list[str] | None) -> bool:
    ok = True
    print(f"in-process sweep, seeds 0..{seeds - 1}")
    print(f"{'bug':31} {'protocol':8} {'found by':38} {'examples/trials':>15} "
          f"{'seconds to first failure':>24}")
    for name, (_, source, _) in sorted(BUGS.items()):
        if only and name not in only:
            continue
        for protocol in (False, True):
            results = [first_failure(source, protocol, seed) for seed in range(seeds)]
            missed = sum(r is None for r in results)
            hits = [r for r in results if r is not None]
            by = ", ".join(sorted({r[0] for r in hits})) + (f"; MISSED {missed}" if missed
                                                            else "")
            counts = sorted(r[1] for r in hits)
            secs = sorted(r[2] for r in hits)
            shown = (f"{counts[0]}/{counts[len(counts) // 2]}/{counts[-1]}" if counts else "-")
            print(f"{name:31} {'yes' if protocol else 'no':8} {by:38} {shown:>15} "
                  f"{(f'{statistics.median(secs):.2f} / {secs[-1]:.2f}' if secs else '-'):>24}",
                  flush=True)
            ok &= not missed
    for name, source in sorted(CORRECT_APPS.items()):
        if only and name not in only:
            continue
        for protocol in (False, True):
            failing = [seed for seed in range(seeds) if first_failure(source, protocol, seed)]
            print(f"correct {name:23} {'yes' if protocol else 'no':8} failing seeds: "
                  f"{failing or 'none'} of {seeds}", flush=True)
            ok &= not failing
    return ok


def run(source: str, root: Path, protocol: bool, extra: list[str]
        ) -> tuple[tuple[float, float], str, int]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(source)
    (root / "conftest.py").write_text(conftest(protocol))
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    t0 = time.perf_counter()
    c0 = _children_cpu()
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                          "-p", "no:randomly", *extra],
                         cwd=root, capture_output=True, text=True)
    return (time.perf_counter() - t0, _children_cpu() - c0), out.stdout, out.returncode


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--correct-runs", type=int, default=20)
    ap.add_argument("--only", nargs="*", default=None, help="corpus names to run")
    ap.add_argument("--sweep", type=int, default=0, metavar="SEEDS",
                    help="in-process: every bug and correct manager over SEEDS seeds")
    args = ap.parse_args()
    if args.sweep:
        return 0 if sweep(args.sweep, args.only) else 1
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'bug':31} {'protocol':8} {'found by (per seed)':38} {'examples':>9} "
              f"{'to first':>9} {'wall':>11} {'cpu':>11}")
        for name, (_, source, _) in sorted(BUGS.items()):
            if args.only and name not in args.only:
                continue
            for protocol in (False, True):
                found, examples, first, wall, cpu = [], [], [], [], []
                for seed in range(args.seeds):
                    (took, used), out, rc = run(source, Path(tmp) / f"{name}-{protocol}-{seed}",
                                                protocol, ["-x", f"--hypothesis-seed={seed}"])
                    failed = re.findall(r"FAILED \S+::isolation\[corpus\]::(\S+)", out)
                    check = failed[0] if failed else "NOT FOUND"
                    found.append(check)
                    m = re.search(r"(?:found at generated example|stopped at example) (\d+) "
                                  r"\(after (\d+\.\d) s\)", out)
                    if check == "asyncio-schedules" and m:
                        examples.append(int(m.group(1)))
                        first.append(float(m.group(2)))
                    m = re.search(r"trial \d+ of seed \d+, after (\d+\.\d) s", out)
                    if check == "thread-schedules" and m:
                        first.append(float(m.group(1)))
                    wall.append(took)
                    cpu.append(used)
                    ok &= rc == 1 and used <= 60
                by = ", ".join(sorted(set(found)))
                ex = f"{min(examples)}-{max(examples)}" if examples else "-"
                to_first = f"<= {max(first):.1f}" if first else "-"
                print(f"{name:31} {'yes' if protocol else 'no':8} {by:38} {ex:>9} "
                      f"{to_first:>9} {statistics.median(wall):5.1f} /{max(wall):4.1f} "
                      f"{statistics.median(cpu):5.1f} /{max(cpu):4.1f}", flush=True)
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
