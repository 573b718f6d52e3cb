"""What the fingerprinted baseline (issue 12) costs: fingerprinting, writing, loading and
holding a scan of N violations. Pure in-process timing, no scan.

    python benchmarks/baseline_speed.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from pytest_ssot.config import contract_from_mapping
from pytest_ssot.scan import ScanResult, Violation
from pytest_ssot.scan.baseline import fingerprints, hold, load, update


def main(n: int) -> None:
    contract = contract_from_mapping({"name": "ws", "canonical": "a.b:C", "legacy": ["a.old"]},
                                     "benchmark", "contract")
    violations = [Violation("ws", f"pkg/m{i // 4:05d}.py", 1 + i % 4, "import", "legacy",
                            "a.old", "a.b:C", "other", f"from a.old import C{i % 4}")
                  for i in range(n)]
    result = ScanResult(violations=violations, canonical={"ws": 0})
    t = time.perf_counter()
    fingerprints(violations)
    t_fp = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline.json"
        t = time.perf_counter()
        update(path, result, [contract])
        t_update = time.perf_counter() - t
        t = time.perf_counter()
        held = hold(result, load(path))
        t_hold = time.perf_counter() - t
        size = os.path.getsize(path)
    assert not held.new("ws")
    print(f"{n} violations in {n // 4} files: fingerprints {t_fp * 1000:.0f} ms; update "
          f"(fingerprint, render, write) {t_update * 1000:.0f} ms; load + hold "
          f"{t_hold * 1000:.0f} ms; baseline file {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
