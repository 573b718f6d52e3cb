"""Per-user isolation: the pure checks, the bug corpus found, the correct manager passes."""

from __future__ import annotations

import ast
import asyncio
import importlib
import logging
import random
import re
import sys
import threading
import types
from typing import Any

import pytest

from isolation_corpus import BUGS, CONFTEST, CORRECT, CORRECT_APPS
from pytest_ssot.isolation import (DEFAULT_PROTOCOL, Schedule, SpecError, UserPlan,
                                   random_schedule, run_async, run_threads, runners,
                                   schedules)
from pytest_ssot.isolation.checks import Sent, shared_objects, verify_delivery
from pytest_ssot.isolation.runners import SpecCalls

KINDS = re.compile(r"\[(cross-delivery|lost|duplicate|reordered|protocol|split-manager|"
                   r"shared-state|shared-manager|same-user-policy|survives-reset)\]")


class _M:
    def __init__(self, outbox: list, log: logging.Logger, lock: object) -> None:
        self.outbox = outbox
        self.log = log
        self.lock = lock
        self.own = {"pending": []}


class Pool:
    def __init__(self) -> None:
        self.connections: list = []


def test_shared_objects_reports_paths_and_skips_the_harmless() -> None:
    shared = []
    log = logging.getLogger("x")
    lock = threading.Lock()
    a, b = _M(shared, log, lock), _M(shared, log, lock)
    assert shared_objects(a, b) == [("manager.outbox", "manager.outbox", "list")]
    assert shared_objects(_M([], log, lock), _M([], log, lock)) == []
    pool = Pool()
    a.own["pool"] = b.own["pool"] = pool
    a.outbox = []
    found = shared_objects(a, b)
    # the outermost shared object: what it holds is shared with it (issue 23)
    assert found == [("manager.own['pool']", "manager.own['pool']", "Pool")]
    assert shared_objects(a, b, allow=[Pool]) == []
    assert shared_objects(a, b, allow=[lambda o: isinstance(o, Pool)]) == []


def _sent(*items: tuple[str, str, str]) -> list[Sent]:
    return [Sent(user, producer, eid, "agent_started") for user, producer, eid in items]


@pytest.mark.parametrize("received, kinds", [
    ({"a": ["e1", "e2"], "b": ["e3"]}, set()),
    ({"a": ["e1", "e2", "e3"], "b": []}, {"cross-delivery", "lost"}),
    ({"a": ["e1"], "b": ["e3"]}, {"lost"}),
    ({"a": ["e1", "e2", "e2"], "b": ["e3"]}, {"duplicate"}),
    ({"a": ["e2", "e1"], "b": ["e3"]}, {"reordered"}),
    ({"a": ["e1", "e2", "x9"], "b": ["e3"]}, {"cross-delivery"}),
])
def test_verify_delivery(received: dict, kinds: set) -> None:
    sent = _sent(("a", "run0", "e1"), ("a", "run0", "e2"), ("b", "run0", "e3"))
    assert {f.kind for f in verify_delivery(sent, received)} == kinds


def test_two_producers_may_interleave() -> None:
    sent = _sent(("a", "run0", "e1"), ("a", "run1", "e2"), ("a", "run0", "e3"))
    assert verify_delivery(sent, {"a": ["e2", "e1", "e3"]}) == []


def project(pytester: pytest.Pytester, app: str) -> None:
    pytester.makepyfile(app=app)
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\npythonpath = .\n")


