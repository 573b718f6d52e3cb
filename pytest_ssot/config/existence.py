"""Whether a module path ever existed in the project (SPEC 12, issue 22 item 4): an absent
legacy or factory path passes because it was removed; one that never existed (a typo)
checks nothing, and is a configuration error with the closest real names.

Pure: no pytest. Looks at the working tree under the project's source roots and, when the
project is in a git repository, at every path git history ever added (one bounded
``git log``, run only for a path the working tree does not explain).
"""

from __future__ import annotations

import difflib
import functools
import os
import subprocess
import threading
from pathlib import Path
from typing import Iterable

__all__ = ["never_existed", "attribute_never_existed", "misspelled"]

_GIT_TIMEOUT = 15.0
_GIT_LIMIT = 64 * 1024 * 1024  # bytes of `git log` output read at most


def _source_roots(root: Path, sys_path: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for entry in [str(root), str(root / "src"), *sys_path]:
        try:
            p = Path(entry or ".").resolve()
            p.relative_to(root.resolve())
        except (OSError, ValueError):
            continue
        if p.is_dir() and p not in out:
            out.append(p)
    return out


def _in_tree(parts: list[str], roots: list[Path]) -> bool | None:
    """``True``: the module is there (a file, an extension, a package or a folder);
    ``None``: its top-level package is not the project's (nothing can be said)."""
    top_known = False
    for r in roots:
        if (r / parts[0]).is_dir() or (r / f"{parts[0]}.py").is_file():
            top_known = True
        for k in range(1, len(parts) + 1):
            base = r.joinpath(*parts[:k])
            if k == len(parts) and (base.is_dir() or any(base.parent.glob(f"{parts[-1]}.*"))):
                return True
            if k < len(parts) and not base.is_dir():
                break
    return False if top_known else None


def _git_env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "LANGUAGE": "C"}  # git's messages, untranslated


def _no_repository(stderr: str) -> bool:
    """git failed because there is no repository (nothing was ever committed), not
    because it refused one (``detected dubious ownership``: another user's checkout) or
    broke: only then is the working tree the whole story."""
    return "not a git repository" in stderr


def _read_git(args: list[str], root: Path) -> bytes | None:
    """git's output when it ran to success within 15 s and 64 MB; ``None`` otherwise (it
    could not start, failed, was cut off or killed): half a history proves nothing."""
    try:
        proc = subprocess.Popen(["git", *args], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=_git_env())
    except OSError:
        return None
    timer = threading.Timer(_GIT_TIMEOUT, proc.kill)  # a huge history: stop reading
    timer.start()
    try:
        data = proc.stdout.read(_GIT_LIMIT) if proc.stdout else b""
        status = proc.wait() if len(data) < _GIT_LIMIT else None
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return data if status == 0 else None


@functools.lru_cache(maxsize=8)
def _git_paths(root: Path) -> tuple[set[str], str] | None | bool:
    """Every file path git history ever added, and ``root``'s prefix in the repository;
    ``None`` without git; ``False`` when the history could not be read whole within 64 MB
    and 15 s (then nothing can be said: never a configuration error from half a history)."""
    try:
        prefix = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=root,
                                capture_output=True, text=True, timeout=_GIT_TIMEOUT,
                                env=_git_env())
        if prefix.returncode != 0:
            return None if _no_repository(prefix.stderr) else False
    except (OSError, subprocess.SubprocessError):
        return None
    data = _read_git(["-c", "core.quotePath=false", "log", "--all", "--no-renames",
                      "--diff-filter=A", "--name-only", "--format="], root)
    if data is None:
        return False
    return set(data.decode("utf-8", "replace").splitlines()), prefix.stdout.strip()


def _in_history(parts: list[str], roots: list[Path], root: Path,
                history: "tuple[set[str], str] | bool") -> bool:
    paths, prefix = history  # type: ignore[misc]
    for r in roots:
        rel = r.relative_to(root.resolve()).as_posix()
        base = "/".join(p for p in (prefix.rstrip("/"), "" if rel == "." else rel) if p)
        stem = "/".join(([base] if base else []) + parts)
        if any(p.startswith(stem + "/") or p.startswith(stem + ".") for p in paths):
            return True
    return False


def _neighbours(parts: list[str], roots: list[Path]) -> list[str]:
    """Dotted names of the modules and packages beside the deepest existing parent."""
    names: set[str] = set()
    for r in roots:
        for k in range(len(parts) - 1, -1, -1):
            folder = r.joinpath(*parts[:k])
            if not folder.is_dir():
                continue
            prefix = ".".join(parts[:k])
            try:
                entries = list(folder.iterdir())[:5000]
            except OSError:
                break
            for e in entries:
                name = e.name[:-3] if e.name.endswith(".py") else e.name if e.is_dir() else ""
                if name.isidentifier() and not name.startswith("__"):
                    names.add(f"{prefix}.{name}" if prefix else name)
            break
    return sorted(names)


