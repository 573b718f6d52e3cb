"""Per-user isolation: a spec the project writes once, and the schedules that test it.

In ``conftest.py``::

    from pytest_ssot.isolation import isolation_spec

    @isolation_spec("ws-manager", same_user="same", collidable=("thread_id",),
                    protocol=("agent_started", "agent_thinking", "tool_executing",
                              "tool_completed", "agent_completed"),
                    concurrency="both")               # or "asyncio", "threads"; inferred
    class WsIsolation:
        def make_user(self, user_id, thread_id):      # unique user_id, colliding thread_id
            return UserContext(user_id, thread_id)
        def manager(self, user):                      # through the app's own registry
            return get_websocket_manager(user)
        async def send(self, user, event):            # one event for one user (or sync)
            await get_websocket_manager(user).send_event(
                event["type"], {"id": event["id"], "text": event["payload"]})
        def received(self, user):                     # what the user got
            return get_websocket_manager(user).received()
        def message_id(self, message):                # which sent event a message is
            return message["id"]
        def reset(self):                              # fresh application state
            registry.reset()
        async def drain(self):                        # optional: until delivery is done
            await registry.flush_all()
        def payload(self, message):                   # optional: the content delivered
            return message["text"]
        allow_shared = (SomePool,)                    # objects users may share
        user_ids = ("alice", "bob", "carol")          # optional: instead of drawn ids

pytest-ssot then collects items ``<file>::isolation-ws-manager::<check>``. Importing this
module imports neither pytest nor hypothesis; the items import hypothesis when they run.

This module is the spec API; what is generated lives in ``schedules`` (one module per
schedule and the registry ``SCHEDULES``), how it is run in ``runners`` (with
``spec_calls``, ``loops``, ``dry_run``), the pure verdicts in ``checks`` and the pytest
items in ``plugin/isolation_items.py``.
"""

from __future__ import annotations

import inspect
import reprlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .checks import Finding
from .runners import (SpecError, distinct_and_policy, run_async, run_threads,
                      shared_state)
from .schedules import DEFAULT_PROTOCOL, Schedule, UserPlan, random_schedule, schedules

__all__ = ["isolation_spec", "IsolationSpec", "REGISTRY", "SPEC_ERRORS", "DEFAULT_PROTOCOL",
           "Schedule", "UserPlan", "schedules", "random_schedule", "run_async", "run_threads",
           "distinct_and_policy", "shared_state", "Finding", "SpecError"]

REGISTRY: dict[str, "IsolationSpec"] = {}
# one event loop; threads (each may run its own loop); both
CONCURRENCY = ("asyncio", "threads", "both")
# Mistakes found while conftest files register specs; the plugin turns them into one usage
# error at collection (raising here would show as a traceback of the conftest import).
SPEC_ERRORS: list[str] = []
_REQUIRED = ("make_user", "manager", "send", "received", "reset")


@dataclass
class IsolationSpec:
    name: str
    cls: type
    file: str
    same_user: str = "same"  # same: a per-user registry; new: a new manager per request
    protocol: tuple[str, ...] | None = None
    collidable: tuple[str, ...] = ()
    allow_shared: tuple[Any, ...] = ()
    concurrency: str | None = None  # asyncio, threads, both; None: inferred at run time
    user_ids: tuple[str, ...] | None = None  # the pool user ids are drawn from

    def instance(self) -> Any:
        return self.cls()


def _where(cls: type) -> str:
    try:
        return f"{inspect.getfile(cls)}:{inspect.getsourcelines(cls)[1]}"
    except (OSError, TypeError):
        return getattr(cls, "__module__", "?")


def _strings(value: Any) -> bool:
    return (not isinstance(value, (str, bytes)) and isinstance(value, Sequence)
            and all(isinstance(v, str) and v for v in value))


def isolation_spec(name: str | None = None, *, same_user: str = "same",
                   protocol: Sequence[str] | None = None,
                   collidable: Sequence[str] = (),
                   concurrency: str | None = None) -> Callable[[type], type]:
    """Register a class describing how to make users, get managers, send and read events."""

    def register(cls: type) -> type:
        spec_name = name or cls.__name__
        label = f"isolation_spec {spec_name!r} ({_where(cls)})"
        problems = []
        missing = [m for m in _REQUIRED if not callable(getattr(cls, m, None))]
        if missing:
            problems.append(f"the class must define {', '.join(missing)} "
                            "(see pytest_ssot.isolation)")
        if same_user not in ("same", "new"):
            problems.append(f"same_user must be 'same' or 'new', got {same_user!r}")
        if protocol is not None and not (_strings(protocol) and protocol):
            problems.append(f"protocol must be a non-empty sequence of event type names "
                            f"(like DEFAULT_PROTOCOL), got {protocol!r}")
        if concurrency not in (None, *CONCURRENCY):
            problems.append(f"concurrency must be one of {', '.join(map(repr, CONCURRENCY))} "
                            f"(or left out: inferred), got {concurrency!r}")
        user_ids = getattr(cls, "user_ids", None)
        if user_ids is not None and not (_strings(user_ids) and len(set(user_ids)) >= 2):
            problems.append(f"user_ids must be a sequence of at least 2 distinct non-empty "
                            f"strings (or left out: built-in shapes), got "
                            f"{reprlib.repr(user_ids)}")
        if not _strings(collidable):
            problems.append(f"collidable must be a sequence of make_user argument names, "
                            f"got {collidable!r}")
        if problems:
            SPEC_ERRORS.append(f"{label}: {'; '.join(problems)}")
            return cls
        spec = IsolationSpec(spec_name, cls, inspect.getfile(cls), same_user,
                             tuple(protocol) if protocol else None, tuple(collidable),
                             tuple(getattr(cls, "allow_shared", ())), concurrency,
                             tuple(user_ids) if user_ids is not None else None)
        known = REGISTRY.get(spec_name)
        if known is not None and (known.file, known.cls.__qualname__) != (
                spec.file, cls.__qualname__):
            # the same class imported twice (importlib modes) replaces itself; another
            # class under the name would silently hide one spec's checks
            SPEC_ERRORS.append(f"{label}: the name is already used by {known.cls.__name__} "
                               f"({_where(known.cls)}); give each isolation spec its own "
                               "name")
            return cls
        REGISTRY[spec_name] = spec
        return cls

    return register
