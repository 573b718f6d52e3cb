"""Collected isolation items: ``<file>::isolation-<spec>::<check>``.

Imported only when a ``conftest.py`` registered an ``@isolation_spec``. hypothesis is
imported inside ``runtest``. Every check has a budget a buggy application cannot blow: it
stops at the first proof (a failing trial, state that survives ``reset()``, a loop that
never settles), caps shrinking and replays by time, and runs each schedule with bounded
waits (``runners``).
"""

from __future__ import annotations

import inspect
import os
import random
import shlex
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

from ..isolation import IsolationSpec
from ..isolation.checks import SHOWN_IDS, Finding, short_id
from ..isolation.runners import (FATAL, SpecCalls, SpecError, distinct_and_policy, dry_run,
                      infer_concurrency, run_async, run_threads, shared_state)
from ..isolation.schedules import SCHEDULES, Schedule, ScheduleKind, UserPlan

# the structure checks, then one check per registered schedule
CHECKS = ("distinct-managers", "shared-state", *SCHEDULES)
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


ROWS = 24  # sends shown in a failure's table; the rest are counted


def _table(trace: dict[str, Any] | None) -> str:
    """Who sent what in which order, and who received what: the schedule as it ran."""
    if not trace or not trace.get("sent"):
        return ""
    sent = {s.event_id: s for s in trace["sent"]}
    received = trace.get("received") or {}
    got_by: dict[str, list[str]] = {}
    for uid, ids in received.items():
        for i in ids:
            got_by.setdefault(i, []).append(uid)
    order = [i for i in trace.get("order", []) if i in sent] or list(sent)
    width = max([8] + [len(repr(s.user)) for s in sent.values()])
    lines = [f"  {'#':>3}  {'sent for':<{width}}  {'producer, run':<19}  "
             f"{'event':<20}  received by"]
    for n, i in enumerate(order[:ROWS], 1):
        s = sent[i]
        who = ", ".join(repr(u) for u in got_by.get(i, [])) or "nobody"
        lines.append(f"  {n:>3}  {s.user!r:<{width}}  {s.producer + ', ' + s.run:<19}  "
                     f"{short_id(i) + ' ' + s.event_type:<20}  {who}")
    if len(order) > ROWS:
        lines.append(f"  ... {len(order) - ROWS} more send(s)")
    earlier = False
    for uid in sorted(received)[:ROWS]:
        ids = received[uid]
        shown = ", ".join(short_id(i) + ("" if i in sent else "*") for i in ids[:SHOWN_IDS])
        earlier = earlier or any(i not in sent for i in ids)
        more = f", ... {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
        lines.append(f"  {uid!r} received ({len(ids)}): [{shown}{more}]")
    if earlier:
        lines.append("  (* not sent by this execution: left over from an earlier one)")
    return "\n".join(lines)


