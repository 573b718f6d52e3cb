"""The schedules registry (``pytest_ssot.isolation.schedules.SCHEDULES``): one entry per
schedule module, each a check the isolation items are made from, in a stable order."""

from __future__ import annotations

import random

from hypothesis import given, settings

from pytest_ssot.isolation.schedules import (DEFAULT_PROTOCOL, DRIVERS, SCHEDULES, Schedule,
                                             ScheduleKind, asyncio_schedules, random_schedule,
                                             schedules, thread_schedules)


def test_the_registry_lists_each_schedule_once_in_item_order() -> None:
    # the test ids users select with -k: their names and order are part of the interface
    assert list(SCHEDULES) == ["asyncio-schedules", "thread-schedules"]
    assert all(isinstance(k, ScheduleKind) and name == k.check for name, k in SCHEDULES.items())
    assert SCHEDULES["asyncio-schedules"].generate is schedules is asyncio_schedules.schedules
    assert (SCHEDULES["thread-schedules"].generate is random_schedule
            is thread_schedules.random_schedule)


def test_each_entry_has_a_known_driver_and_a_skip_reason() -> None:
    for kind in SCHEDULES.values():
        assert kind.driver in DRIVERS
        assert kind.skipped_for in ("asyncio", "threads")
        text = kind.skip_reason.format(node="isolation-x", why="inferred: y")
        assert text.startswith("isolation-x: ") and "schedules do not apply" in text


def test_the_items_are_made_from_the_registry() -> None:
    from pytest_ssot.plugin.isolation_items import CHECKS

    assert CHECKS == ("distinct-managers", "shared-state", *SCHEDULES)


def test_a_seeded_schedule_is_a_function_of_its_seed() -> None:
    kind = next(k for k in SCHEDULES.values() if k.driver == "seeded")
    runs = [kind.generate(random.Random(11), 20, DEFAULT_PROTOCOL, ("thread_id",), None)
            for _ in range(2)]
    assert isinstance(runs[0], Schedule) and runs[0].users
    assert runs[0] == runs[1]
    assert all(set(u.fields) == {"thread_id"} for u in runs[0].users)


@settings(max_examples=20, deadline=None)
@given(SCHEDULES["asyncio-schedules"].generate(20, DEFAULT_PROTOCOL, ("thread_id",), None))
def test_a_hypothesis_schedule_draws_schedules(schedule: Schedule) -> None:
    assert isinstance(schedule, Schedule)
    assert 1 <= len(schedule.users) <= 20
    for u in schedule.users:
        for runs in u.producers:
            for run in runs:  # a declared protocol: every run is a prefix of it
                assert list(run) == list(DEFAULT_PROTOCOL[:len(run)])