def _close(module: str, names: list[str], expected: Iterable[str]) -> list[str]:
    """The real names ``module`` is a near typo of, but for those ``expected`` there (a
    path inside an expected module, ``pkg.canon.make_canno``, keeps it: that is no
    sibling of the canonical but a name written as a module)."""
    expected = [e for e in expected if not module.startswith(e + ".")]
    return [n for n in difflib.get_close_matches(module, names, n=3, cutoff=0.6)
            if not any(n == e or e.startswith(n + ".") or n.startswith(e + ".")
                       for e in expected)]


def never_existed(module: str, root: Path, sys_path: Iterable[str],
                  expected: Iterable[str] = ()) -> list[str] | None:
    """``None`` when ``module`` exists or existed (or nothing can be said: a module of
    another distribution, or no git history and no near real name); else the closest
    real names (possibly none when git history says it never existed). A name in
    ``expected`` (the contract's canonical module), its package or a submodule, is never
    offered as the real one: ``lib.v1`` beside ``lib.v2`` is a migration, not a typo."""
    parts = module.split(".")
    roots = _source_roots(root, sys_path)
    found = _in_tree(parts, roots)
    if found is not False:
        return None
    history = _git_paths(root)
    if history is False or history and _in_history(parts, roots, root, history):
        return None
    close = _close(module, _neighbours(parts, roots), expected)
    # Without git nothing tells a removed path from a typo: only a near real name (the
    # typo whose real path stays) is an error; a path deleted in a project without git
    # history is absent, as the adoption walkthrough's last step expects.
    return close if history is not None or close else None


def misspelled(module: str, root: Path, sys_path: Iterable[str],
               expected: Iterable[str] = ()) -> list[str] | None:
    """For the static scan, which probes nothing: the real names a declared module path is
    a near typo of, when it never existed; ``None`` when nothing can be said safely.

    Stricter than ``never_existed`` (asked only once a probe found the path absent): only
    a module whose package is a regular package of the project (an ``__init__.py`` that
    does not touch ``__path__``: no other distribution can add modules to it; a namespace
    package can be shared with one), whose name that ``__init__.py`` does not spell (a
    module served by ``sys.modules`` or a package ``__getattr__``, with no file of its
    own), and which is next to a real name (git history is read only then). A close name
    that is one of ``expected`` (the contract's canonical module: ``lib.v1`` beside
    ``lib.v2`` is how a migration looks), or its package or submodule, is no evidence."""
    parts = module.split(".")
    roots = _source_roots(root, sys_path)
    if len(parts) < 2 or _in_tree(parts, roots) is not False:
        return None
    inits = [r.joinpath(*parts[:-1], "__init__.py") for r in roots]
    inits = [i for i in inits if i.is_file()]
    if not inits or any(_package_may_serve(i, parts[-1]) for i in inits):
        return None
    close = _close(module, _neighbours(parts, roots), expected)
    if not close:
        return None
    history = _git_paths(root)
    if history is False or history and _in_history(parts, roots, root, history):
        return None
    return close


def _package_may_serve(init: Path, name: str) -> bool:
    """Can the package serve ``name`` without a file of its own: it spells the name, or
    extends its ``__path__`` (``pkgutil.extend_path``); an unreadable one may too."""
    import re

    try:
        with init.open("rb") as fh:
            text = fh.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return True
    return "__path__" in text or re.search(rf"\b{re.escape(name)}\b", text) is not None


def _git_text(root: Path, rel: str) -> str | None:
    """Every version of one file in git history as one patch text; ``None`` without git
    or when it could not be read whole (15 s, 64 MB)."""
    data = _read_git(["log", "--all", "--format=", "-p", "--", rel], root)
    return None if data is None else data.decode("utf-8", "replace")


def attribute_never_existed(module: str, attr: str, root: Path, sys_path: Iterable[str]
                            ) -> list[str] | None:
    """For ``module:attr`` whose module is there and has no ``attr``: ``None`` when the
    name is spelled in the module's file now or in any version git history holds (or
    nothing can be said: no file of the project, an unreadable history); else the
    closest names the file spells, as ``module:name``."""
    import re

    parts = module.split(".")
    for r in _source_roots(root, sys_path):
        base = r.joinpath(*parts)
        for file in (base.with_name(parts[-1] + ".py"), base / "__init__.py"):
            if not file.is_file():
                continue
            try:
                with file.open("rb") as fh:
                    text = fh.read(4 * 1024 * 1024).decode("utf-8", "replace")
            except OSError:
                return None
            word = re.compile(rf"\b{re.escape(attr)}\b")
            if word.search(text):
                return None  # spelled there (a __getattr__ table, a string): may serve it
            try:
                asked = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"],
                                       cwd=root, capture_output=True, text=True,
                                       timeout=_GIT_TIMEOUT, env=_git_env())
            except (OSError, subprocess.SubprocessError):
                return None
            if asked.returncode != 0 and not _no_repository(asked.stderr):
                return None  # a repository git refuses: its history cannot be read
            inside = asked.stdout.strip() == "true"
            if inside:
                past = _git_text(file.parent, file.name)
                if past is None or word.search(past):
                    return None
            names = {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
            close = difflib.get_close_matches(attr, sorted(names), n=3, cutoff=0.6)
            if not inside and not close:
                return None  # no history, no near name: removed or not, nothing to say
            return [f"{module}:{name}" for name in close]
    return None
