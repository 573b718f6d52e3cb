"""Behaviour snapshot: every user-visible output of pytest-ssot, one text file per case.

    python benchmarks/outputs_snapshot.py OUTDIR [--python PY]
    diff -r BEFORE AFTER           # a refactoring that changed no output: no difference

Runs every command a user has (``pytest-ssot`` and its subcommands, their ``--help``, bad
usage, the pytest plugin's options) on the bundled example (``examples/chat_backend``) and on
a small generated benchmark tree (``gen_monorepo.py --files 300 --seed 7 --docs 5``), each
case in a fresh copy, and writes OUTDIR/<case>.txt: the command line, the exit code, stdout,
stderr, and every file the command wrote (new files in full, changed files as a unified
diff, deleted files by name). ``PY`` is the interpreter of the environment under test
(default: this one); ``pytest-ssot`` is taken from the same ``bin`` folder.

Only what must vary between two runs is normalised: the rules numbered 1 to 8 below
(``NORMALISE``, ``OPAQUE_PREFIX``, ``Case.compare_stdout``) and nothing else. What could
vary otherwise is fixed instead: a minimal environment (TZ=UTC, COLUMNS=100, NO_COLOR,
PYTHONHASHSEED=0, SSOT_TODAY, no CI variables), git commits with a fixed author and date,
every file's mtime set to a fixed time before a case and a wait after a case's setup step
(so the scan cache's 2 s "racy timestamp" rule does not depend on the machine's speed),
hypothesis with a fixed seed, pytest's cache provider and pytest-benchmark off. Cases run one after another; a case's own
commands use at most 2 processes (``--jobs`` defaults to the cores; ``-n 2``).

Standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "chat_backend"
GEN = HERE / "gen_monorepo.py"
GEN_ARGS = ["--files", "300", "--seed", "7", "--docs", "5"]

FIXED_MTIME = 1767225600           # 2026-01-01T00:00:00Z, for every file before a case
SSOT_TODAY = "2026-12-01"
GIT_DATES = ("2026-01-01T10:00:00+00:00", "2026-01-02T10:00:00+00:00")
TIMEOUT = 300


def _today_dates() -> str:
    """Today's and yesterday's UTC dates (a run can span midnight), as a regex group."""
    now = datetime.now(timezone.utc)
    days = {(now - timedelta(days=d)).strftime("%Y-%m-%d") for d in (0, 1)}
    return "(?:" + "|".join(sorted(days)) + ")"


# The normalisation rules, applied in this order to stdout, stderr and written text files.
# Fixed dates (SSOT_TODAY, git commit dates, census files written here) are not touched:
# only a timestamp of the run itself (today's or yesterday's UTC date) is.
_D = _today_dates()
NORMALISE: list[tuple[str, str]] = [
    # 1. folders (plain replacements, see _normalise): the case's temp folder -> <TMP>; the
    #    installed pytest_ssot package (absolute, and as pytest prints it: relative to the
    #    rootdir) -> <PKG>; the standard library -> <STDLIB>; PY's bin folder -> <PYBIN>.
    #    A snapshot taken from another worktree or venv then compares equal.
    # 2. timestamps of the run itself: ISO-8601 and the dashboard's "YYYY-MM-DD HH:MM UTC"
    (_D + r"[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d| UTC)?", "<NOW>"),
    # 3. random ids: pygal's chart id in the dashboards is a uuid4
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b", "<UUID>"),
    # 4. today's date alone (pygal's "Generated ... on YYYY-MM-DD")
    (r"\b" + _D + r"\b", "<TODAY>"),
    # 5. durations: pytest's "in 0.97s" (and "(0:01:02)"), our "0.02 s", "4.3 ms"
    (r"\bin \d+(?:\.\d+)?s(?: \(\d+:\d\d:\d\d\))?", "in <T>s"),
    (r"\b\d+\.\d+ ?(s|ms|µs)\b", r"<T> \1"),
    (r'("(?:[a-z_]*seconds|[a-z_]*duration[a-z_]*|elapsed[a-z_]*|[a-z_]*_ms|[a-z_]*_s)": )'
     r"\d+(?:\.\d+)?(?:e-?\d+)?", r"\1<T>"),
    # 6. pytest's header: platform and versions
    (r"(?m)^platform .*$", "platform <PLATFORM>"),
    (r"(?m)^(plugins: .*)$", lambda m: re.sub(r"-\d+(?:\.\d+)+\w*", "-<V>", m.group(1))),
]


FOLDERS: list[tuple[str, str]] = []   # filled by main(): (folder, placeholder)


def _normalise(text: str, tmp: str) -> str:
    pairs = [(tmp, "<TMP>"), (os.path.realpath(tmp), "<TMP>")]
    for folder, name in FOLDERS:
        pairs.append((folder, name))
        for project in Path(tmp).iterdir() if os.path.isdir(tmp) else ():
            if project.is_dir() and project.name not in ("out", "census"):
                pairs.append((os.path.relpath(folder, project), name))
    for folder, name in sorted(set(pairs), key=lambda p: -len(p[0])):
        text = text.replace(folder, name)
    for pattern, repl in NORMALISE:
        text = re.sub(pattern, repl, text)
    return text


# Not part of a case's written files: git's and caches of other tools.
SKIP_DIRS = {".git", "__pycache__", ".hypothesis", ".benchmarks"}
# 7. Binary files in pytest's cache folder (the scan and history caches): only whether one
# was created or deleted is compared, not its bytes nor whether a run rewrote it: they hold
# files' mtimes (and "racy" marks that depend on timing) by design. Text files there
# (history.json) are compared like any other file.
OPAQUE_PREFIX = ".pytest_cache/"


@dataclass
class Case:
    name: str
    argv: list[str]                  # the logical command: "pytest-ssot ..." or "pytest ..."
    tree: str = "example"            # example | mono | empty | typo | badkey
    cwd: str = "project"             # project | base
    setup: list[list[str]] = field(default_factory=list)   # run before, not recorded
    env: dict[str, str] = field(default_factory=dict)
    # 8. False only where the order of stdout is not ours: xdist prints failures in the
    # order its workers finish them (exit code, stderr and files are still compared)
    compare_stdout: bool = True


def cases() -> list[Case]:
    c: list[Case] = []
    add = c.append
    canonical = "chat.app.websocket_core.websocket_manager:WebSocketManager"
    subs = ["scan", "fix", "discover", "shims", "history", "census"]
    # -- help and version (no project needed)
    add(Case("cli-help", ["pytest-ssot", "--help"], tree="empty"))
    add(Case("cli-version", ["pytest-ssot", "--version"], tree="empty"))
    add(Case("cli-noargs", ["pytest-ssot"], tree="empty"))
    for s in subs:
        add(Case(f"cli-{s}-help", ["pytest-ssot", s, "--help"], tree="empty"))
    # -- bad usage
    add(Case("bad-unknown-command", ["pytest-ssot", "scna"], tree="empty"))
    add(Case("bad-unknown-option", ["pytest-ssot", "scan", "--bogus"]))
    add(Case("bad-missing-config", ["pytest-ssot", "scan"], tree="empty"))
    add(Case("bad-missing-config-fix", ["pytest-ssot", "fix", "--check"], tree="empty"))
    add(Case("bad-missing-config-shims", ["pytest-ssot", "shims"], tree="empty"))
    add(Case("bad-missing-config-history", ["pytest-ssot", "history"], tree="empty"))
    add(Case("bad-cold-and-verify", ["pytest-ssot", "scan", "--cold", "--verify"]))
    add(Case("bad-jobs-zero", ["pytest-ssot", "fix", "--jobs", "0"]))
    add(Case("bad-rootdir-missing", ["pytest-ssot", "scan", "--rootdir", "nowhere"]))
    add(Case("bad-typo-legacy-scan", ["pytest-ssot", "scan"], tree="typo"))
    add(Case("bad-typo-legacy-pytest", ["pytest", "-m", "ssot", "-rA"], tree="typo"))
    add(Case("bad-typo-config-key", ["pytest-ssot", "scan"], tree="badkey"))
    add(Case("bad-typo-config-key-pytest", ["pytest", "-q"], tree="badkey"))
    add(Case("bad-discover-no-colon", ["pytest-ssot", "discover", "chat.app"]))
    add(Case("bad-discover-unresolved", ["pytest-ssot", "discover", "chat.app.nothing:Thing"]))
    add(Case("bad-history-not-git", ["pytest-ssot", "history"], setup=[["rm", "-rf", ".git"]]))
    add(Case("bad-history-since", ["pytest-ssot", "history", "--since", "yesterday-ish"]))
    add(Case("bad-history-range", ["pytest-ssot", "history", "nosuchrev..HEAD"]))
    add(Case("bad-census-missing-file", ["pytest-ssot", "census", "nosuch.jsonl"]))
    add(Case("bad-pytest-empty-report", ["pytest", "-q", "--ssot-report="]))
    add(Case("bad-pytest-cold-verify", ["pytest", "-q", "--ssot-cold", "--ssot-verify"]))
    add(Case("bad-pytest-examples-zero", ["pytest", "-q", "--ssot-isolation-examples=0"]))
    add(Case("bad-pytest-report-unwritable",
             ["pytest", "-q", "--ssot-report=nosuchdir/sub/r.json"]))
    # -- scan, on both trees
    for tree in ("example", "mono"):
        t = "ex" if tree == "example" else "mono"
        add(Case(f"{t}-scan", ["pytest-ssot", "scan"], tree=tree))
        add(Case(f"{t}-scan-json", ["pytest-ssot", "scan", "--json", "../out/scan.json"],
                 tree=tree))
        add(Case(f"{t}-scan-sarif", ["pytest-ssot", "scan", "--sarif", "../out/scan.sarif"],
                 tree=tree))
        add(Case(f"{t}-scan-format-github", ["pytest-ssot", "scan", "--format", "github"],
                 tree=tree))
        add(Case(f"{t}-scan-github-actions", ["pytest-ssot", "scan"], tree=tree,
                 env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "{base}/out/summary.md"}))
        add(Case(f"{t}-scan-format-text-in-actions", ["pytest-ssot", "scan", "--format", "text"],
                 tree=tree, env={"GITHUB_ACTIONS": "true"}))
        add(Case(f"{t}-scan-strict", ["pytest-ssot", "scan", "--strict"], tree=tree))
        add(Case(f"{t}-scan-cold", ["pytest-ssot", "scan", "--cold"], tree=tree,
                 setup=[["pytest-ssot", "scan"]]))
        add(Case(f"{t}-scan-verify", ["pytest-ssot", "scan", "--verify"], tree=tree,
                 setup=[["pytest-ssot", "scan"]]))
        add(Case(f"{t}-scan-warm", ["pytest-ssot", "scan"], tree=tree,
                 setup=[["pytest-ssot", "scan"]]))
        add(Case(f"{t}-scan-update-baseline", ["pytest-ssot", "scan", "--update-baseline"],
                 tree=tree))
        add(Case(f"{t}-scan-jobs1", ["pytest-ssot", "scan", "--jobs", "1"], tree=tree))
        add(Case(f"{t}-scan-rootdir", ["pytest-ssot", "scan", "--rootdir", "project"],
                 tree=tree, cwd="base"))
        add(Case(f"{t}-fix-check", ["pytest-ssot", "fix", "--check"], tree=tree))
        add(Case(f"{t}-fix-diff", ["pytest-ssot", "fix", "--diff"], tree=tree))
        add(Case(f"{t}-fix-explain", ["pytest-ssot", "fix", "--explain"], tree=tree))
        add(Case(f"{t}-fix", ["pytest-ssot", "fix"], tree=tree))
        add(Case(f"{t}-fix-then-scan", ["pytest-ssot", "scan"], tree=tree,
                 setup=[["pytest-ssot", "fix"]]))
        add(Case(f"{t}-shims", ["pytest-ssot", "shims"], tree=tree))
        add(Case(f"{t}-shims-check", ["pytest-ssot", "shims", "--check"], tree=tree))
        add(Case(f"{t}-shims-write", ["pytest-ssot", "shims", "--write"], tree=tree))
        add(Case(f"{t}-discover", ["pytest-ssot", "discover", canonical], tree=tree))
        add(Case(f"{t}-history", ["pytest-ssot", "history"], tree=tree))
        add(Case(f"{t}-history-json-html", ["pytest-ssot", "history", "--json",
                                            "../out/history.json", "--html",
                                            "../out/history.html"], tree=tree))
    add(Case("ex-fix-paths", ["pytest-ssot", "fix", "chat/app/services"]))
    add(Case("ex-fix-jobs1", ["pytest-ssot", "fix", "--diff", "--jobs", "1"]))
    add(Case("ex-scan-census", ["pytest-ssot", "scan", "--census", "../census/good.jsonl"]))
    add(Case("ex-scan-after-update-baseline", ["pytest-ssot", "scan", "--strict"],
             setup=[["pytest-ssot", "scan", "--update-baseline"]]))
    # discover --write on the example only: discover imports every module of the tree in a
    # fresh interpreter (the slowest case on the benchmark tree)
    add(Case("ex-discover-write", ["pytest-ssot", "discover", canonical, "--write",
                                   "--name", "ws-manager-2"]))
    add(Case("ex-discover-rootdir", ["pytest-ssot", "discover", canonical, "--rootdir",
                                     "project"], cwd="base"))
    add(Case("ex-history-max-commits", ["pytest-ssot", "history", "--max-commits", "1"]))
    add(Case("ex-history-since", ["pytest-ssot", "history", "--since", "2026-01-02"]))
    add(Case("ex-history-range", ["pytest-ssot", "history", "HEAD~1..HEAD"]))
    add(Case("ex-history-census-html", ["pytest-ssot", "history", "--html",
                                        "../out/history.html", "--census",
                                        "../census/good.jsonl"]))
    add(Case("ex-census", ["pytest-ssot", "census", "../census/good.jsonl"]))
    add(Case("ex-census-json", ["pytest-ssot", "census", "../census/good.jsonl",
                                "../census/staging.jsonl", "--json", "../out/census.json"]))
    add(Case("ex-census-project", ["pytest-ssot", "census", "../census/good.jsonl",
                                   "--project", "another"]))
    add(Case("ex-census-skipped", ["pytest-ssot", "census", "../census/good.jsonl",
                                   "../census/damaged.jsonl", "../census/newer.jsonl"]))
    # -- the pytest plugin, on the example
    add(Case("pytest-help-ssot", ["pytest", "--help"]))
    add(Case("pytest-plain", ["pytest"]))
    add(Case("pytest-q", ["pytest", "-q"]))
    add(Case("pytest-ssot-rA", ["pytest", "-m", "ssot", "-rA"]))
    add(Case("pytest-not-ssot", ["pytest", "-q", "-m", "not ssot"]))
    add(Case("pytest-no-plugin", ["pytest", "-q", "-p", "no:ssot"]))
    add(Case("pytest-collect-only", ["pytest", "--collect-only", "-q"]))
    add(Case("pytest-strict", ["pytest", "--ssot-strict", "-rA"]))
    add(Case("pytest-report-json", ["pytest", "-q", "--ssot-report=../out/r.json"]))
    add(Case("pytest-report-sarif", ["pytest", "-q", "--ssot-report=../out/r.sarif"]))
    add(Case("pytest-html", ["pytest", "-q", "--ssot-html=../out/r.html"]))
    add(Case("pytest-html-after-history", ["pytest", "-q", "--ssot-html=../out/r.html"],
             setup=[["pytest-ssot", "history"]]))
    add(Case("pytest-census", ["pytest", "-q", "--ssot-census=../census/good.jsonl",
                               "--ssot-census=../census/damaged.jsonl",
                               "--ssot-report=../out/r.json"]))
    add(Case("pytest-cold", ["pytest", "-q", "--ssot-cold"]))
    add(Case("pytest-verify", ["pytest", "-q", "--ssot-verify"]))
    add(Case("pytest-update-baseline", ["pytest", "-q", "--ssot-update-baseline"]))
    add(Case("pytest-isolation-options", ["pytest", "-m", "ssot_isolation", "-rA",
                                          "--ssot-isolation-examples=5",
                                          "--ssot-isolation-max-users=3",
                                          "--ssot-isolation-thread-trials=2"]))
    add(Case("pytest-golden-path", ["pytest", "--golden-path", "-rA"]))
    add(Case("pytest-golden-path-report", ["pytest", "-q", "--golden-path",
                                           "--golden-path-report=../out/gp.json"]))
    add(Case("pytest-strict-report", ["pytest", "-q", "--ssot-strict",
                                      "--ssot-report=../out/strict.json"]))
    add(Case("pytest-xdist", ["pytest", "-q", "-n", "2"]))
    add(Case("pytest-xdist-strict-report", ["pytest", "-q", "-n", "2", "--ssot-strict",
                                            "--ssot-report=../out/r.json"],
             compare_stdout=False))
    add(Case("pytest-github-actions", ["pytest", "-q"],
             env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "{base}/out/summary.md"}))
    add(Case("pytest-typo-in-strict", ["pytest", "-q", "--ssot-strict"], tree="typo"))
    return c


# Every pytest run: no cache provider (nothing of a previous run is read), a fixed
# hypothesis seed, and the project's own tests.
PYTEST_FIXED = ["-p", "no:cacheprovider", "-p", "no:benchmark", "--hypothesis-seed=0"]


def _env(base: Path, pybin: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": f"{pybin}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(base.parent / "home"),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "COLUMNS": "100", "LINES": "40",
        "NO_COLOR": "1", "TERM": "dumb", "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1", "SSOT_TODAY": SSOT_TODAY,
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Snap Shot",
        "GIT_AUTHOR_EMAIL": "snap@example.invalid", "GIT_COMMITTER_NAME": "Snap Shot",
        "GIT_COMMITTER_EMAIL": "snap@example.invalid",
    }
    if "VIRTUAL_ENV" in os.environ or (pybin.parent / "pyvenv.cfg").exists():
        env["VIRTUAL_ENV"] = str(pybin.parent)
    env.update({k: v.replace("{base}", str(base)) for k, v in extra.items()})
    return env


def _resolve(argv: list[str], py: str, pybin: Path) -> list[str]:
    if argv[0] == "pytest-ssot":
        return [str(pybin / "pytest-ssot"), *argv[1:]]
    if argv[0] == "pytest":
        return [py, "-m", "pytest", *PYTEST_FIXED, *argv[1:]]
    return argv


def _git(args: list[str], cwd: Path, env: dict[str, str], date: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})


def _git_history(project: Path, env: dict[str, str], legacy_file: str, legacy_line: str) -> None:
    """Two commits: the tree plus one more legacy reference, then the tree as it is."""
    extra = project / legacy_file
    extra.write_text(legacy_line, encoding="utf-8")
    _git(["init", "-q", "-b", "main"], project, env, GIT_DATES[0])
    _git(["add", "-A"], project, env, GIT_DATES[0])
    _git(["commit", "-q", "-m", "initial: the tree and one more legacy import"], project, env,
         GIT_DATES[0])
    extra.unlink()
    _git(["add", "-A"], project, env, GIT_DATES[1])
    _git(["commit", "-q", "-m", "drop one legacy import"], project, env, GIT_DATES[1])
    _git(["gc", "-q", "--prune=now"], project, env, GIT_DATES[1])  # one pack: quick copies


CENSUS_HIT = ('{{"schema": "pytest-ssot-census/1", "project": "{project}", "pid": 1, '
              '"kind": "hits", "path": "chat.app.websocket_core.manager", "contract": '
              '"ws-manager", "caller": "{caller}", "count": {n}, '
              '"first_seen": "2026-11-01T08:00:00Z", "last_seen": "2026-11-20T17:30:00Z"}}\n')
CENSUS_START = ('{{"schema": "{schema}", "project": "{project}", "pid": 1, "kind": "start", '
                '"time": "2026-11-01T08:00:00Z", "paths": ["chat.app.websocket_core.manager"]}}\n')


def _census_files(folder: Path) -> None:
    folder.mkdir()
    start = CENSUS_START.format(schema="pytest-ssot-census/1", project="chat_backend")
    (folder / "good.jsonl").write_text(
        start + CENSUS_HIT.format(project="chat_backend", caller="chat/app/services/agent_bridge.py:3",
                                  n=12)
        + CENSUS_HIT.format(project="chat_backend", caller="chat/app/plugins/loader.py:9", n=3),
        encoding="utf-8")
    (folder / "staging.jsonl").write_text(
        start + CENSUS_HIT.format(project="chat_backend", caller="chat/app/plugins/loader.py:9",
                                  n=5), encoding="utf-8")
    (folder / "damaged.jsonl").write_text(start + '{"schema": "pytest-ssot-census/1", "proj',
                                          encoding="utf-8")
    (folder / "newer.jsonl").write_text(
        CENSUS_START.format(schema="pytest-ssot-census/99", project="chat_backend"),
        encoding="utf-8")


def _copy_example(dest: Path) -> None:
    """The example's committed files only: a report or cache left by running the README's
    quick start there must not enter the snapshot."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=EXAMPLE,
                            capture_output=True)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:   # not a git checkout (an sdist): the folder without caches
        shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(
            "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks", "ssot-report.*"))
        return
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(EXAMPLE / name, target)


