"""Fresh-interpreter import probes -> verdicts. Pure core: no pytest import.

The work happens in ``_server.py``, a script run in its own interpreter (see there for
why and how); this module builds its requests and turns its answers into data.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..domain.paths import SsotPath
from ..domain.verdicts import Verdict
from ..errors import FAILED, SsotError

__all__ = ["ProbeError", "SsotProber", "run_tasks", "probe_paths", "probe_task",
           "verdict_from_answer", "death_note", "run_script", "SERVER", "DISCOVER"]

SERVER = Path(__file__).with_name("_server.py")
# the discovery probe (``services.discover``): the canonical's package, module by module
DISCOVER = Path(__file__).with_name("_discover.py")


class ProbeError(RuntimeError, SsotError):
    """The probe machinery itself failed (not the code under probe)."""

    exit_code = FAILED


def run_tasks(tasks: Sequence[dict], *, sys_path: Sequence[str], timeout: float,
              parallel: int | None = None, cwd: str | None = None) -> list[dict]:
    """Send ``tasks`` to one probe server; return its answers in order.

    A task that kills the server itself (``os.kill(os.getppid(), ...)``) costs only its
    own answer: the batch is split in halves and each half asked again, down to the one
    task that kills its server, which is answered ``{"died": ...}`` (a ``broken`` verdict).
    """
    if not tasks:
        return []
    answers, death = _ask_server(tasks, sys_path=sys_path, timeout=timeout,
                                 parallel=parallel, cwd=cwd)
    if answers is None:
        if len(tasks) == 1:
            return [{"died": f"the import killed the probe server ({death})"}]
        mid = len(tasks) // 2
        return [*run_tasks(tasks[:mid], sys_path=sys_path, timeout=timeout,
                           parallel=parallel, cwd=cwd),
                *run_tasks(tasks[mid:], sys_path=sys_path, timeout=timeout,
                           parallel=parallel, cwd=cwd)]
    for a in answers:
        if "internal_error" in a:
            # Our own bug, said loudly, on that path only: the other paths keep their
            # verdicts instead of every check of every contract failing with it.
            a["died"] = "pytest-ssot probe bug (please report it): " + a.pop("internal_error")
    return answers


def _ask_server(tasks: Sequence[dict], *, sys_path: Sequence[str], timeout: float,
                parallel: int | None, cwd: str | None) -> tuple[list[dict] | None, str]:
    """One probe server run: ``(answers, "")``, or ``(None, how it died)``."""
    request = {"tasks": list(tasks), "sys_path": list(sys_path), "timeout": timeout,
               "parallel": parallel or min(8, os.cpu_count() or 1)}
    return run_script(SERVER, request,
                      lambda answers: isinstance(answers, list) and len(answers) == len(tasks),
                      cwd=cwd, env=dict(os.environ))


def run_script(script: Path, request: dict, valid: Callable[[Any], bool], *,
               cwd: str | None = None, env: dict[str, str] | None = None
               ) -> tuple[Any, str]:
    """Run one of the probe scripts (``SERVER``, ``DISCOVER``) on ``request`` (JSON on its
    standard input): ``(answer, "")`` when it printed a JSON answer that is ``valid``,
    else ``(None, how it died)``.

    The script runs in a session of its own, so that a probe killing its process group
    cannot kill us, and so that the whole group (the script, its zygotes, forked probes
    and whatever they started) is killed when we are interrupted or the answer is in:
    no process of ours outlives the call (SPEC 12).
    """
    import signal
    import subprocess  # only when probing: the scan-only command never needs it

    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(request).encode())
    except BaseException:  # KeyboardInterrupt (Ctrl-C), SystemExit, SIGTERM handlers
        _kill_group(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
        raise
    _kill_group(proc.pid, signal.SIGKILL)  # stragglers: daemons a probed module started
    try:
        answer = json.loads(out)
        if not valid(answer):
            raise ValueError("not the answer asked for")
    except ValueError:
        return None, death_note(proc.returncode, err)
    return answer, ""


def death_note(code: int | None, err: bytes) -> str:
    """How a probe process that gave no answer ended, with the end of what it printed."""
    import signal

    how = (f"killed by signal {signal.Signals(-code).name}" if code and code < 0
           and -code in signal.valid_signals() else f"exit code {code}")
    tail = err.decode("utf-8", "replace").strip()[-600:]
    return how + (f"; its last output: {tail}" if tail else "")


def _kill_group(pgid: int, sig: int) -> None:
    killpg = getattr(os, "killpg", None)  # POSIX; elsewhere the server has no group
    if killpg is None:
        return
    try:
        killpg(pgid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass  # the group is gone already: nothing of ours is left


def probe_task(path: SsotPath, *, canonical: SsotPath | None = None,
               categories: Iterable[SsotPath] = (), fresh: bool = False,
               watch: Sequence[str] = (), factory: bool = False) -> dict:
    """The server task that verdicts ``path``. ``factory``: a PEP 702 ``@deprecated``
    mark counts as its warning (factories are not called).

    ``fresh`` skips the shared parent-package process (used for the canonical path, whose
    import time is reported). ``watch``: modules to report in ``loaded`` when present in
    ``sys.modules`` after the path resolved.
    """
    return {
        "kind": "probe", "module": path.module, "attr": path.attr,
        "categories": [str(c) for c in categories],
        "canonical": None if canonical is None else {"module": canonical.module,
                                                     "attr": canonical.attr},
        "preimport": "" if fresh else path.parent_package,
        "watch": list(watch),
        "factory": factory,
    }


def verdict_from_answer(path: SsotPath, answer: dict) -> Verdict:
    if "died" in answer:
        return Verdict(path=str(path), verdict="broken", error=answer["died"])
    return Verdict.from_dict({**answer, "path": str(path)})


def probe_paths(paths: Sequence[SsotPath], *, sys_path: Sequence[str] | None = None,
                timeout: float = 30.0, canonical: SsotPath | None = None,
                categories: Iterable[SsotPath] = ()) -> list[Verdict]:
    """Verdict each path, each in its own fresh interpreter state."""
    cats = list(categories)
    tasks = [probe_task(p, canonical=canonical, categories=cats, fresh=(p == canonical))
             for p in paths]
    answers = run_tasks(tasks, sys_path=sys_path if sys_path is not None else sys.path,
                        timeout=timeout)
    return [verdict_from_answer(p, a) for p, a in zip(paths, answers)]


class SsotProber:
    """What the ``ssot_probe`` fixture returns: probes paths in fresh interpreter states."""

    def __init__(self, *, sys_path: Sequence[str], timeout: float = 30.0) -> None:
        self.sys_path = list(sys_path)
        self.timeout = timeout

    def __call__(self, path: str | SsotPath, *, canonical: str | SsotPath | None = None,
                 deprecation_warnings: Iterable[str] = ()) -> Verdict:
        return self.many([path], canonical=canonical,
                         deprecation_warnings=deprecation_warnings)[0]

    def many(self, paths: Iterable[str | SsotPath], *, canonical: str | SsotPath | None = None,
             deprecation_warnings: Iterable[str] = ()) -> list[Verdict]:
        from ..domain.paths import parse_path

        def as_path(p: str | SsotPath) -> SsotPath:
            return p if isinstance(p, SsotPath) else parse_path(p)

        return probe_paths([as_path(p) for p in paths], sys_path=self.sys_path,
                           timeout=self.timeout,
                           canonical=None if canonical is None else as_path(canonical),
                           categories=[as_path(c) for c in deprecation_warnings])
