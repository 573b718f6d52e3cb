"""Per-user isolation: the pure checks, the bug corpus found, the correct manager passes."""

from __future__ import annotations

import ast
import importlib
import logging
import random
import re
import sys
import threading

import pytest

from isolation_corpus import BUGS, CONFTEST, CORRECT
from pytest_ssot.isolation import random_schedule, run_threads
from pytest_ssot.isolation.checks import Sent, shared_objects, verify_delivery

KINDS = re.compile(r"\[(cross-delivery|lost|duplicate|reordered|protocol|split-manager|"
                   r"shared-state|shared-manager|same-user-policy)\]")


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
    assert ("manager.own['pool']", "manager.own['pool']", "Pool") in found
    assert ("manager.own['pool'].connections", "manager.own['pool'].connections",
            "list") in found
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
        assert f"PASSED conftest.py::isolation[corpus]::{check}" in out


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_every_corpus_bug_is_found(pytester: pytest.Pytester, bug: str) -> None:
    _, source, expected = BUGS[bug]
    project(pytester, source)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 1, out[-3000:]
    found = set(KINDS.findall(out))
    assert found & expected, (found, expected)
    assert "[isolation corpus]" in out  # our explanation, not a bare traceback


def test_failure_output_is_actionable(pytester: pytest.Pytester) -> None:
    project(pytester, BUGS["current_user_after_await"][1])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "asyncio")
    out = result.stdout.str()
    assert "[isolation corpus] asyncio schedule: " in out
    assert re.search(r"\[cross-delivery\] user '\w+' received e\d+ \(\w+\) sent for user", out)
    assert "schedule: " in out and "user(s)" in out  # the shrunk schedule
    assert "@reproduce_failure(" in out or "--hypothesis-seed" in out  # how to replay


def test_thread_race_reports_a_replay_rate(pytester: pytest.Pytester) -> None:
    project(pytester, BUGS["check_then_act_race"][1])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "thread")
    result.stdout.fnmatch_lines([
        "*[[]isolation corpus[]] *schedule (a race: threads cannot be shrunk): *",
        "*replay rate: */20 re-runs of this schedule failed; trial * of seed *"])


def test_settings_are_overridable(pytester: pytest.Pytester) -> None:
    project(pytester, CORRECT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ssot-isolation-examples=5", "--ssot-isolation-max-users=3",
        "--ssot-isolation-thread-trials=2", "--hypothesis-seed=1")
    result.assert_outcomes(passed=4)


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
    assert int(m.group(1)) <= 3
    runs = [ast.literal_eval(r) for r in re.findall(r"run \d+: (\[[^\]]*\])", out)]
    assert runs and sum(map(len, runs)) <= 6, out[-2000:]


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
