"""Warm-scan CPU (user + system) of two checkouts on their own copies of one tree,
one process each (``scan --jobs 1``), interleaved; prints medians and minimums.

    python benchmarks/warm_cpu.py RUNS

CPU, not wall time: the figure holds on a machine that other work keeps busy, where wall
times of a 0.3 s warm scan vary by half. Set the environment variables
``SSOT_BASE_CODE`` (a folder holding the other checkout's ``pytest_ssot``), ``SSOT_BASE_TREE``
and ``SSOT_OURS_TREE`` (two copies of the tree: the caches' formats differ).
"""
import os, resource, subprocess, sys, statistics
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
arms = {"base": (os.environ["SSOT_BASE_CODE"], os.environ["SSOT_BASE_TREE"]),
        "ours": (HERE, os.environ["SSOT_OURS_TREE"])}
REPORT = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ssot-warm-cpu.json")


def run(code, tree, *extra):
    env = {**os.environ, "PYTHONPATH": code}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "scan", "--jobs", "1", "--json", REPORT, *extra],
                   cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    if rc not in (0, 1):  # 2: a usage error would time nothing
        raise SystemExit(f"{code}: scan exited {rc}")
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
for a, (c, t) in arms.items():
    run(c, t); run(c, t)
res = {a: [] for a in arms}
for i in range(int(sys.argv[1])):
    for a, (c, t) in arms.items():
        res[a].append(run(c, t))
for a in res: print(a, "warm CPU median %.3f s min %.3f" % (statistics.median(res[a]), min(res[a])))
print("ratio of medians %.3f, of mins %.3f" % (statistics.median(res["ours"]) / statistics.median(res["base"]), min(res["ours"]) / min(res["base"])))
