"""The pre-filter on files built to be its worst case, just under the scan's size limit.

    python benchmarks/prefilter_worst.py [--mb 4]

Each case is built in memory and timed once through ``Filter.needs_parse``. A time that
grows faster than the file (double the file, four times the time) is a hang waiting for a
big enough file: SPEC 12 says a fault never becomes one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_ssot.config import contract_from_mapping  # noqa: E402
from pytest_ssot.scan.prefilter import Filter  # noqa: E402
from pytest_ssot.scan.rules import Matcher  # noqa: E402

CONTRACT = contract_from_mapping({
    "name": "ws",
    "canonical": "chat.ws.websocket_manager:WebSocketManager",
    "legacy": ["chat.ws.unified_manager", "chat.ws.manager", "chat.ws:WebSocketManager"],
    "factories": ["chat.ws:create_manager", "chat.ws.factory"],
}, "benchmark", "contracts")


def cases(size: int) -> dict[str, bytes]:
    return {
        "one line: a string of paths": b'X = "' + b"chat.ws.manager " * (size // 16) + b'"\n',
        "bare words, one per line": b"manager\n" * (size // 8),
        "strings cut by backslash-newline": b"x = '\\\nmanager'\n" * (size // 16),
        "words far below one import": b"import os\n" + b"x = manager\n" * (size // 12),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=4.0, help="file size in MB (default 4)")
    args = ap.parse_args()
    if args.mb <= 0:
        ap.error("--mb must be > 0")
    matcher = Matcher([CONTRACT])
    for size in (int(args.mb * 1e6) // 2, int(args.mb * 1e6)):
        for name, data in cases(size).items():
            t = time.perf_counter()
            Filter(matcher).needs_parse(data, "app.m")
            print(f"{len(data) / 1e6:4.1f} MB  {name:34s} {time.perf_counter() - t:7.2f} s",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
