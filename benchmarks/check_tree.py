"""Exactness on a generated tree: `pytest-ssot scan --json` against the generator's answer.

    python benchmarks/gen_monorepo.py /tmp/mono --files 60000
    python benchmarks/check_tree.py /tmp/mono [--show 10] [--keep-cache]

The generator writes every reference together with what SPEC 5 says it is
(`.ssot-expected.json`); this script runs the scan on the tree (cache removed first, unless
`--keep-cache`), and compares: violations one by one as `(file, line, kind, contract, path,
role)`, canonical references as totals per contract (the report counts them, it does not
list them), scan errors by file. It prints, per kind, what was expected, found, missed and
reported in excess, then examples of each difference with the source line. Exit 0 when the
scan is exact, 1 otherwise, 2 when the scan could not run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

Key = tuple  # (file, line, kind, contract, path, role)


def run_scan(tree: Path, keep_cache: bool) -> dict:
    exe = shutil.which("pytest-ssot")
    cmd = [exe] if exe else [sys.executable, "-m", "pytest_ssot.cli"]
    if not keep_cache:
        shutil.rmtree(tree / ".pytest_cache" / "d" / "ssot", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc = subprocess.run([*cmd, "scan", "--json", str(out)], cwd=tree,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode not in (0, 1) or not out.exists():
            raise SystemExit(f"check_tree: the scan exited {proc.returncode}:\n"
                             f"{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


def source_line(tree: Path, file: str, line: int) -> str:
    try:
        lines = (tree / file).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else "?"
    except OSError:
        return "?"


def compare(tree: Path, truth: dict, report: dict, show: int) -> int:
    expected: Counter[Key] = Counter()
    canonical_expected: Counter[str] = Counter()
    for file, refs in truth["expected"].items():
        for line, kind, contract, path, role in refs:
            if role == "canonical":
                # docs' and configuration files' canonical references are counted apart
                canonical_expected[{"doc": f"{contract}|docs", "config": f"{contract}|config"
                                    }.get(kind, contract)] += 1
            else:
                expected[(file, line, kind, contract, path, role)] += 1
    found: Counter[Key] = Counter(
        (v["file"], v["line"], v["kind"], v["contract"], v["path"], v["role"])
        for v in report.get("violations", []))
    missed = expected - found
    extra = found - expected
    kinds = sorted({k[2] for k in expected} | {k[2] for k in found})
    print(f"{'kind':<11} {'expected':>9} {'found':>9} {'matched':>9} {'missed':>8} {'extra':>8}")
    for kind in kinds:
        e = sum(n for k, n in expected.items() if k[2] == kind)
        f = sum(n for k, n in found.items() if k[2] == kind)
        m = sum(n for k, n in missed.items() if k[2] == kind)
        x = sum(n for k, n in extra.items() if k[2] == kind)
        print(f"{kind:<11} {e:>9} {f:>9} {e - m:>9} {m:>8} {x:>8}")
    print(f"{'total':<11} {sum(expected.values()):>9} {sum(found.values()):>9} "
          f"{sum(expected.values()) - sum(missed.values()):>9} {sum(missed.values()):>8} "
          f"{sum(extra.values()):>8}")
    bad = bool(missed or extra)
    for c in report.get("contracts", []):
        for where, key, suffix in (("", "code", ""), (" in docs", "docs", "|docs"),
                                   (" in config", "config", "|config")):
            want = canonical_expected.get(c["name"] + suffix, 0)
            got = (c.get("references", {}).get("canonical") if not suffix else
                   c.get("canonical_by_source", {}).get(key, 0 if not want else None))
            mark = "ok" if got == want else "DIFFERS"
            bad |= got != want
            if want or got:
                print(f"canonical references{where} [{c['name']}]: expected {want}, "
                      f"reported {got} ({mark})")
    errors_found = sorted(e["file"] for e in report.get("errors", []))
    if errors_found != sorted(truth.get("errors", [])):
        bad = True
        print(f"scan errors: expected {truth.get('errors')}, reported {errors_found}")
    else:
        print(f"scan errors: {len(errors_found)} as expected")
    summary = report.get("summary", {})
    print(f"files scanned: {summary.get('files_scanned')} (tree: {truth.get('files')} .py files)")
    for title, diff in (("MISSED (expected, not reported)", missed),
                        ("EXTRA (reported, not expected)", extra)):
        if not diff:
            continue
        by_kind: dict[str, list[Key]] = {}
        for k in sorted(diff):
            by_kind.setdefault(f"{k[2]} {k[5]} {k[4]}", []).append(k)
        print(f"\n{title}:")
        for group, keys in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
            print(f"  {group}: {sum(diff[k] for k in keys)}")
            for k in keys[:show]:
                print(f"    {k[0]}:{k[1]}: {source_line(tree, k[0], k[1])}")
    print("\nexact" if not bad else "\nNOT exact")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path)
    ap.add_argument("--show", type=int, default=5, help="examples per difference group")
    ap.add_argument("--keep-cache", action="store_true", help="do not remove the scan cache")
    args = ap.parse_args(argv)
    truth_file = args.tree / ".ssot-expected.json"
    if not truth_file.is_file():
        print(f"check_tree: {truth_file} not found (generate the tree with gen_monorepo.py)",
              file=sys.stderr)
        return 2
    truth = json.loads(truth_file.read_text())
    return compare(args.tree, truth, run_scan(args.tree, args.keep_cache), max(args.show, 0))


if __name__ == "__main__":
    sys.exit(main())