def test_correct_manager_passes(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    project(pytester, CORRECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *xdist_args)
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    for check in ("distinct-managers", "shared-state", "asyncio-schedules", "thread-schedules"):
        assert f"PASSED conftest.py::isolation-corpus::{check}" in out


# The bugs of issue 16 run in-process here (test_corpus_bugs_are_found_with_the_protocol_
# declared); all of them, with and without a protocol, over 20 seeds: the benchmark.
IN_PROCESS_ONLY = {"cross_user_batch_reordered", "queue_drops_under_concurrency"}


@pytest.mark.parametrize("bug", sorted(set(BUGS) - IN_PROCESS_ONLY))
def test_every_corpus_bug_is_found(pytester: pytest.Pytester, bug: str) -> None:
    _, source, expected = BUGS[bug]
    project(pytester, source)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 1, out[-3000:]
    found = set(KINDS.findall(out))
    assert found & expected, (found, expected)
    assert "[isolation corpus]" in out  # our explanation, not a bare traceback
    if bug == "class_level_state":  # stopped at the first proof, not grown without bound
        assert "state survives reset: user" in out and "stopped at" in out


def test_failure_output_is_actionable(pytester: pytest.Pytester) -> None:
    project(pytester, BUGS["current_user_after_await"][1])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "asyncio")
    out = result.stdout.str()
    assert "[isolation corpus] asyncio schedule: " in out
    assert re.search(r"\[cross-delivery\] user '\w+' received e\d+ \(\w+\) sent for user", out)
    assert "schedule: " in out and "user(s)" in out  # the shrunk schedule
    assert "@reproduce_failure" not in out  # cannot be put on a generated test
    assert re.search(r"replay: pytest \. --hypothesis-seed=\d+ -k 'isolation-corpus and "
                     r"asyncio-schedules'", out)
    assert re.search(r"replays \d+/\d+: (deterministic|a race)", out)
    assert "received by" in out  # the table of the schedule as it ran


def test_thread_race_reports_a_replay_rate(pytester: pytest.Pytester) -> None:
    project(pytester, BUGS["check_then_act_race"][1])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "thread")
    result.stdout.fnmatch_lines([
        "*[[]isolation corpus[]] *schedule: *",
        "*replays */*: *; trial * of seed *",
        "*replay: pytest . --hypothesis-seed=* -k 'isolation-corpus and thread-schedules'"])


def test_settings_are_overridable(pytester: pytest.Pytester) -> None:
    project(pytester, CORRECT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ssot-isolation-examples=5", "--ssot-isolation-max-users=1",
        "--ssot-isolation-thread-trials=2", "--hypothesis-seed=1")
    result.assert_outcomes(passed=4)  # one user is legal: its producers still race


