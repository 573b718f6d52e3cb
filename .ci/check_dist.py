"""CI step: build the sdist and wheel, `twine check` them, and check what the wheel holds.

Run from the repository root: ``python .ci/check_dist.py``. Exit 1 (with the reason) when
the build or the check fails or the wheel misses a file users need.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Files a user of the wheel needs: type information, the licence, the probe scripts that
# run as plain scripts (package data a wrong `packages` setting would drop).
REQUIRED = ("pytest_ssot/py.typed", "pytest_ssot/probe/_server.py",
            "pytest_ssot/probe/_server_tasks.py",
            "pytest_ssot/probe/_discover.py", "/licenses/LICENSE")


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "build", "--outdir", out, "."], check=True,
                       stdout=subprocess.DEVNULL)
        dists = sorted(str(p) for p in Path(out).iterdir())
        subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *dists],
                       check=True)
        wheel = next(p for p in dists if p.endswith(".whl"))
        names = zipfile.ZipFile(wheel).namelist()
        missing = [r for r in REQUIRED if not any(n.endswith(r) for n in names)]
        if missing:
            print(f"check_dist: the wheel lacks {', '.join(missing)}", file=sys.stderr)
            return 1
        print(f"check_dist: {Path(wheel).name}: {len(names)} files, "
              f"{', '.join(r.rsplit('/', 1)[-1] for r in REQUIRED)} present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
