"""Builders of small importable projects for the tests."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

# A package exercising every verdict of SPEC 3. ``pkg.canon:Canon`` is canonical.
VERDICT_PACKAGE: dict[str, str] = {
    "pkg/__init__.py": """
        import warnings

        def __getattr__(name):
            if name == "Old":
                warnings.warn("pkg.Old is deprecated; use pkg.canon.Canon", DeprecationWarning, stacklevel=2)
                from pkg.canon import Canon
                return Canon
            if name == "Gone":
                raise ImportError("pkg.Gone was removed; use pkg.canon.Canon")
            if name == "Boom":
                raise RuntimeError("lazy attribute exploded")
            raise AttributeError(name)
    """,
    "pkg/canon.py": "class Canon:\n    pass\n",
    "pkg/shim.py": """
        import warnings
        warnings.warn("pkg.shim is deprecated", DeprecationWarning)
        from pkg.canon import Canon
    """,
    "pkg/silent.py": "from pkg.canon import Canon\n",
    "pkg/second.py": "class Canon:\n    pass\n",
    "pkg/future.py": "import warnings\nwarnings.warn('going away', FutureWarning)\n",
    "pkg/pending.py": "import warnings\nwarnings.warn('soon', PendingDeprecationWarning)\n",
    "pkg/userwarn.py": """
        import warnings
        class MovedWarning(UserWarning):
            pass
        warnings.warn("moved", MovedWarning)
    """,
    "pkg/lazywarn.py": """
        import warnings
        from pkg.canon import Canon as _Canon
        def __getattr__(name):
            if name == "Canon":
                warnings.warn("access pkg.lazywarn.Canon is deprecated", DeprecationWarning)
                return _Canon
            raise AttributeError(name)
    """,
    "pkg/needsdep.py": "import not_installed_dependency_xyz\n",
    "pkg/ownimporterror.py": "raise ImportError('cannot configure the legacy manager')\n",
    "pkg/hang.py": "import time\ntime.sleep(60)\n",
    "pkg/exits.py": "import os\nos._exit(3)\n",
    "pkg/sysexit.py": "raise SystemExit(2)\n",
    "pkg/killed.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "pkg/syntax.py": "x = (\n",
    "pkg/noisy.py": "print('hello from import')\nimport sys\nprint('to stderr', file=sys.stderr)\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/mod.py": "VALUE = 1\n",
    "pkg/brokenparent/__init__.py": "raise RuntimeError('parent package fails')\n",
    "pkg/brokenparent/child.py": "X = 1\n",
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

# A parent whose __getattr__ answers differently once a submodule was imported: probing in
# one shared state would make the answer depend on the order of the probes.
ORDER_PACKAGE: dict[str, str] = {
    "orderpkg/__init__.py": """
        import sys
        def __getattr__(name):
            mod = sys.modules.get(f"{__name__}.{name}")
            if mod is not None:
                return mod
            raise ImportError(f"{name} was removed from orderpkg")
    """,
    "orderpkg/shimsub.py": "X = 1\n",
    "orderpkg/other.py": "Y = 1\n",
}


def device_node(folder: Path) -> Path:
    """A character device a test may point a write at without risk to the machine.

    As root (CI runs as root) a regression could replace /dev/null itself, so root gets
    its own node with /dev/null's numbers inside ``folder``; anyone else cannot replace
    /dev/null and gets it.
    """
    if os.geteuid() != 0:
        return Path(os.devnull)
    node = folder / "devnull"
    if not node.exists():
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return node


def fork_anyway(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Let the scan, history and fix fork workers although this process runs other
    threads (an xdist worker runs execnet's): the tests of the parallel paths need them;
    a user's ``pytest -n`` keeps the walk in one process (``parallel.can_fork``)."""
    import pytest_ssot.parallel as parallel

    monkeypatch.setattr(parallel, "can_fork", lambda: hasattr(os, "fork"))


def count_forks(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """One entry per ``os.fork`` from now on (each fork still happens): a test of a
    parallel path shows that it ran in parallel."""
    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    return forks
