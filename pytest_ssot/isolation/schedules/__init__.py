"""What is generated: multi-user schedules, drawn by hypothesis or by a seeded ``Random``.

A schedule is a set of users; each user has one or more *producers* (concurrent sources of
events for that user: browser tabs, workers, retries), and each producer sends one or more
*runs* back to back (a user sending several messages in a row). A declared protocol shapes
each run (its events follow the protocol's order) and nothing else: the number of users,
producers, runs and the awaits between sends (zero included, within and between runs) are
drawn the same way with or without it.

One module per schedule (``asyncio_schedules``, ``thread_schedules``), the schedule model
they share (``model``), and :data:`SCHEDULES`, the registry the isolation items are made
from: adding a schedule is one module and its entry below.

hypothesis is imported inside :func:`schedules` only: ``conftest.py`` imports this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import asyncio_schedules, thread_schedules
from .asyncio_schedules import schedules
from .model import DEFAULT_PROTOCOL, ID_SHAPES, Schedule, UserPlan, field_value, id_key, user_id
from .thread_schedules import random_schedule

__all__ = ["DEFAULT_PROTOCOL", "UserPlan", "Schedule", "schedules", "random_schedule",
           "ID_SHAPES", "user_id", "id_key", "field_value", "ScheduleKind", "SCHEDULES", "DRIVERS"]

# how an item runs a schedule's generator (the item knows each driver)
DRIVERS = ("hypothesis", "seeded")


@dataclass(frozen=True)
class ScheduleKind:
    """One schedule: the check (item) it becomes and how it is generated and driven."""

    check: str  # the item's name: ``<file>::isolation-<spec>::<check>``
    # (max_users, protocol, collidable, user_ids) -> a hypothesis strategy ("hypothesis");
    # (rng, max_users, protocol, collidable, user_ids) -> a Schedule ("seeded")
    generate: Callable[..., Any]
    driver: str  # one of DRIVERS
    skipped_for: str  # the concurrency model ("asyncio", "threads") it does not apply to
    skip_reason: str  # why, formatted with ``node`` (the spec's node name) and ``why``


# The registry, in item order (a test id is stable only while this order is).
SCHEDULES: dict[str, ScheduleKind] = {kind.check: kind for kind in (
    ScheduleKind("asyncio-schedules", schedules, "hypothesis", "threads",
                 "{node}: a threads-only manager (declared): asyncio schedules do not "
                 "apply"),
    ScheduleKind("thread-schedules", random_schedule, "seeded", "asyncio",
                 "{node}: asyncio-only manager ({why}): thread schedules do not apply; "
                 "declare concurrency='both' if threads use it too"),
)}