def _report(mode: str, findings: list[Finding], schedule: Any = None, extra: str = "",
            trace: dict[str, Any] | None = None) -> str:
    kinds = list(dict.fromkeys(f.kind for f in findings))
    lines = [f"{mode}: {', '.join(kinds)}"]
    for f in findings[:6]:
        lines.append(f"  [{f.kind}] {f.message}")
    if len(findings) > 6:
        lines.append(f"  ... and {len(findings) - 6} more finding(s)")
    if schedule is not None:
        lines.append("  schedule: " + schedule.describe())
        table = _table(trace)
        if table:
            lines.append("  as it ran:\n" + table)
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _plans(schedule: Schedule) -> list[Schedule]:
    """Smaller variants of ``schedule``: a user, a producer, a run or an event fewer,
    no awaits; the greedy shrinker keeps the first that still fails."""
    out: list[Schedule] = []

    def variant(users: list[UserPlan]) -> None:
        out.append(Schedule(users, schedule.single_task, list(schedule.order)))

    users = schedule.users
    if len(users) > 1:
        for i in range(len(users)):
            variant(users[:i] + users[i + 1:])
    for i, u in enumerate(users):
        def with_user(new: UserPlan, i: int = i) -> None:
            variant(users[:i] + [new] + users[i + 1:])

        if len(u.producers) > 1:
            for p in range(len(u.producers)):
                with_user(UserPlan(u.user_id, u.fields, u.producers[:p] + u.producers[p + 1:],
                                   u.yields[:p] + u.yields[p + 1:]))
        for p, runs in enumerate(u.producers):
            def with_runs(new_runs: list[list[str]], p: int = p) -> None:
                n = sum(map(len, new_runs))
                with_user(UserPlan(u.user_id, u.fields,
                                   u.producers[:p] + [new_runs] + u.producers[p + 1:],
                                   u.yields[:p] + [u.yields[p][:n]] + u.yields[p + 1:]))
            if len(runs) > 1:
                for r in range(len(runs)):
                    with_runs(runs[:r] + runs[r + 1:])
            for r, run in enumerate(runs):
                if len(run) > 1:
                    with_runs(runs[:r] + [run[:-1]] + runs[r + 1:])
        if any(any(y) for y in u.yields):
            with_user(UserPlan(u.user_id, u.fields, u.producers,
                               [[0] * len(y) for y in u.yields]))
    if schedule.order:
        out.append(Schedule(users, schedule.single_task, schedule.order[:-1]))
    return out


def _size(schedule: Schedule) -> tuple[int, int]:
    return (len(schedule.users),
            sum(len(r) for u in schedule.users for p in u.producers for r in p))


def shrink(schedule: Schedule, fails: Callable[[Schedule], bool], seconds: float
           ) -> Schedule:
    """Greedy: fewer users, then fewer sends, while ``fails`` says the variant still
    fails; hypothesis' own shrinking may stop early within its budget."""
    until = time.monotonic() + seconds
    improved = True
    while improved and time.monotonic() < until:
        improved = False
        for candidate in sorted(_plans(schedule), key=_size):
            if time.monotonic() >= until:
                break
            if _size(candidate) <= _size(schedule) and fails(candidate):
                schedule, improved = candidate, True
                break
    return schedule


class IsolationFile(pytest.File):
    """The file that registered the spec (usually ``conftest.py``); built by the plugin."""

    def collect(self) -> list[Any]:
        return []


