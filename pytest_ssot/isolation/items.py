"""Collected isolation items: ``<file>::isolation[<spec>]::<check>``.

Imported only when a ``conftest.py`` registered an ``@isolation_spec``. hypothesis is
imported inside ``runtest``. Every check has a budget a buggy application cannot blow: it
stops at the first proof (a failing trial, state that survives ``reset()``, a loop that
never settles), caps shrinking and replays by time, and runs each schedule with bounded
waits (``runners``).
"""

from __future__ import annotations

import random
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from . import IsolationSpec
from .checks import Finding
from .runners import (FATAL, SpecCalls, SpecError, distinct_and_policy, run_async,
                      run_threads, shared_state)
from .schedules import random_schedule, schedules

CHECKS = ("distinct-managers", "shared-state", "asyncio-schedules", "thread-schedules")
SEARCH_SECONDS = 60.0  # generating examples (or thread trials) without a failure
SHRINK_SECONDS = 30.0  # shrinking a failure found; then the smallest schedule so far
REPLAYS, REPLAY_SECONDS = 20, 5.0  # re-runs of a failing thread schedule (its rate)


class IsolationFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _Stop(BaseException):
    """Leaves hypothesis at once (it treats only ``Exception`` as a failure to shrink)."""

    def __init__(self, text: str, failed: bool = True) -> None:
        super().__init__(text)
        self.text = text
        self.failed = failed


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
        max_users = int(self._opt("ssot_isolation_max_users", 100))
        try:
            calls = SpecCalls(spec.instance())
            if self.check == "distinct-managers":
                ids = [f"user-{random.Random(7).randrange(10**6)}-{i}" for i in range(4)]
                findings = distinct_and_policy(calls, spec.collidable, spec.same_user, ids)
                if findings:
                    raise IsolationFailed(_report("distinct managers", findings))
            elif self.check == "shared-state":
                findings = shared_state(calls, spec.collidable, spec.allow_shared,
                                        ["alice", "bob"])
                if findings:
                    raise IsolationFailed(_report("shared state", findings))
            elif self.check == "asyncio-schedules":
                self._hypothesis(calls, max_users)
            else:
                self._threads(calls, max_users)
        except SpecError as exc:
            raise IsolationFailed(self._spec_error(exc)) from None

    def _spec_error(self, exc: SpecError) -> str:
        return (f"spec error: {exc} (spec {self.spec.cls.__name__} in "
                f"{Path(self.spec.file).name})")

    def _budget_note(self, text: str) -> None:
        warnings.warn(pytest.PytestWarning(f"isolation[{self.spec.name}]::{self.check}: {text}"))

    def _hypothesis(self, calls: SpecCalls, max_users: int) -> None:
        from hypothesis import HealthCheck, Phase, given, settings

        examples = self._opt("ssot_isolation_examples", None)
        # one failure reported (not an ExceptionGroup of several): the first one found
        kw: dict[str, Any] = {"deadline": None, "print_blob": True,
                              "report_multiple_bugs": False,
                              # no "explain" phase: it names lines of our runners, not the
                              # application's
                              "phases": [p for p in Phase if p.name != "explain"],
                              "suppress_health_check": list(HealthCheck)}
        if examples is not None:
            kw["max_examples"] = int(examples)
        protocol = self.spec.protocol
        state: dict[str, Any] = {"n": 0, "first": 0, "found_at": 0.0, "after": "",
                                 "last": ""}
        start = time.monotonic()

        @settings(**kw)
        @given(schedules(max_users, protocol, self.spec.collidable))
        def asyncio_schedules(schedule: Any) -> None:
            state["n"] += 1
            now = time.monotonic()
            if not state["first"] and now - start > SEARCH_SECONDS:
                raise _Stop(f"stopped after {state['n'] - 1} example(s): the time budget of "
                            f"{SEARCH_SECONDS:g} s was spent without a failure", failed=False)
            if state["first"] and now - state["found_at"] > SHRINK_SECONDS:
                raise _Stop(state["last"] + f"\n  shrinking stopped after {SHRINK_SECONDS:g} "
                            "s (budget): this is the smallest failing schedule found so far")
            try:
                findings = run_async(calls, schedule, protocol)
            except SpecError as exc:
                raise _Stop(self._spec_error(exc)) from None
            if not findings:
                return
            text = _report("asyncio schedule", findings, schedule)
            if any(f.kind in FATAL for f in findings):
                if state["first"]:
                    text += ("\n  (found while shrinking; the first failure, at example "
                             f"{state['first']}, was:)\n" + state["last"])
                raise _Stop(text + f"\n  stopped at example {state['n']} (after "
                            f"{time.monotonic() - start:.1f} s): every further schedule "
                            "would prove the same")
            if not state["first"]:
                state["first"], state["found_at"] = state["n"], time.monotonic()
                state["after"] = f"{state['found_at'] - start:.1f} s"
            state["last"] = text
            raise IsolationFailed(text)

        try:
            asyncio_schedules()
        except _Stop as stop:
            if stop.failed:
                raise IsolationFailed(stop.text) from None
            self._budget_note(stop.text)
        except IsolationFailed as exc:
            exc.text += (f"\n  found at generated example {state['first']} (after "
                         f"{state['after']}), then shrunk to this schedule in "
                         f"{state['n'] - state['first']} more run(s)")
            raise
        except Exception:
            if not state["last"]:
                raise  # not a finding of ours: our own bug, shown as such
            # hypothesis' Flaky: the failing schedule passed when replayed (delivery that
            # depends on timing); the failure seen is still a failure
            raise IsolationFailed(
                state["last"] + f"\n  found at generated example {state['first']}; it did "
                "not fail again when replayed (timing-dependent delivery), so it is shown "
                "as last seen") from None

    def _threads(self, calls: SpecCalls, max_users: int) -> None:
        trials = int(self._opt("ssot_isolation_thread_trials", 30))
        seed = self.config.getoption("hypothesis_seed", None)
        seed = int(seed) if seed is not None else 20261121
        protocol = self.spec.protocol
        same_user = self.spec.same_user
        start = time.monotonic()
        for trial in range(trials):
            if time.monotonic() - start > SEARCH_SECONDS:
                self._budget_note(f"stopped after {trial} of {trials} trial(s): the time "
                                  f"budget of {SEARCH_SECONDS:g} s was spent without a failure")
                return
            rng = random.Random(seed + trial)
            schedule = random_schedule(rng, max_users, protocol, self.spec.collidable)
            workers = max(2, min(8, len(schedule.users) - 1))
            mixed = trial % 2 == 1  # odd trials: threads that each run several async tasks
            findings = run_threads(calls, schedule, protocol, same_user, workers, mixed)
            if not findings:
                continue
            mode = "mixed threads and asyncio" if mixed else "thread"
            where = (f"trial {trial} of seed {seed}, after {time.monotonic() - start:.1f} s "
                     f"(pass --hypothesis-seed={seed} to replay)")
            if any(f.kind in FATAL for f in findings):
                raise IsolationFailed(_report(f"{mode} schedule", findings, schedule,
                                              f"  stopped at the first proof: {where}"))
            hits = replays = 0
            until = time.monotonic() + REPLAY_SECONDS
            while replays < REPLAYS and time.monotonic() < until:
                again = run_threads(calls, schedule, protocol, same_user, workers, mixed)
                replays += 1
                hits += bool(again)
                if any(f.kind in FATAL for f in again):
                    break  # a replay that leaks proves nothing more about the rate
            raise IsolationFailed(_report(
                f"{mode} schedule (a race: threads cannot be shrunk)", findings, schedule,
                f"  replay rate: {hits}/{replays} re-runs of this schedule failed; {where}"))

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