def test_incomplete_spec_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from pytest_ssot.isolation import isolation_spec

        @isolation_spec("broken")
        class Spec:
            def make_user(self, user_id):
                return user_id
    """)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    result.stderr.fnmatch_lines(["ERROR: isolation_spec 'broken' (*conftest.py:*): the class "
                                 "must define manager, send, received, reset*"])


@pytest.mark.parametrize("bug", ["current_user_after_await", "class_level_state",
                                 "duplicated_on_concurrent_flush"])
def test_async_failures_shrink_to_a_small_schedule(pytester: pytest.Pytester, bug: str) -> None:
    project(pytester, BUGS[bug][1])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "asyncio",
                                           "--hypothesis-seed=3")
    out = result.stdout.str()
    m = re.search(r"schedule: (\d+) user\(s\)", out)
    assert m, out[-2000:]
    # issue 23: hypothesis' shrinking stopped at 3 users / 6 sends; the greedy pass after
    # it reaches the fewest users and sends that still fail
    assert int(m.group(1)) <= 2, out[-2000:]
    runs = [ast.literal_eval(r) for r in re.findall(r"run \d+: (\[[^\]]*\])", out)]
    assert runs and sum(map(len, runs)) <= 3, out[-2000:]


def test_mixed_mode_runs_on_the_correct_manager(pytester: pytest.Pytester,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(app=CORRECT)
    monkeypatch.syspath_prepend(str(pytester.path))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    app = importlib.import_module("app")

    class Spec:
        def make_user(self, user_id: str, thread_id: str) -> object:
            return app.User(user_id, thread_id)

        def manager(self, user: object) -> object:
            return app.get_manager(user)

        async def send(self, user: object, event: dict) -> None:
            await app.send(user, event)

        def received(self, user: object) -> list:
            return app.received(user)

        def reset(self) -> None:
            app.reset()

    for seed in range(5):
        schedule = random_schedule(random.Random(seed), 12, None, ("thread_id",))
        assert run_threads(Spec(), schedule, None, "same", 3, mixed=True) == []
    monkeypatch.delitem(sys.modules, "app", raising=False)


def test_narrow_runs_leave_isolation_items_out(pytester: pytest.Pytester) -> None:
    project(pytester, CORRECT)
    pytester.makepyfile(test_one="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_one.py")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-m", "ssot_isolation",
                                           "--ssot-isolation-examples=5",
                                           "--ssot-isolation-thread-trials=2")
    result.assert_outcomes(passed=4, deselected=1)


# --------------------------------------------------------------------------- issue 16
# In-process tests drive the runners directly (cheap); a few pytester runs check what a
# user sees. The full sweep (every corpus app, 20 seeds, with and without a protocol) is
# benchmarks/isolation_corpus.py: the suite runs this representative subset.


def _app(source: str) -> types.ModuleType:
    """A corpus ``app.py`` as a fresh module object (no ``sys.modules`` entry to leak)."""
    module = types.ModuleType("app")
    # dont_inherit: this file's ``from __future__ import annotations`` is not the app's
    exec(compile(source, "app.py", "exec", dont_inherit=True), module.__dict__)
    return module


def _spec(app: types.ModuleType, **extra: Any) -> Any:
    attrs: dict[str, Any] = {
        "make_user": lambda self, user_id, thread_id: app.User(user_id, thread_id),
        "manager": lambda self, user: app.get_manager(user),
        "send": lambda self, user, event: app.send(user, event),
        "received": lambda self, user: app.received(user),
        "reset": lambda self: app.reset(),
    }
    if hasattr(app, "drain"):
        attrs["drain"] = lambda self: app.drain()
    attrs.update(extra)
    return type("Spec", (), attrs)()


def _one_user(*runs: list[str], producers: int = 1, awaits: int = 0) -> Schedule:
    n = sum(map(len, runs))
    return Schedule([UserPlan("u1", {"thread_id": "t"}, [list(runs)] * producers,
                              [[awaits] * n] * producers)])


def test_a_protocol_shapes_runs_never_the_amount_of_interleaving() -> None:
    from hypothesis import Phase, given, settings

    strategy = schedules(100, DEFAULT_PROTOCOL, ("thread_id",))
    seen: dict[str, int] = dict.fromkeys(
        ("back-to-back runs, no await", "3 producers of one user", "few users, 6+ runs",
         "10+ users"), 0)

    def runs(s: Schedule) -> list[list[str]]:
        return [r for u in s.users for p in u.producers for r in p]

    @settings(max_examples=60, database=None, derandomize=True, phases=[Phase.generate])
    @given(strategy)
    def shapes(s: Schedule) -> None:
        # every run follows the protocol's order (a prefix: a run may stop early)
        assert all(r == list(DEFAULT_PROTOCOL[:len(r)]) for r in runs(s))
        seen["back-to-back runs, no await"] += any(
            len(p) >= 2 and len(p[0]) >= 2 and not ys[len(p[0])]
            for u in s.users for p, ys in zip(u.producers, u.yields))
        seen["3 producers of one user"] += any(len(u.producers) >= 3 for u in s.users)
        seen["few users, 6+ runs"] += len(s.users) <= 3 and len(runs(s)) >= 6
        seen["10+ users"] += len(s.users) >= 10

    shapes()
    assert all(seen.values()), seen
    # every draw shrinks towards the same smallest schedule: hypothesis' first example, the
    # one made of the simplest choices
    first: list[Schedule] = []

    @settings(max_examples=1, database=None, phases=[Phase.generate])
    @given(strategy)
    def simplest(s: Schedule) -> None:
        first.append(s)

    simplest()
    assert (len(first[0].users), runs(first[0]), first[0].users[0].yields) == (
        1, [["agent_started"]], [[0]])


def test_protocol_is_checked_per_run_and_fifo_per_producer() -> None:
    sent = [Sent("a", "producer 0", "e1", "agent_started", "run 0"),
            Sent("a", "producer 0", "e2", "agent_thinking", "run 0"),
            Sent("a", "producer 0", "e3", "agent_started", "run 1")]
    assert verify_delivery(sent, {"a": ["e1", "e2", "e3"]}, DEFAULT_PROTOCOL) == []
    kinds = {f.kind for f in verify_delivery(sent, {"a": ["e1", "e3", "e2"]},
                                             DEFAULT_PROTOCOL)}
    assert kinds == {"reordered"}  # run 1 overtook the end of run 0
    kinds = {f.kind for f in verify_delivery(sent, {"a": ["e2", "e1", "e3"]},
                                             DEFAULT_PROTOCOL)}
    assert kinds == {"reordered", "protocol"}


def test_events_from_earlier_executions_are_state_that_survives_reset() -> None:
    sent = [Sent("a", "producer 0", "e1/8", "agent_started", "run 0")]
    findings = verify_delivery(sent, {"a": ["e1/7", "e2/7", "e1/8"]}, None, "8")
    assert [(f.kind, f.message.split(",")[0]) for f in findings] == [
        ("survives-reset", "state survives reset: user 'a' received 2 event(s) from earlier "
                           "examples")]


@pytest.mark.parametrize("name", ["late_flush", "queue_consumer",
                                  "periodic_flush_with_drain"])
def test_late_delivery_is_waited_for(name: str) -> None:
    spec = _spec(_app(CORRECT_APPS[name]))
    schedule = _one_user(["agent_started", "agent_thinking"], ["agent_started"],
                         producers=2, awaits=1)
    assert run_async(spec, schedule, DEFAULT_PROTOCOL) == []
    assert run_threads(spec, schedule, None, "same", 2, mixed=True) == []


def test_a_loop_that_never_settles_is_one_bounded_finding() -> None:
    app = _app(CORRECT_APPS["periodic_flush_with_drain"])
    del app.drain  # the spec does not say when delivery is complete

    async def stubborn() -> None:  # ignores its cancellation too
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                pass

    async def send(user: Any, event: dict) -> None:
        await app.send(user, event)
        asyncio.get_running_loop().create_task(stubborn())

    spec = _spec(app, send=lambda self, user, event: send(user, event), drain_timeout=0.2)
    findings = run_async(spec, _one_user(["agent_started"]), None)
    assert [f.kind for f in findings] == ["unsettled"]
    assert "still busy 0.2 s after the last send" in findings[0].message
    assert "flush_forever()" in findings[0].message and "stubborn()" in findings[0].message
    assert "define drain() on the spec" in findings[0].message


def test_a_send_that_never_returns_is_a_bounded_finding(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(runners, "SEND_SECONDS", 0.2)
    app = _app(CORRECT)

    async def send(user: Any, event: dict) -> None:
        await asyncio.get_running_loop().create_future()  # a lost wake-up

    spec = _spec(app, send=lambda self, user, event: send(user, event))
    assert [f.kind for f in run_async(spec, _one_user(["agent_started"]), None)] == ["hang"]


def test_state_kept_in_a_class_attribute_is_reported_at_once() -> None:
    """Over many seeds and both runners: the execution after the first proves the leak
    (the checks stop there), whatever the schedule."""
    for seed in range(20):
        spec = _spec(_app(BUGS["class_level_state"][1]))  # a fresh process, as it were
        rng = random.Random(seed)
        for execution in range(2):
            schedule = random_schedule(rng, 20, DEFAULT_PROTOCOL if seed % 2 else None,
                                       ("thread_id",))
            findings = (run_async(spec, schedule, None) if seed % 3 else
                        run_threads(spec, schedule, None, "same", 4, mixed=seed % 2 == 0))
        kinds = {f.kind for f in findings}
        assert "survives-reset" in kinds, (seed, kinds)


@pytest.mark.parametrize("method, value, message", [
    ("received", None, "Spec.received(user) returned None; it must return a list of the "
                       "messages the user received"),
    ("received", 3, "Spec.received(user) returned 3 (a int); it must return a list"),
    ("received", {"a": 1}, "Spec.received(user) returned {'a': 1} (a dict); it must"),
    ("received", ["x"], "Spec.received(user) returned 'x' as a message, which has no "
                        "['id']; define message_id(message)"),
    ("make_user", None, "Spec.make_user('u1', thread_id='t') returned None; it must "
                        "return the application's user object"),
    ("reset", RuntimeError("db is down"), "Spec.reset() raised RuntimeError: db is down at "
                                          "test_isolation.py:"),
])
def test_spec_mistakes_are_one_sentence(method: str, value: Any, message: str) -> None:
    app = _app(CORRECT)

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        return value

    with pytest.raises(SpecError) as info:
        run_async(_spec(app, **{method: broken}), _one_user(["agent_started"]), None)
    assert message in str(info.value)


def test_spec_errors_reach_the_user_as_one_paragraph(pytester: pytest.Pytester,
                                                     fresh_registry: None) -> None:
    project(pytester, CORRECT)
    (pytester.path / "conftest.py").write_text(
        CONFTEST.replace("return app.received(user)", "return None"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "asyncio")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "[[]isolation corpus[]] spec error: CorpusIsolation.received(user) returned None; it "
        "must return a list of the messages the user received, oldest first (spec "
        "CorpusIsolation in conftest.py)"])
    out = result.stdout.str()
    assert "Traceback" not in out and "hypothesis/" not in out and "Falsifying" not in out


def test_two_specs_with_one_name_are_a_usage_error(pytester: pytest.Pytester,
                                                   fresh_registry: None) -> None:
    project(pytester, CORRECT)
    (pytester.path / "conftest.py").write_text(CONFTEST + CONFTEST.replace(
        "class CorpusIsolation", "class OtherIsolation"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: isolation_spec 'corpus' (*conftest.py:*): the name "
                                 "is already used by CorpusIsolation (*conftest.py:*); give "
                                 "each isolation spec its own name"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize("option", ["--ssot-isolation-max-users=0",
                                    "--ssot-isolation-max-users=-5",
                                    "--ssot-isolation-examples=0",
                                    "--ssot-isolation-thread-trials=0"])
def test_options_that_would_run_a_check_zero_times_are_usage_errors(
        pytester: pytest.Pytester, option: str) -> None:
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    flag, value = option.split("=")
    result.stderr.fnmatch_lines([f"ERROR: {flag} must be at least 1, got {value}"])


@pytest.mark.parametrize("bug", ["cross_user_batch_reordered", "queue_drops_under_concurrency"])
def test_corpus_bugs_are_found_with_the_protocol_declared(bug: str) -> None:
    """The asyncio search as the item runs it (default example count), in-process, up to
    the first failure (no shrinking). Every bug and seed: benchmarks/isolation_corpus.py."""
    from hypothesis import Phase, given, settings

    spec = SpecCalls(_spec(_app(BUGS[bug][1])))

    @settings(database=None, deadline=None, max_examples=100, phases=[Phase.generate])
    @given(schedules(100, DEFAULT_PROTOCOL, ("thread_id",)))
    def search(schedule: Schedule) -> None:
        assert not run_async(spec, schedule, DEFAULT_PROTOCOL)

    with pytest.raises(AssertionError):
        search()


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process pytester runs register their specs here, not in this process's registry."""
    import pytest_ssot.isolation as isolation

    monkeypatch.setattr(isolation, "REGISTRY", {})
    monkeypatch.setattr(isolation, "SPEC_ERRORS", [])


