"""``pytest-ssot`` command line."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-ssot",
                                     description="single source of truth checks")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scan", help="the static reference scan (not built yet)")
    sub.add_parser("fix", help="rewrite legacy references (not built yet)")
    args = parser.parse_args(argv)
    print(f"pytest-ssot {args.command}: not built yet in this version; run pytest for the "
          "runtime checks", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
