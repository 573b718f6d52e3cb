"""What the production census (``pytest_ssot.census.install``) costs a service.

In one run, on a generated project (a package of M modules, one contract whose legacy
entries are a silent shim module and a package attribute):

1. start-up: a fresh interpreter imports all M modules, census off and on (``install``
   included: it reads pyproject.toml); CPU time (user + system) of the process, medians of
   interleaved runs. Target: within noise, <= 1%.
2. hot loop through canonical paths (no legacy path touched): N calls of a canonical
   function through its module attribute, census off and on, interleaved subprocesses,
   medians. Target: within noise, <= 1%.
3. cost per legacy hit: N reads of an attribute of the shim with the census on, minus the
   same loop on the canonical module; per hit. Target: <= 2 us.

Also printed, for the record: the cost per attribute read of a *package* that holds a
declared ``package:Name`` entry bound in its namespace: nothing by default, and with
``install(bound_attributes=True)`` (its module class is switched to count reads of Name).

    python benchmarks/census_overhead.py [--runs 15] [--modules 400] [--loop 2000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PYPROJECT = """
[project]
name = "bench"

[tool.pytest-ssot]

[[tool.pytest-ssot.contracts]]
name = "thing"
canonical = "benchpkg.real:Thing"
legacy = ["benchpkg.shim", "benchpkg:Thing"]
factories = ["benchpkg.real:make"]
"""

STARTUP = """
import sys, time
sys.path.insert(0, {root!r})
if {on}:
    import pytest_ssot.census
    pytest_ssot.census.install(path={census!r}, pyproject={pyproject!r}, interval=0)
import benchpkg.all
"""

# The same, with the contracts given (no pyproject.toml read): the hook's share alone.
STARTUP_GIVEN = STARTUP.replace("pyproject={pyproject!r}",
                                "contracts=['benchpkg.shim', 'benchpkg:Thing'], "
                                "project='bench'")

LOOP = """
import sys, time
sys.path.insert(0, {root!r})
if {on}:
    import pytest_ssot.census
    pytest_ssot.census.install(path={census!r}, pyproject={pyproject!r}, interval=0,
                               bound_attributes={bound})
import benchpkg, benchpkg.real as real
n = {n}
t = time.perf_counter()
{body}
print(time.perf_counter() - t)
"""

BODIES = {
    # canonical function through its module: the census must not be seen here
    "canonical": "for _ in range(n):\n    real.work(1)",
    # a legacy attribute read: each one is a hit
    "hit": "shim = __import__('benchpkg.shim').shim\nfor _ in range(n):\n    shim.Thing",
    "hit-base": "for _ in range(n):\n    real.Thing",
    # reads of other names of a package that holds a declared `package:Name` entry
    "package": "for _ in range(n):\n    benchpkg.real",
}


def make_project(root: Path, modules: int) -> None:
    pkg = root / "benchpkg"
    pkg.mkdir()
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "__init__.py").write_text("from .real import Thing\n")
    (pkg / "real.py").write_text("class Thing:\n    pass\n\n\ndef make():\n    return Thing()"
                                 "\n\n\ndef work(x):\n    return x + 1\n")
    (pkg / "shim.py").write_text("from benchpkg.real import Thing\n")
    imports = []
    for i in range(modules):
        body = "\n\n".join(f"def f{j}(x):\n    return x * {j}\n\n\nclass C{j}:\n    a = {j}\n"
                           for j in range(20))
        # A service's modules import the usual standard library (logging brings re and
        # string, which reading pyproject.toml also needs).
        (pkg / f"m{i}.py").write_text("import json, logging, os\nfrom benchpkg.real import "
                                      "Thing\n\n"
                                      + body)
        imports.append(f"import benchpkg.m{i}")
    (pkg / "all.py").write_text("\n".join(imports) + "\n")


# A service runs from byte-compiled files: so do these runs (this machine sets
# PYTHONDONTWRITEBYTECODE, which would measure compiling census.py instead).
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}


def cpu_of(code: str, cwd: Path) -> float:
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.DEVNULL,
                            env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("a start-up run failed")
    return usage.ru_utime + usage.ru_stime


def loop_time(code: str, cwd: Path) -> float:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                         text=True, check=True, env=ENV)
    return float(out.stdout.strip())


IN_PROCESS = """
import sys, time
t = time.perf_counter()
import pytest_ssot.census as census
census.install(path=None, contracts=["benchpkg.shim", "benchpkg:Thing"], interval=0,
               project="bench")
