"""Per-user isolation: a spec the project writes once, and the schedules that test it.

In ``conftest.py``::

    from pytest_ssot.isolation import isolation_spec

    @isolation_spec("ws-manager", same_user="same", collidable=("thread_id",),
                    protocol=("agent_started", "agent_thinking", "tool_executing",
                              "tool_completed", "agent_completed"))
    class WsIsolation:
        def make_user(self, user_id, thread_id):      # unique user_id, colliding thread_id
            return UserContext(user_id, thread_id)
        def manager(self, user):                      # through the app's own registry
            return get_websocket_manager(user)
        async def send(self, user, event):            # one event for one user (or sync)
            await get_websocket_manager(user).send_event(event["type"], {"id": event["id"]})
        def received(self, user):                     # what the user got
            return get_websocket_manager(user).received()
        def message_id(self, message):                # which sent event a message is
            return message["id"]
        def reset(self):                              # fresh application state
            registry.reset()
        allow_shared = (SomePool,)                    # objects users may share

pytest-ssot then collects items ``<file>::isolation[ws-manager]::<check>``. Importing this
module imports neither pytest nor hypothesis; the items import hypothesis when they run.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .checks import Finding, Sent, shared_objects, verify_delivery

__all__ = ["isolation_spec", "IsolationSpec", "REGISTRY", "DEFAULT_PROTOCOL", "Schedule",
           "UserPlan",
           "run_async", "run_threads", "Finding"]

DEFAULT_PROTOCOL = ("agent_started", "agent_thinking", "tool_executing", "tool_completed",
                    "agent_completed")
REGISTRY: dict[str, "IsolationSpec"] = {}
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

    def instance(self) -> Any:
        return self.cls()


def isolation_spec(name: str | None = None, *, same_user: str = "same",
                   protocol: Sequence[str] | None = None,
                   collidable: Sequence[str] = ()) -> Callable[[type], type]:
    """Register a class describing how to make users, get managers, send and read events."""
    if same_user not in ("same", "new"):
        raise ValueError(f"isolation_spec: same_user must be 'same' or 'new', "
                         f"got {same_user!r}")

    def register(cls: type) -> type:
        missing = [m for m in _REQUIRED if not callable(getattr(cls, m, None))]
        if missing:
            raise TypeError(f"isolation_spec {name or cls.__name__!r}: the class must define "
                            f"{', '.join(missing)} (see pytest_ssot.isolation)")
        spec = IsolationSpec(name or cls.__name__, cls, inspect.getfile(cls), same_user,
                             tuple(protocol) if protocol else None, tuple(collidable),
                             tuple(getattr(cls, "allow_shared", ())))
        REGISTRY[spec.name] = spec
        return cls

    return register


# --------------------------------------------------------------------------- schedules


@dataclass
class UserPlan:
    user_id: str
    fields: dict[str, str]
    runs: list[list[str]]  # per producer: event types in send order
    yields: list[list[int]]  # per producer, per event: awaits before sending


@dataclass
class Schedule:
    users: list[UserPlan]
    single_task: bool = False  # one task drives every user, in ``order``
    order: list[int] = field(default_factory=list)  # producer indexes, one per send

    def describe(self) -> str:
        lines = [f"{len(self.users)} user(s), "
                 f"{'one task for all users' if self.single_task else 'one task per producer'}"]
        for u in self.users:
            fields = ", ".join(f"{k}={v!r}" for k, v in u.fields.items())
            lines.append(f"    user {u.user_id!r} ({fields}): "
                         + "; ".join(f"run {i}: {r}" for i, r in enumerate(u.runs)))
        return "\n".join(lines)


def _events(schedule: Schedule) -> list[tuple[UserPlan, str, list[tuple[dict, int]]]]:
    """``(user, producer, [(event, yields)])`` with event ids numbered in plan order."""
    out = []
    n = 0
    for u in schedule.users:
        for r, (run, ys) in enumerate(zip(u.runs, u.yields)):
            items = []
            for etype, y in zip(run, ys):
                n += 1
                items.append(({"id": f"e{n}", "type": etype, "user_id": u.user_id,
                               "run": f"{u.user_id}/run{r}", **u.fields}, y))
            out.append((u, f"run{r}", items))
    return out


def _received(inst: Any, users: dict[str, Any]) -> dict[str, list[str]]:
    message_id = getattr(inst, "message_id", None) or (lambda m: m["id"])
    return {uid: [str(message_id(m)) for m in inst.received(user)]
            for uid, user in users.items()}


def _make_users(inst: Any, schedule: Schedule) -> dict[str, Any]:
    return {u.user_id: inst.make_user(u.user_id, **u.fields) for u in schedule.users}


async def _call(fn: Callable[..., Any], *args: Any) -> None:
    result = fn(*args)
    if inspect.isawaitable(result):
        await result


def run_async(inst: Any, schedule: Schedule, protocol: Sequence[str] | None) -> list[Finding]:
    """asyncio: every await is a possible switch; the yields drawn decide the interleaving."""
    inst.reset()
    users = _make_users(inst, schedule)
    plan = _events(schedule)
    sent = [Sent(u.user_id, producer, ev["id"], ev["type"])
            for u, producer, items in plan for ev, _ in items]

    async def producer(user: Any, items: list[tuple[dict, int]]) -> None:
        for ev, y in items:
            for _ in range(y):
                await asyncio.sleep(0)
            await _call(inst.send, user, ev)

    async def single() -> None:
        cursors = [0] * len(plan)
        for k in schedule.order:
            u, _, items = plan[k % len(plan)]
            i = cursors[k % len(plan)]
            if i < len(items):
                cursors[k % len(plan)] += 1
                await _call(inst.send, users[u.user_id], items[i][0])
        for p, (u, _, items) in enumerate(plan):  # whatever the order did not reach
            for ev, _ in items[cursors[p]:]:
                await _call(inst.send, users[u.user_id], ev)

    async def main() -> None:
        if schedule.single_task:
            await single()
        else:
            await asyncio.gather(*(producer(users[u.user_id], items) for u, _, items in plan))

    asyncio.run(main())
    return verify_delivery(sent, _received(inst, users), protocol)


def run_threads(inst: Any, schedule: Schedule, protocol: Sequence[str] | None,
                same_user: str, workers: int, mixed: bool = False) -> list[Finding]:
    """Threads: a pool smaller than the user count, racing first accesses, a tiny switch
    interval. ``mixed``: each thread runs an event loop whose tasks (several producers)
    interleave at every await too. Not deterministic: callers replay a failing schedule
    to measure its rate."""
    inst.reset()
    users = _make_users(inst, schedule)
    plan = _events(schedule)
    sent = [Sent(u.user_id, producer, ev["id"], ev["type"])
            for u, producer, items in plan for ev, _ in items]
    findings: list[Finding] = []
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        # several threads race on each user's first access to the registry
        racers = min(4, max(2, workers))
        firsts: dict[str, list[Any]] = {}
        barrier = threading.Barrier(racers)

        def first(user: Any) -> Any:
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            return inst.manager(user)

        for uid, user in list(users.items())[:8]:
            barrier.reset()
            with ThreadPoolExecutor(racers) as pool:
                firsts[uid] = list(pool.map(first, [user] * racers))
        if same_user == "same":
            for uid, got in firsts.items():
                if len({id(m) for m in got}) > 1:
                    findings.append(Finding(
                        "split-manager", f"user {uid!r}: {racers} threads asking for the "
                        f"manager at once got {len({id(m) for m in got})} different managers "
                        "(check-then-act race in the registry?)", [uid]))

        def produce(args: tuple[Any, list[tuple[dict, int]]]) -> None:
            user, items = args
            loop = asyncio.new_event_loop()
            try:
                for ev, _ in items:
                    loop.run_until_complete(_call(inst.send, user, ev))
            finally:
                loop.close()

        async def tasks(group: list[tuple[Any, list[tuple[dict, int]]]]) -> None:
            async def one(user: Any, items: list[tuple[dict, int]]) -> None:
                for ev, y in items:
                    for _ in range(y):
                        await asyncio.sleep(0)
                    await _call(inst.send, user, ev)
            await asyncio.gather(*(one(u, items) for u, items in group))

        jobs = [(users[u.user_id], items) for u, _, items in plan]
        with ThreadPoolExecutor(workers) as pool:
            if mixed:
                groups = [jobs[i::workers] for i in range(workers)]
                list(pool.map(lambda g: asyncio.run(tasks(g)), [g for g in groups if g]))
            else:
                list(pool.map(produce, jobs))
    finally:
        sys.setswitchinterval(old)
    return findings + verify_delivery(sent, _received(inst, users), protocol)


def random_schedule(rng: random.Random, max_users: int, protocol: Sequence[str] | None,
                    collidable: Sequence[str]) -> Schedule:
    """The thread mode's schedules (hypothesis cannot replay thread interleavings)."""
    many = rng.random() < 0.5
    n = rng.randint(2, max_users) if many else rng.randint(2, min(4, max_users))
    ids: set[str] = set()
    while len(ids) < n:
        ids.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                        for _ in range(rng.randint(1, 6))))
    types_ = list(protocol or DEFAULT_PROTOCOL)
    users = []
    for uid in sorted(ids):
        runs, yields = [], []
        for _ in range(rng.randint(1, 2)):
            k = len(types_) if protocol else rng.randint(1, 3 if many else 12)
            run = types_[:k] if protocol else [rng.choice(types_) for _ in range(k)]
            runs.append(run)
            yields.append([rng.randint(0, 2) for _ in run])
        users.append(UserPlan(uid, {f: f"{f}-{rng.randint(0, 2)}" for f in collidable},
                              runs, yields))
    return Schedule(users)