def test_a_failure_that_does_not_replay_is_still_reported(pytester: pytest.Pytester,
                                                          fresh_registry: None) -> None:
    project(pytester, CORRECT)
    (pytester.path / "conftest.py").write_text(CONFTEST.replace(
        "        return app.received(user)",
        "        global _calls\n        _calls = globals().get('_calls', 0) + 1\n"
        "        got = app.received(user)\n        return got[1:] if _calls == 2 else got"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "asyncio",
                                "--ssot-isolation-examples=5")
    result.assert_outcomes(failed=1)
    # the first received() is the dry run's; the second is the first example's
    result.stdout.fnmatch_lines(["*[[]isolation corpus[]] asyncio schedule: lost*",
                                 "*replays 0/*: a race (it depends on timing); found at "
                                 "generated example 1*"])


# --------------------------------------------------------------------------- issue 23


def _immutables() -> dict[str, Any]:
    import dataclasses
    import datetime
    import decimal
    import enum
    import fractions
    import pathlib
    import uuid
    import weakref
    from types import MappingProxyType

    class State(enum.Enum):
        OPEN = "open"

    @dataclasses.dataclass(frozen=True)
    class Limits:
        burst: int = 3
        names: tuple = ("a", "b")

    class Registry:
        def __init__(self) -> None:
            self.managers: dict = {}

    registry = Registry()
    return {"state": State.OPEN, "pattern": re.compile(r"\w+"), "limits": Limits(),
            "sentinel": object(), "when": datetime.datetime(2026, 1, 1),
            "day": datetime.date(2026, 1, 1), "at": datetime.time(1, 2),
            "delta": datetime.timedelta(1), "money": decimal.Decimal("1.5"),
            "ratio": fractions.Fraction(1, 3), "uid": uuid.UUID(int=5),
            "path": pathlib.Path("x"), "nested": (1, ("a", frozenset({2}))),
            "config": MappingProxyType({"retries": 3, "mode": "fast"}),
            "registry": weakref.ref(registry), "_registry": registry, "fn": len,
            "cls": Registry, "module": re}


def test_immutable_shared_values_are_not_shared_state() -> None:
    """issue 23: each of these was called "shared mutable state" before."""
    values = _immutables()
    registry = values.pop("_registry")

    class M:
        def __init__(self) -> None:
            self.__dict__.update(values)
            self.outbox: list = []
            registry.managers[id(self)] = self

    assert shared_objects(M(), M()) == []


@pytest.mark.parametrize("case", ["tuple", "frozen", "proxy-direct", "weak-target-strong",
                                  "other-manager", "enum-in-list"])
def test_mutable_state_inside_immutable_wrappers_is_still_found(case: str) -> None:
    import dataclasses
    import weakref
    from types import MappingProxyType

    @dataclasses.dataclass(frozen=True)
    class Box:
        items: list

    shared: list = []
    data = {"k": shared}

    class Holder:
        def __init__(self) -> None:
            self.items = shared

    holder = Holder()
    a, b = _M([], logging.getLogger("x"), None), _M([], logging.getLogger("x"), None)
    if case == "tuple":
        a.own["t"] = b.own["t"] = (1, (shared,))
    elif case == "frozen":
        a.own["box"] = b.own["box"] = Box(shared)
    elif case == "proxy-direct":  # b writes the dict behind a's read-only view
        a.own["view"], b.own["data"] = MappingProxyType(data), data
    elif case == "weak-target-strong":  # b owns what a's weak reference reaches
        a.own["ref"], b.own["holder"] = weakref.ref(holder), holder
    elif case == "other-manager":
        a.own["peer"] = b
    else:
        a.own["x"] = b.own["x"] = [1]
    found = shared_objects(a, b)
    assert found, case


def _dry(app: types.ModuleType, same_user: str = "same", protocol: Any = None,
         **extra: Any) -> Any:
    from pytest_ssot.isolation.runners import dry_run

    return dry_run(_spec(app, **extra), ("thread_id",), same_user, protocol)


@pytest.mark.parametrize("mistake, message", [
    ("raises", "Spec.send(user, event) raised AttributeError: 'Manager' object has no "
               "attribute 'send_message' at "),
    ("not-awaited", "Spec.send(user, event) did not await a coroutine it created"),
    ("message-id", "Spec.message_id(message) gave 'agent_started' for a message of a dry "
                   "run that sent only ['e1', 'e2']"),
    ("same-id", "Spec.message_id(message) gave one id to two messages"),
    ("new-handle", "Spec.manager(user) returned two different objects (Handle, Handle) "
                   "when asked twice for one user"),
    ("protocol", "or the protocol, which the application rejects"),
    ("nothing", "Spec.received(user) returned no message after send(user, event)"),
])
def test_spec_mistakes_are_found_by_a_dry_run(mistake: str, message: str) -> None:
    """issue 23: each was reported as the application's isolation bug before."""
    app = _app(CORRECT)
    extra: dict[str, Any] = {}
    protocol = None
    if mistake == "raises":
        extra["send"] = lambda self, user, event: app.get_manager(user).send_message(event)
    elif mistake == "not-awaited":
        extra["send"] = lambda self, user, event: app.send(user, event) and None
    elif mistake == "message-id":
        extra["message_id"] = lambda self, message: message["type"]
    elif mistake == "same-id":
        extra["message_id"] = lambda self, message: "e1/" + message["id"].split("/")[1]
    elif mistake == "new-handle":
        class Handle:
            def __init__(self, manager: Any) -> None:
                self.manager = manager
        extra["manager"] = lambda self, user: Handle(app.get_manager(user))
    elif mistake == "protocol":
        protocol = ("connect", "agent_started")

        async def strict(user: Any, event: dict) -> None:
            if event["type"] not in DEFAULT_PROTOCOL:
                raise ValueError(f"unknown event type {event['type']!r}")
            await app.send(user, event)
        extra["send"] = lambda self, user, event: strict(user, event)
    else:
        extra["received"] = lambda self, user: []
    with pytest.raises(SpecError) as info:
        _dry(app, protocol=protocol, **extra)
    assert message in str(info.value)
    assert "\n" not in str(info.value)  # one sentence


def test_a_correct_spec_passes_the_dry_run() -> None:
    app = _app(CORRECT)
    assert isinstance(_dry(app), app.Manager)
    assert _dry(_app(CORRECT), protocol=DEFAULT_PROTOCOL) is not None


def test_a_spec_mistake_reaches_the_user_as_a_spec_error(pytester: pytest.Pytester,
                                                         fresh_registry: None) -> None:
    project(pytester, CORRECT)
    (pytester.path / "conftest.py").write_text(CONFTEST.replace(
        "return message[\"id\"]", "return message[\"type\"]"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert out.count("spec error: CorpusIsolation.message_id(message) gave") == 4
    assert "cross-delivery" not in out and "no producer sent" not in out


def test_payload_of_another_user_in_a_correctly_addressed_frame_is_a_leak() -> None:
    sent = [Sent("a", "producer 0", "e1", "tool_completed", "run 0", "payload-1x1"),
            Sent("b", "producer 0", "e2", "tool_completed", "run 0", "payload-1x2")]
    ok = verify_delivery(sent, {"a": ["e1"], "b": ["e2"]}, None, "1",
                         {"a": [("payload-1x1",)], "b": [("payload-1x2",)]})
    assert ok == []
    leak = verify_delivery(sent, {"a": ["e1"], "b": ["e2"]}, None, "1",
                           {"a": [("payload-1x1",)], "b": [("payload-1x1",)]})
    assert [(f.kind, f.users) for f in leak] == [("cross-delivery", ["b", "a"])]
    assert "carrying the content of e1 (tool_completed) sent for user 'a'" in leak[0].message


def test_drawn_user_ids_are_realistic_and_overridable() -> None:
    from hypothesis import Phase, given, settings

    from pytest_ssot.isolation.schedules import id_key

    ids: set[str] = set()

    @settings(max_examples=80, database=None, derandomize=True, phases=[Phase.generate])
    @given(schedules(100, None, ("thread_id",)))
    def draw(s: Schedule) -> None:
        uids = [u.user_id for u in s.users]
        assert len({id_key(u) for u in uids}) == len(uids)  # never only case apart
        ids.update(uids)

    draw()
    assert any(re.fullmatch(r"user-\d{6}", i) for i in ids)
    assert any(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i)
               for i in ids)
    assert any("@" in i for i in ids) and any(":" in i for i in ids)
    assert any(not i.isascii() for i in ids)
    prefixes = [i[:8] for i in ids if len(i) > 8]
    assert len(set(prefixes)) < len(prefixes)  # long ids sharing a prefix
    pool = ("alice", "bob", "carol")
    rng = random.Random(3)
    for _ in range(20):
        s = random_schedule(rng, 100, None, (), pool)
        assert {u.user_id for u in s.users} <= set(pool)


def test_long_exception_texts_are_shown_whole() -> None:
    app = _app(CORRECT)
    long = "WebSocketManager object has no attribute 'history' " * 4

    async def send(user: Any, event: dict) -> None:
        if event["type"] == "agent_thinking":
            raise AttributeError(long)
        await app.send(user, event)

    spec = _spec(app, send=lambda self, user, event: send(user, event))
    findings = run_async(spec, _one_user(["agent_started", "agent_thinking"]), None)
    assert any(long.strip() in f.message for f in findings)


def test_received_lists_are_capped_with_a_count() -> None:
    sent = [Sent("a", "producer 0", f"e{k}", "agent_started", "run 0") for k in range(60)]
    findings = verify_delivery(sent, {"a": [f"e{k}" for k in range(59, -1, -1)]})
    assert findings and all(len(f.message) < 2000 for f in findings)
    assert "... 48 more]" in findings[0].message


def test_a_bad_concurrency_or_id_pool_is_a_usage_error(pytester: pytest.Pytester,
                                                       fresh_registry: None) -> None:
    project(pytester, CORRECT)
    (pytester.path / "conftest.py").write_text(
        CONFTEST.replace('concurrency="both"', 'concurrency="thread"').replace(
            "    def reset(self):", "    user_ids = ('alice',)\n\n    def reset(self):"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: isolation_spec 'corpus' (*): concurrency must be one "
                                 "of 'asyncio', 'threads', 'both' (or left out: inferred), got "
                                 "'thread'; user_ids must be a sequence of at least 2 distinct*"])
