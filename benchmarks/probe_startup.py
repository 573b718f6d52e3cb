"""Probe server start-up: what one `python _server.py` costs before its first answer.

Runs each given server script (default: this checkout's) on an empty request and on one
trivial probe (`json:dumps`), N times interleaved, and prints the median and fastest CPU
time (user + system of the child: steadier than wall time on a busy machine) and wall
time. Compare two versions with, for example:

    git show 7c14e99:pytest_ssot/probe/_server.py > /tmp/server_before.py
    python benchmarks/probe_startup.py /tmp/server_before.py pytest_ssot/probe/_server.py
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "pytest_ssot" / "probe" / "_server.py"


def _request(tasks: list[dict]) -> bytes:
    return json.dumps({"tasks": tasks, "sys_path": sys.path, "timeout": 30,
                       "parallel": 1}).encode()


REQUESTS = {
    "empty": _request([]),
    "one probe": _request([{"kind": "probe", "module": "json", "attr": "dumps",
                            "categories": [], "canonical": None, "preimport": "",
                            "watch": [], "factory": False}]),
}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    servers = sys.argv[1:] or [str(DEFAULT)]
    runs = int(os.environ.get("N", "30"))
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}
    for _ in range(runs):
        for server in servers:
            for name, request in REQUESTS.items():
                c, t = _cpu(), time.perf_counter()
                out = subprocess.run([sys.executable, server], input=request,
                                     capture_output=True, check=True).stdout
                wall.setdefault((server, name), []).append((time.perf_counter() - t) * 1000)
                cpu.setdefault((server, name), []).append((_cpu() - c) * 1000)
                json.loads(out)
    for key, values in cpu.items():
        server, name = key
        print(f"{server} ({name}): CPU median {statistics.median(values):.1f} ms, fastest "
              f"{min(values):.1f} ms; wall median {statistics.median(wall[key]):.1f} ms, "
              f"fastest {min(wall[key]):.1f} ms  ({runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
