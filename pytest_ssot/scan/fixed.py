"""What a fixed baseline entry was: its file, line and statement, read back from git.

A baseline holds fingerprints, not statements (SPEC 7: they survive moves and
reformatting). When ``--update-baseline`` drops entries, the statements are gone from the
working tree; the file as git last saw it with this baseline (the commit that last
changed the baseline file, then HEAD) still holds them: it is analysed as the scan does
and its violations' fingerprints are matched. Pure: no pytest. Anything git cannot
answer (no git, not a repository, a file it never saw) leaves the entry unexplained,
never an error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..domain.contracts import Contract
from .files import module_name
from .fingerprint import rows
from .rules import Matcher
from .analysis import analyze

__all__ = ["statements"]

_TIMEOUT = 20.0  # seconds per git call: a hung git (a lock, a network file system) is not ours


def _git(root: Path, *args: str) -> bytes | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              timeout=_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def statements(root: Path, baseline: Path, wanted: Mapping[str, Iterable[str]],
               contracts: Sequence[Contract]) -> dict[tuple[str, str], tuple[int, str]]:
    """``{(file, fingerprint): (line, statement)}`` for the ``wanted`` fingerprints per
    file that git's copy of the file holds."""
    if not wanted or _git(root, "rev-parse", "--git-dir") is None:
        return {}
    revs = []
    try:
        rel = baseline.resolve().relative_to(root.resolve()).as_posix()
        # (only for a tracked file: ``git log -- PATH`` of a path git never saw walks the
        # whole history, seconds in a big repository)
        if _git(root, "ls-files", "--error-unmatch", "--", rel) is not None:
            last = _git(root, "log", "-1", "--format=%H", "--", rel)
            if last and last.strip():
                revs.append(last.strip().decode("ascii", "replace"))
    except ValueError:
        pass  # a baseline outside the rootdir: HEAD only
    revs.append("HEAD")
    matcher = Matcher(contracts)
    src_layout = (root / "src").is_dir()
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for file, fps in wanted.items():
        left = set(fps)
        module, is_package = module_name(file, src_layout)
        for rev in revs:
            if not left:
                break
            data = _git(root, "cat-file", "blob", f"{rev}:./{file}")
            if data is None:
                continue
            hits, error = analyze(data, matcher, module, is_package)
            if error is not None:
                continue
            for row in rows(hits):
                if len(row) > 7 and row[7] in left:
                    left.discard(row[7])
                    found[(file, row[7])] = (row[5], row[6])
    return found
