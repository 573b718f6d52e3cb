"""Collected isolation items: ``<file>::isolation[<spec>]::<check>``.

Imported only when a ``conftest.py`` registered an ``@isolation_spec``. hypothesis is
imported inside ``runtest``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from . import (IsolationSpec, distinct_and_policy, random_schedule, run_async, run_threads,
               schedules, shared_state)
from .checks import Finding

CHECKS = ("distinct-managers", "shared-state", "asyncio-schedules", "thread-schedules")


class IsolationFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _report(mode: str, findings: list[Finding], schedule: Any = None, extra: str = "") -> str:
    kinds = sorted({f.kind for f in findings})
    lines = [f"{mode}: {', '.join(kinds)}"]
    for f in findings[:6]:
        lines.append(f"  [{f.kind}] {f.message}")
    if len(findings) > 6:
        lines.append(f"  ... and {len(findings) - 6} more finding(s)")
    if schedule is not None:
        lines.append("  schedule: " + schedule.describe())
    if extra:
        lines.append(extra)
    return "\n".join(lines)


class IsolationFile(pytest.File):
    """The file that registered the spec (usually ``conftest.py``); built by the plugin."""

    def collect(self) -> list[Any]:
        return []


class IsolationNode(pytest.Collector):
    def collect(self) -> list[Any]:
        return []


class IsolationItem(pytest.Item):
    """One generated isolation check of one spec. Runs in the test's own process."""

    def __init__(self, *, spec: IsolationSpec, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check
        self.add_marker("ssot")
        self.add_marker("ssot_isolation")

    def _opt(self, name: str, default: Any) -> Any:
        value = self.config.getoption(name, None)
        return default if value is None else value

    def runtest(self) -> None:
        spec = self.spec
        inst = spec.instance()
        max_users = int(self._opt("ssot_isolation_max_users", 100))
        if self.check == "distinct-managers":
            ids = [f"user-{random.Random(7).randrange(10**6)}-{i}" for i in range(4)]
            findings = distinct_and_policy(inst, spec, ids)
            if findings:
                raise IsolationFailed(_report("distinct managers", findings))
        elif self.check == "shared-state":
            findings = shared_state(inst, spec, ["alice", "bob"])
            if findings:
                raise IsolationFailed(_report("shared state", findings))
        elif self.check == "asyncio-schedules":
            self._hypothesis(inst, max_users)
        else:
            self._threads(inst, max_users)

    def _hypothesis(self, inst: Any, max_users: int) -> None:
        from hypothesis import HealthCheck, given, settings

        examples = self._opt("ssot_isolation_examples", None)
        kw: dict[str, Any] = {"deadline": None, "print_blob": True,
                              "suppress_health_check": list(HealthCheck)}
        if examples is not None:
            kw["max_examples"] = int(examples)
        protocol = self.spec.protocol

        calls = {"n": 0, "first": 0}

        @settings(**kw)
        @given(schedules(max_users, protocol, self.spec.collidable))
        def asyncio_schedules(schedule: Any) -> None:
            calls["n"] += 1
            findings = run_async(inst, schedule, protocol)
            if findings:
                calls["first"] = calls["first"] or calls["n"]
                raise IsolationFailed(_report("asyncio schedule", findings, schedule))

        try:
            asyncio_schedules()
        except IsolationFailed as exc:
            exc.text += (f"\n  found at generated example {calls['first']}, then shrunk to "
                         f"this schedule in {calls['n'] - calls['first']} more run(s)")
            raise

    def _threads(self, inst: Any, max_users: int) -> None:
        trials = int(self._opt("ssot_isolation_thread_trials", 30))
        seed = self.config.getoption("hypothesis_seed", None)
        seed = int(seed) if seed is not None else 20261121
        protocol = self.spec.protocol
        for trial in range(trials):
            rng = random.Random(seed + trial)
            schedule = random_schedule(rng, max_users, protocol, self.spec.collidable)
            workers = max(2, min(8, len(schedule.users) - 1))
            mixed = trial % 2 == 1  # odd trials: threads that each run several async tasks
            findings = run_threads(inst, schedule, protocol, self.spec.same_user, workers,
                                   mixed)
            if not findings:
                continue
            replays = 20
            hits = sum(bool(run_threads(inst, schedule, protocol, self.spec.same_user,
                                        workers, mixed)) for _ in range(replays))
            mode = "mixed threads and asyncio" if mixed else "thread"
            raise IsolationFailed(_report(
                f"{mode} schedule (a race: threads cannot be shrunk)", findings, schedule,
                f"  replay rate: {hits}/{replays} re-runs of this schedule failed; trial "
                f"{trial} of seed {seed} (pass --hypothesis-seed={seed} to replay)"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        exc = excinfo.value
        if isinstance(exc, IsolationFailed):
            notes = "\n".join(getattr(exc, "__notes__", []))
            return f"[isolation {self.spec.name}] {exc.text}" + (f"\n{notes}" if notes else "")
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"isolation {self.spec.name}: {self.check}"


def build_items(session: pytest.Session, registry: dict[str, IsolationSpec]) -> list[Any]:
    items: list[Any] = []
    files: dict[str, IsolationFile] = {}
    for spec in registry.values():
        path = Path(spec.file)
        parent = files.get(spec.file)
        if parent is None:
            parent = files[spec.file] = IsolationFile.from_parent(session, path=path)
        node = IsolationNode.from_parent(parent, name=f"isolation[{spec.name}]")
        for check in CHECKS:
            items.append(IsolationItem.from_parent(node, name=check, spec=spec, check=check))
    return items