def schedules(max_users: int, protocol: Sequence[str] | None,
              collidable: Sequence[str]) -> Any:
    """The hypothesis strategy of asyncio schedules (hypothesis imported here, lazily)."""
    from hypothesis import strategies as st

    types_ = list(protocol or DEFAULT_PROTOCOL)
    ident = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)

    @st.composite
    def build(draw: Any) -> Schedule:
        many = draw(st.booleans())
        hi = max_users if many else min(3, max_users)
        ids = draw(st.lists(ident, min_size=1, max_size=hi, unique=True))
        users = []
        for uid in ids:
            n_runs = draw(st.integers(1, 2))
            runs, yields = [], []
            for _ in range(n_runs):
                if protocol:
                    run = types_[:draw(st.integers(1, len(types_)))]
                else:
                    run = draw(st.lists(st.sampled_from(types_), min_size=1,
                                        max_size=3 if many else 10))
                runs.append(run)
                yields.append(draw(st.lists(st.integers(0, 3), min_size=len(run),
                                            max_size=len(run))))
            fields = {f: f"{f}-{draw(st.integers(0, 2))}" for f in collidable}
            users.append(UserPlan(uid, fields, runs, yields))
        single = draw(st.booleans())
        total = sum(len(r) for u in users for r in u.runs)
        producers = sum(len(u.runs) for u in users)
        order = draw(st.lists(st.integers(0, max(0, producers - 1)), min_size=0,
                              max_size=total)) if single else []
        return Schedule(users, single, order)

    return build()