def node_name(spec: str) -> str:
    """The collector of a spec's items: ``isolation-<spec>``. Not ``isolation[<spec>]``:
    with pytest 9.2 and xdist, the id of an item under a name with brackets is reported
    with a stray ``]`` (``isolation[ws]::check]``) in the outcome lines."""
    return f"isolation-{spec}"


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

    header = ""

    def runtest(self) -> None:
        spec = self.spec
        max_users = int(self._opt("ssot_isolation_max_users", 100))
        try:
            calls = SpecCalls(spec.instance())
            manager = dry_run(calls, spec.collidable, spec.same_user, spec.protocol)
            model, why = ((spec.concurrency, "declared") if spec.concurrency
                          else infer_concurrency(manager))
            self.header = f"concurrency: {model} ({why})"
            self.add_report_section("call", "isolation", self.header)
            kind = SCHEDULES.get(self.check)
            if kind is not None and model == kind.skipped_for:
                raise pytest.skip.Exception(
                    kind.skip_reason.format(node=node_name(spec.name), why=why),
                    _use_item_location=True)
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
            elif kind is not None and kind.driver == "hypothesis":
                self._hypothesis(calls, max_users, kind)
            elif kind is not None and kind.driver == "seeded":
                self._threads(calls, max_users, kind, mixed_ok=model == "both")
            else:
                raise AssertionError(f"no driver for the isolation check {self.check!r}")
        except SpecError as exc:
            raise IsolationFailed(self._spec_error(exc)) from None

    def _spec_error(self, exc: SpecError) -> str:
        return (f"spec error: {exc} (spec {self.spec.cls.__name__} in "
                f"{Path(self.spec.file).name})")

    def _budget_note(self, text: str) -> None:
        warnings.warn(pytest.PytestWarning(f"{node_name(self.spec.name)}::{self.check}: {text}"))

    def _replay_command(self, seed: int) -> str:
        where = os.path.relpath(Path(self.spec.file).parent, self.config.invocation_params.dir)
        keyword = f"{self.parent.name} and {self.name}" if self.parent else self.name
        return (f"  replay: pytest {shlex.quote(where)} --hypothesis-seed={seed} "
                f"-k {shlex.quote(keyword)}")

    def _shared_first(self, calls: SpecCalls, findings: list[Finding]) -> list[Finding]:
        """State that survives reset() because every manager holds it (a shared mutable
        default, a class attribute) is reported as the shared value it is, first."""
        if not any(f.kind == "survives-reset" for f in findings):
            return findings
        try:
            shared = shared_state(calls, self.spec.collidable, self.spec.allow_shared,
                                  ["alice", "bob"])
        except SpecError:
            return findings
        for f in shared:
            f.message += ("\n    (a value every manager holds: reset() cannot clear it, "
                          "which is why events of earlier examples arrive too)")
        return shared + findings

    def _conclude(self, calls: SpecCalls, mode: str, schedule: Schedule,
                  run: Callable[[Schedule, dict[str, Any] | None], list[Finding]],
                  findings: list[Finding], seed: int, where: str) -> IsolationFailed:
        """Shrink the failing schedule (fewest users, then sends), replay it, explain."""
        kinds = {f.kind for f in findings}
        if not kinds & FATAL:
            schedule = shrink(schedule, lambda s: bool({f.kind for f in run(s, None)}
                                                       & kinds), SHRINK_SECONDS / 3)
        trace: dict[str, Any] = {}
        # run once more for the table of what happened; never a schedule that hangs or
        # never settles (it would spend its whole bound again)
        last = run(schedule, trace) if not kinds & {"hang", "unsettled"} else []
        if last:
            findings = last
        else:
            trace = {}
        hits = replays = 0
        if not {f.kind for f in findings} & FATAL:
            until = time.monotonic() + REPLAY_SECONDS
            while replays < REPLAYS and time.monotonic() < until:
                again = run(schedule, None)
                replays += 1
                hits += bool(again)
                if any(f.kind in FATAL for f in again):
                    break
        findings = self._shared_first(calls, findings)
        if not replays:
            verdict = "stopped at the first proof (every further schedule proves the same)"
        elif hits == replays:
            verdict = f"replays {hits}/{replays}: deterministic"
        else:
            verdict = f"replays {hits}/{replays}: a race (it depends on timing)"
        return IsolationFailed(_report(
            f"{mode} schedule", findings, schedule,
            f"  {verdict}; {where}\n{self._replay_command(seed)}", trace))

    def _hypothesis(self, calls: SpecCalls, max_users: int, kind: ScheduleKind) -> None:
        from hypothesis import HealthCheck, Phase, given, seed, settings

        examples = self._opt("ssot_isolation_examples", None)
        forced = self.config.getoption("hypothesis_seed", None)
        seed_value = int(forced) if forced is not None else random.randrange(2 ** 31)
        # one failure reported (not an ExceptionGroup of several): the first one found;
        # no blob: "@reproduce_failure" cannot be put on a generated test
        kw: dict[str, Any] = {"deadline": None, "print_blob": False,
                              "report_multiple_bugs": False,
                              # no "explain" phase: it names lines of our runners, not the
                              # application's
                              "phases": [p for p in Phase if p.name != "explain"],
                              "suppress_health_check": list(HealthCheck)}
        if examples is not None:
            kw["max_examples"] = int(examples)
        protocol = self.spec.protocol
        state: dict[str, Any] = {"n": 0, "first": 0, "found_at": 0.0, "schedule": None,
                                 "findings": []}
        start = time.monotonic()

        @seed(seed_value)
        @settings(**kw)
        @given(kind.generate(max_users, protocol, self.spec.collidable, self.spec.user_ids))
        def asyncio_schedules(schedule: Any) -> None:
            state["n"] += 1
            now = time.monotonic()
            if not state["first"] and now - start > SEARCH_SECONDS:
                raise _Stop(f"stopped after {state['n'] - 1} example(s): the time budget of "
                            f"{SEARCH_SECONDS:g} s was spent without a failure", failed=False)
            if state["first"] and now - state["found_at"] > SHRINK_SECONDS:
                raise _Stop("shrinking stopped (budget)")
            try:
                findings = run_async(calls, schedule, protocol)
            except SpecError as exc:
                raise _Stop(self._spec_error(exc)) from None
            if not findings:
                return
            if not state["first"]:
                state["first"], state["found_at"] = state["n"], time.monotonic()
            state["schedule"], state["findings"] = schedule, findings
            if any(f.kind in FATAL for f in findings):
                raise _Stop("fatal")
            raise IsolationFailed("found")

        try:
            asyncio_schedules()
        except _Stop as stop:
            if not stop.failed:
                self._budget_note(stop.text)
                return
            if state["schedule"] is None:
                raise IsolationFailed(stop.text) from None
        except IsolationFailed:
            pass
        except Exception:
            if state["schedule"] is None:
                raise  # not a finding of ours: our own bug, shown as such
            # hypothesis' Flaky: the failing schedule passed when replayed (timing-
            # dependent delivery); the failure seen is still a failure, and replays say so
        if state["schedule"] is None:
            return
        where = (f"found at generated example {state['first']} (after "
                 f"{state['found_at'] - start:.1f} s) with seed {seed_value}")
        raise self._conclude(calls, "asyncio", state["schedule"],
                             lambda s, trace: run_async(calls, s, protocol, trace),
                             state["findings"], seed_value, where)

    def _threads(self, calls: SpecCalls, max_users: int, kind: ScheduleKind,
                 mixed_ok: bool = True) -> None:
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
            schedule = kind.generate(rng, max_users, protocol, self.spec.collidable,
                                     self.spec.user_ids)
            workers = max(2, min(8, len(schedule.users) - 1))
            # odd trials: threads that each run several async tasks
            mixed = mixed_ok and trial % 2 == 1
            findings = run_threads(calls, schedule, protocol, same_user, workers, mixed)
            if not findings:
                continue
            mode = "mixed threads and asyncio" if mixed else "thread"
            where = f"trial {trial} of seed {seed}, after {time.monotonic() - start:.1f} s"
            raise self._conclude(
                calls, mode, schedule,
                lambda s, trace: run_threads(calls, s, protocol, same_user, workers, mixed,
                                             trace),
                findings, seed, where)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        exc = excinfo.value
        if isinstance(exc, IsolationFailed):
            # hypothesis' notes (the falsifying example, @reproduce_failure) are left
            # out: the report shows the schedule and the command that replays it
            head = f" ({self.header})" if self.header else ""
            text = exc.text
            first, _, rest = text.partition("\n")
            return f"[isolation {self.spec.name}] {first}{head}" + (f"\n{rest}" if rest else "")
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        # the spec class's line: a skip is shown where the spec is, not in our items.py
        try:
            line: int | None = inspect.getsourcelines(self.spec.cls)[1] - 1
        except (OSError, TypeError):
            line = 0
        return self.path, line, f"isolation {self.spec.name}: {self.check}"


def build_items(session: pytest.Session, registry: dict[str, IsolationSpec]) -> list[Any]:
    items: list[Any] = []
    files: dict[str, IsolationFile] = {}
    for spec in registry.values():
        path = Path(spec.file)
        parent = files.get(spec.file)
        if parent is None:
            parent = files[spec.file] = IsolationFile.from_parent(session, path=path)
        node = IsolationNode.from_parent(parent, name=node_name(spec.name))
        for check in CHECKS:
            items.append(IsolationItem.from_parent(node, name=check, spec=spec, check=check))
    return items