install_ms = (time.perf_counter() - t) * 1000
finder = census.recorder._FINDER
names = [f"pkg{i}.mod" for i in range(200_000)]
t = time.perf_counter()
for n in names:
    finder.find_spec(n, None)
print((time.perf_counter() - t) / len(names) * 1e6, install_ms)
"""


def _in_process(cwd: Path) -> tuple[float, float]:
    """The import hook's cost per (unwatched) module import, and install()'s own cost."""
    runs = [subprocess.run([sys.executable, "-c", IN_PROCESS], cwd=cwd, capture_output=True,
                           text=True, check=True, env=ENV).stdout.split() for _ in range(5)]
    return (min(float(r[0]) for r in runs), statistics.median(float(r[1]) for r in runs))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--modules", type=int, default=400)
    ap.add_argument("--loop", type=int, default=2_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.modules)
        fmt = {"root": str(root), "census": str(root / "c.jsonl"),
               "pyproject": str(root / "pyproject.toml")}
        # Byte-compile once (the project, and pytest_ssot through a first run) so that
        # every run measures the same thing.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root)], check=True,
                       env=ENV)
        cpu_of(STARTUP.format(on=True, **fmt), root)

        start: dict[object, list[float]] = {False: [], True: [], "given": []}
        for _ in range(args.runs):
            for on in (False, True):
                start[on].append(cpu_of(STARTUP.format(on=on, **fmt), root))
            start["given"].append(cpu_of(STARTUP_GIVEN.format(on=True, **fmt), root))
        loops: dict[tuple[str, str], list[float]] = {}
        modes = {"canonical": ("off", "on"), "package": ("off", "on", "bound")}
        for _ in range(args.runs):
            for name, body in BODIES.items():
                for mode in modes.get(name, ("on",)):
                    code = LOOP.format(on=mode != "off", bound=mode == "bound", n=args.loop,
                                       body=body, **fmt)
                    loops.setdefault((name, mode), []).append(loop_time(code, root))
        os.unlink(root / "c.jsonl")

    finder_us, install_ms = _in_process(Path(tempfile.gettempdir()))
    med = statistics.median
    s_off, s_on = med(start[False]), med(start[True])
    c_off, c_on = med(loops[("canonical", "off")]), med(loops[("canonical", "on")])
    p_off, p_on = med(loops[("package", "off")]), med(loops[("package", "on")])
    p_bound = med(loops[("package", "bound")])
    per_hit = (med(loops[("hit", "on")]) - med(loops[("hit-base", "on")])) / args.loop * 1e6
    spread = (statistics.quantiles(start[False], n=4)[2]
              - statistics.quantiles(start[False], n=4)[0]) / s_off * 100
    print(f"start-up, import {args.modules} modules (CPU, median of {args.runs}): "
          f"off {s_off * 1000:.1f} ms, on {s_on * 1000:.1f} ms, "
          f"ratio {s_on / s_off:.3f} (interquartile spread off: {spread:.1f}%)")
    print(f"  with the contracts given (no pyproject.toml read): median "
          f"{med(start['given']) * 1000:.1f} ms, ratio {med(start['given']) / s_off:.3f}; "
          f"fastest {min(start['given']) * 1000:.1f} ms, ratio "
          f"{min(start['given']) / min(start[False]):.3f}")
    print(f"  the same, fastest runs: off {min(start[False]) * 1000:.1f} ms, on "
          f"{min(start[True]) * 1000:.1f} ms, ratio {min(start[True]) / min(start[False]):.3f}")
    print(f"  of which: install() once {install_ms:.1f} ms (import of the census, reading "
          f"pyproject.toml); the import hook {finder_us:.2f} us per module imported "
          f"({finder_us * args.modules / 1000:.2f} ms for {args.modules} modules)")
    print(f"hot loop, {args.loop:,} canonical calls: off {c_off * 1000:.1f} ms, "
          f"on {c_on * 1000:.1f} ms, ratio {c_on / c_off:.3f}")
    print(f"cost per legacy hit: {per_hit:.2f} us")
    print(f"reads of a package holding a declared package:Name entry: off "
          f"{p_off / args.loop * 1e9:.0f} ns, on {p_on / args.loop * 1e9:.0f} ns, "
          f"on with bound_attributes=True {p_bound / args.loop * 1e9:.0f} ns per read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