def distinct_and_policy(inst: Any, spec: IsolationSpec, user_ids: Sequence[str]
                        ) -> list[Finding]:
    inst.reset()
    fields = {f: f"{f}-0" for f in spec.collidable}  # every collidable field collides
    users = {uid: inst.make_user(uid, **fields) for uid in user_ids}
    managers = {uid: inst.manager(u) for uid, u in users.items()}
    findings = []
    by_id: dict[int, list[str]] = {}
    for uid, m in managers.items():
        by_id.setdefault(id(m), []).append(uid)
    for owners in by_id.values():
        if len(owners) > 1:
            findings.append(Finding("shared-manager", f"users {owners} got the same manager "
                                    f"object (their {', '.join(spec.collidable) or 'ids'} "
                                    "collide or the manager is a singleton)", owners))
    for uid, user in list(users.items())[:3]:
        again = inst.manager(user)
        if spec.same_user == "same" and again is not managers[uid]:
            findings.append(Finding("split-manager", f"asking twice for user {uid!r}'s "
                                    "manager gave two objects; the declared policy is "
                                    "'same' (a per-user registry)", [uid]))
        if spec.same_user == "new" and again is managers[uid]:
            findings.append(Finding("same-user-policy", f"asking twice for user {uid!r}'s "
                                    "manager gave the same object; the declared policy is "
                                    "'new'", [uid]))
    return findings


def shared_state(inst: Any, spec: IsolationSpec, user_ids: Sequence[str]) -> list[Finding]:
    inst.reset()
    fields = {f: f"{f}-{i}" for i, f in enumerate(spec.collidable)}
    users = [inst.make_user(uid, **fields) for uid in user_ids[:2]]
    a, b = (inst.manager(u) for u in users)
    if a is b:
        return []  # reported by the distinct-managers check
    shared = shared_objects(a, b, spec.allow_shared)
    return [Finding("shared-state", f"a mutable {kind} is reachable from both users' "
                    f"managers:\n    user {user_ids[0]!r}: {pa}\n    user {user_ids[1]!r}: {pb}",
                    list(user_ids[:2]))
            for pa, pb, kind in shared[:5]]