def prepare_masters(root: Path, py: str, pybin: Path) -> dict[str, Path]:
    """The trees every case copies from; built once."""
    env = _env(root / "x", pybin, {})
    masters: dict[str, Path] = {}
    ex = root / "example" / "chat_backend"
    _copy_example(ex)
    _git_history(ex, env, "chat/app/routes/legacy_extra.py",
                 "from chat.app.websocket_core.unified_manager import WebSocketManager\n")
    masters["example"] = ex
    mono = root / "mono" / "monorepo"
    subprocess.run([py, str(GEN), str(mono), *GEN_ARGS], check=True, capture_output=True,
                   env=env)
    _git_history(mono, env, "chat/app/routes/legacy_extra.py",
                 "from chat.app.websocket_core.manager import WebSocketManager\n")
    masters["mono"] = mono
    typo = root / "typo" / "chat_backend"
    shutil.copytree(ex, typo, symlinks=True)
    text = (typo / "pyproject.toml").read_text(encoding="utf-8")
    (typo / "pyproject.toml").write_text(
        text.replace('"chat.app.websocket_core.unified_manager",',
                     '"chat.app.websocket_core.unifed_manager",'), encoding="utf-8")
    masters["typo"] = typo
    badkey = root / "badkey" / "chat_backend"
    shutil.copytree(ex, badkey, symlinks=True)
    text = (badkey / "pyproject.toml").read_text(encoding="utf-8")
    (badkey / "pyproject.toml").write_text(
        text.replace('paths = ["chat", "tests"]', 'pathz = ["chat", "tests"]'), encoding="utf-8")
    masters["badkey"] = badkey
    empty = root / "empty" / "project"
    empty.mkdir(parents=True)
    masters["empty"] = empty
    return masters


def _fix_mtimes(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.utime(p, (FIXED_MTIME, FIXED_MTIME))
    os.utime(folder, (FIXED_MTIME, FIXED_MTIME))


def _settle(folder: Path) -> None:
    """Wait until what a setup step wrote is older than the scan's "racy" window (2 s):
    otherwise whether the next scan trusts it would depend on the machine's speed."""
    newest = max((os.lstat(os.path.join(d, n)).st_mtime
                  for d, dirs, files in os.walk(folder) for n in dirs + files), default=0.0)
    wait = newest + 2.5 - time.time()
    if wait > 0:
        time.sleep(wait)


def _tree(folder: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(folder).as_posix()
            files[rel] = (b"<symlink> " + os.readlink(p).encode()) if p.is_symlink() \
                else p.read_bytes()
    return files


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _describe(rel: str, data: bytes, tmp: str) -> str:
    text = _text(data)
    if text is None and OPAQUE_PREFIX in rel:
        return "(binary cache file: content not compared)\n"
    if text is None:
        return f"(binary, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})\n"
    return _normalise(text, tmp)


def written_files(before: dict[str, bytes], after: dict[str, bytes], tmp: str) -> str:
    out: list[str] = []
    for rel in sorted(set(before) | set(after)):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        if old is None:
            out.append(f"+++ new file: {rel}\n{_describe(rel, new, tmp)}")
        elif new is None:
            out.append(f"--- deleted: {rel}\n")
        else:
            a, b = _text(old), _text(new)
            if (a is None or b is None) and OPAQUE_PREFIX in rel:
                continue
            if a is None or b is None:
                out.append(f"*** changed: {rel}\n  before {_describe(rel, old, tmp)}"
                           f"  after  {_describe(rel, new, tmp)}")
            else:
                diff = difflib.unified_diff(_normalise(a, tmp).splitlines(keepends=True),
                                            _normalise(b, tmp).splitlines(keepends=True),
                                            f"a/{rel}", f"b/{rel}")
                out.append(f"*** changed: {rel}\n" + "".join(diff))
    for i, chunk in enumerate(out):
        if not chunk.endswith("\n"):
            out[i] = chunk + "\n\\ no newline at the end\n"
    return "".join(out) or "(none)\n"


def run_case(case: Case, masters: dict[str, Path], work: Path, py: str, pybin: Path) -> str:
    base = work / case.name
    base.mkdir()
    master = masters[case.tree]
    project_name = master.name if case.tree != "empty" else "project"
    project = base / project_name
    shutil.copytree(master, project, symlinks=True)
    (base / "out").mkdir()
    shutil.copytree(masters["example"].parent.parent / "census", base / "census")
    # "--rootdir project" and "census ../census" name the copy by a fixed relative path
    argv = [a.replace("--rootdir=project", f"--rootdir={project_name}") for a in case.argv]
    if "--rootdir" in argv:
        i = argv.index("--rootdir")
        if argv[i + 1] == "project":
            argv[i + 1] = project_name
    env = _env(base, pybin, case.env)
    cwd = project if case.cwd == "project" else base
    _fix_mtimes(base)
    for step in case.setup:
        subprocess.run(_resolve(step, py, pybin), cwd=cwd, env=env, capture_output=True,
                       timeout=TIMEOUT)
    if case.setup:
        _settle(base)
    before = _tree(base)
    try:
        proc = subprocess.run(_resolve(argv, py, pybin), cwd=cwd, env=env,
                              capture_output=True, timeout=TIMEOUT)
        code, out, err = str(proc.returncode), proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = f"TIMEOUT after {TIMEOUT} s", exc.stdout or b"", exc.stderr or b""
    after = _tree(base)
    tmp = str(base)
    shown = " ".join(argv if argv[0] != "pytest" else ["pytest", *PYTEST_FIXED, *argv[1:]])
    extra_env = " ".join(f"{k}={_normalise(v.replace('{base}', tmp), tmp)}"
                         for k, v in sorted(case.env.items()))
    parts = [
        f"$ {extra_env + ' ' if extra_env else ''}{shown}\n",
        f"cwd: {_normalise(str(cwd), tmp)}\n",
        f"setup: {'; '.join(' '.join(s) for s in case.setup) or '(none)'}\n",
        f"exit: {code}\n",
        "=== stdout\n", _normalise(out.decode("utf-8", "backslashreplace"), tmp)
        if case.compare_stdout else "(not compared: xdist's completion order)\n",
        "=== stderr\n", _normalise(err.decode("utf-8", "backslashreplace"), tmp),
        "=== files written\n", written_files(before, after, tmp),
    ]
    return "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter of the environment under test (default: this one)")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    args = ap.parse_args(argv)
    py = shutil.which(args.python) or args.python   # "python3" from PATH, or a path
    py = str(Path(py).absolute())                      # not resolved: a venv's bin/python
    pybin = Path(py).parent
    if not (pybin / "pytest-ssot").exists():
        ap.error(f"no pytest-ssot beside {py}")
    if args.outdir.exists() and any(args.outdir.iterdir()):
        ap.error(f"{args.outdir} is not empty")
    args.outdir.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run([py, "-c", "import os, sysconfig, pytest_ssot; "
                            "print(os.path.dirname(pytest_ssot.__file__)); "
                            "print(sysconfig.get_path('stdlib'))"],
                           capture_output=True, text=True, check=True)
    pkg, stdlib = probe.stdout.splitlines()
    FOLDERS[:] = [(pkg, "<PKG>"), (stdlib, "<STDLIB>"), (str(pybin), "<PYBIN>")]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ssot-snapshot-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        masters = prepare_masters(root / "masters", py, pybin)
        _census_files(root / "masters" / "census")
        work = root / "cases"
        work.mkdir()
        selected = [c for c in cases() if args.only in c.name]
        names = [c.name for c in selected]
        assert len(names) == len(set(names)), "case names must be unique"
        for case in selected:
            t0 = time.monotonic()
            text = run_case(case, masters, work, py, pybin)
            (args.outdir / f"{case.name}.txt").write_text(text, encoding="utf-8")
            print(f"{case.name:40} {time.monotonic() - t0:6.2f} s", flush=True)
            shutil.rmtree(work / case.name, ignore_errors=True)
    print(f"{len(selected)} case(s) in {time.monotonic() - start:.1f} s -> {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
