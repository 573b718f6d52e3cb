"""How a schedule is run: against the spec, in asyncio tasks or in threads, with bounds.

Every call into the spec goes through :class:`SpecCalls` (``spec_calls``), which turns a
spec that breaks its own contract into one :class:`SpecError` sentence. Every wait is
bounded (``loops``): sends that never finish, a loop that never settles and threads that
never return become findings (``hang``, ``unsettled``) instead of a hung test run. The dry
run that comes first is ``dry_run``.

No pytest, no hypothesis: the items (``plugin/isolation_items.py``) drive these runners.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from typing import Any, Callable, Sequence

from .checks import Finding, Sent, payload_token, shared_objects, short_id, verify_delivery
from .dry_run import dry_run, infer_concurrency
from .loops import _CANCEL_SECONDS, _run_loop, _settle
from .schedules import Schedule
from .spec_calls import (_NONCE, DRAIN_SECONDS, SpecCalls, SpecError, _calls,
                         _describe_exc)

__all__ = ["SpecError", "SpecCalls", "run_async", "run_threads", "distinct_and_policy",
           "shared_state", "dry_run", "infer_concurrency", "FATAL", "SEND_SECONDS",
           "DRAIN_SECONDS"]

# Kinds after which exploring further proves nothing new and costs unbounded work: the
# check stops at once and reports the schedule as it is (no shrinking, no replays).
FATAL = frozenset({"survives-reset", "unsettled", "hang"})
SEND_SECONDS = 30.0  # all sends of one schedule execution (wall time: only a hang pays it)


# --------------------------------------------------------------------------- executions


Item = tuple[dict[str, Any], int]  # (event, awaits before it)


def _plan(schedule: Schedule, nonce: int
          ) -> tuple[list[tuple[str, str, list[Item]]], list[Sent]]:
    """One entry per producer: ``(user_id, producer, [(event, awaits)])``; events numbered
    ``e<k>/<nonce>`` in plan order."""
    out, sent = [], []
    n = 0
    for u in schedule.users:
        for p, (runs, ys) in enumerate(zip(u.producers, u.yields)):
            items = []
            k = 0
            for r, run in enumerate(runs):
                for etype in run:
                    n += 1
                    event = {"id": f"e{n}/{nonce}", "type": etype, "user_id": u.user_id,
                             "run": f"{u.user_id}/p{p}/run{r}",
                             "payload": payload_token(nonce, n), **u.fields}
                    items.append((event, ys[k] if k < len(ys) else 0))
                    sent.append(Sent(u.user_id, f"producer {p}", event["id"], etype,
                                     f"run {r}", event["payload"]))
                    k += 1
            out.append((u.user_id, f"producer {p}", items))
    return out, sent


def _send_errors(errors: list[tuple[str, dict[str, Any], BaseException]]) -> list[Finding]:
    return [Finding("error", f"send(user, event) raised {_describe_exc(exc)} for user "
                             f"{uid!r}, {short_id(ev['id'])} {ev['type']}", [uid])
            for uid, ev, exc in errors[:3]]


def run_async(inst: Any, schedule: Schedule, protocol: Sequence[str] | None,
              trace: dict[str, Any] | None = None) -> list[Finding]:
    """asyncio: every await is a possible switch; the awaits drawn decide the interleaving.

    ``trace``: filled with what happened (``sent``, ``order``: ids in the order their
    sends started, ``received``), for the failure report."""
    calls = _calls(inst)
    calls.reset()
    users = calls.make_users(schedule)
    nonce = next(_NONCE)
    plan, sent = _plan(schedule, nonce)
    errors: list[tuple[str, dict[str, Any], BaseException]] = []
    findings: list[Finding] = []
    received: dict[str, list[str]] = {}
    contents: dict[str, list[tuple[str, ...]]] = {}
    order: list[str] = []
    if trace is not None:
        trace.update(sent=sent, order=order, received=received)

    async def send(uid: str, event: dict[str, Any]) -> None:
        order.append(event["id"])
        exc = await calls.send(users[uid], event)
        if exc is not None:
            errors.append((uid, event, exc))

    async def producer(uid: str, items: list[Item]) -> None:
        for event, awaits in items:
            for _ in range(awaits):
                await asyncio.sleep(0)
            await send(uid, event)

    async def single() -> None:
        cursors = [0] * len(plan)
        for k in schedule.order:
            p = k % len(plan)
            uid, _, items = plan[p]
            if cursors[p] < len(items):
                cursors[p] += 1
                await send(uid, items[cursors[p] - 1][0])
        for p, (uid, _, items) in enumerate(plan):  # whatever the order did not reach
            for event, _ in items[cursors[p]:]:
                await send(uid, event)

    async def main() -> None:
        work = single() if schedule.single_task else asyncio.gather(
            *(producer(uid, items) for uid, _, items in plan))
        try:
            await asyncio.wait_for(work, SEND_SECONDS)
        except asyncio.TimeoutError:
            findings.append(Finding("hang", f"the sends of this schedule did not finish "
                                            f"within {SEND_SECONDS:g} s (a send that never "
                                            "returns: a deadlock, a lost wake-up?)"))
            return
        unsettled = await _settle(calls)
        if unsettled:
            findings.append(Finding("unsettled", unsettled))
            return
        ids, frames = calls.read(users)
        received.update(ids)
        contents.update(frames)

    _run_loop(main())
    if findings:
        return findings
    return _send_errors(errors) + verify_delivery(sent, received, protocol, str(nonce),
                                                  contents, calls.exact_payload)


def _in_threads(jobs: list[Callable[[], None]], workers: int, timeout: float
                ) -> list[int]:
    """Run ``jobs`` on ``workers`` daemon threads; the indexes of jobs unfinished at
    ``timeout`` (daemon threads: a job that never returns cannot keep the process alive)."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(jobs)):
        todo.put(i)
    running: dict[int, int] = {}
    failure: list[BaseException] = []

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            running[threading.get_ident()] = i
            try:
                jobs[i]()
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)
            running.pop(threading.get_ident(), None)

    threads = [threading.Thread(target=worker, daemon=True, name=f"ssot-isolation-{n}")
               for n in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if failure:
        raise failure[0]
    return sorted(running.values()) if any(t.is_alive() for t in threads) else []


def _first_access_race(calls: SpecCalls, users: dict[str, Any], same_user: str,
                       workers: int) -> tuple[list[Finding], bool]:
    """Several threads race on each user's first access to the registry: (the findings,
    whether a ``manager(user)`` call hung; then the findings are that hang alone)."""
    findings: list[Finding] = []
    racers = min(4, max(2, workers))
    for uid, user in list(users.items())[:8]:
        barrier = threading.Barrier(racers)
        got: list[Any] = []

        def first(user: Any = user, barrier: threading.Barrier = barrier,
                  got: list[Any] = got) -> None:
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            got.append(calls.manager(user))

        if _in_threads([first] * racers, racers, SEND_SECONDS):
            return [Finding("hang", f"manager(user) for user {uid!r} did not return "
                                    f"within {SEND_SECONDS:g} s", [uid])], True
        distinct = len({id(m) for m in got})
        if same_user == "same" and distinct > 1:
            findings.append(Finding(
                "split-manager", f"user {uid!r}: {racers} threads asking for the "
                f"manager at once got {distinct} different managers "
                "(check-then-act race in the registry?)", [uid]))
    return findings, False


def run_threads(inst: Any, schedule: Schedule, protocol: Sequence[str] | None,
                same_user: str, workers: int, mixed: bool = False,
                trace: dict[str, Any] | None = None) -> list[Finding]:
    """Threads: a pool smaller than the user count, racing first accesses, a tiny switch
    interval. ``mixed``: each thread runs an event loop whose tasks (several producers)
    interleave at every await too. Each thread's loop is settled (or drained) before it
    closes. Not deterministic: callers replay a failing schedule to measure its rate."""
    calls = _calls(inst)
    calls.reset()
    users = calls.make_users(schedule)
    nonce = next(_NONCE)
    plan, sent = _plan(schedule, nonce)
    errors: list[tuple[str, dict[str, Any], BaseException]] = []
    unsettled: list[str] = []
    order: list[str] = []
    received: dict[str, list[str]] = {}
    if trace is not None:
        trace.update(sent=sent, order=order, received=received)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        findings, hung = _first_access_race(calls, users, same_user, workers)
        if hung:
            return findings

        async def one(uid: str, items: list[Item]) -> None:
            for event, awaits in items:
                for _ in range(awaits):
                    await asyncio.sleep(0)
                order.append(event["id"])
                exc = await calls.send(users[uid], event)
                if exc is not None:
                    errors.append((uid, event, exc))

        async def group(members: list[tuple[str, str, list[Item]]]) -> None:
            if mixed:
                await asyncio.gather(*(one(uid, items) for uid, _, items in members))
            else:
                for uid, _, items in members:
                    await one(uid, [(e, 0) for e, _ in items])
            reason = await _settle(calls)
            if reason:
                unsettled.append(reason)

        groups = ([plan[i::workers] for i in range(workers)] if mixed
                  else [[job] for job in plan])
        groups = [g for g in groups if g]
        stuck = _in_threads([lambda g=g: _run_loop(group(g)) for g in groups], workers,
                            SEND_SECONDS + 10 * calls.drain_timeout + 2 * _CANCEL_SECONDS)
        if stuck:
            names = [f"user {uid!r} {producer}" for i in stuck[:5] for uid, producer, _ in
                     groups[i][:1]]
            return findings + [Finding("hang", f"{len(stuck)} thread job(s) did not finish "
                                               f"within {SEND_SECONDS:g} s: "
                                               f"{', '.join(names)}")]
    finally:
        sys.setswitchinterval(old)
    if unsettled:
        return findings + [Finding("unsettled", unsettled[0])]
    ids, contents = calls.read(users)
    received.update(ids)
    return findings + _send_errors(errors) + verify_delivery(
        sent, received, protocol, str(nonce), contents, calls.exact_payload)


# --------------------------------------------------------------------------- structure


def distinct_and_policy(inst: Any, collidable: Sequence[str], same_user: str,
                        user_ids: Sequence[str]) -> list[Finding]:
    calls = _calls(inst)
    calls.reset()
    fields = {f: f"{f}-0" for f in collidable}  # every collidable field collides
    users = {uid: calls.make_user(uid, fields) for uid in user_ids}
    managers = {uid: calls.manager(u) for uid, u in users.items()}
    findings = []
    by_id: dict[int, list[str]] = {}
    for uid, m in managers.items():
        by_id.setdefault(id(m), []).append(uid)
    for owners in by_id.values():
        if len(owners) > 1:
            findings.append(Finding("shared-manager", f"users {owners} got the same manager "
                                    f"object (their {', '.join(collidable) or 'ids'} "
                                    "collide or the manager is a singleton)", owners))
    for uid, user in list(users.items())[:3]:
        again = calls.manager(user)
        if same_user == "same" and again is not managers[uid]:
            findings.append(Finding("split-manager", f"asking twice for user {uid!r}'s "
                                    "manager gave two objects; the declared policy is "
                                    "'same' (a per-user registry)", [uid]))
        if same_user == "new" and again is managers[uid]:
            findings.append(Finding("same-user-policy", f"asking twice for user {uid!r}'s "
                                    "manager gave the same object; the declared policy is "
                                    "'new'", [uid]))
    return findings


def shared_state(inst: Any, collidable: Sequence[str], allow_shared: Sequence[Any],
                 user_ids: Sequence[str]) -> list[Finding]:
    calls = _calls(inst)
    calls.reset()
    fields = {f: f"{f}-{i}" for i, f in enumerate(collidable)}
    users = [calls.make_user(uid, fields) for uid in user_ids[:2]]
    a, b = (calls.manager(u) for u in users)
    if a is b:
        return []  # reported by the distinct-managers check
    shared = shared_objects(a, b, allow_shared)
    return [Finding("shared-state", f"a mutable {kind} is reachable from both users' "
                    f"managers:\n    user {user_ids[0]!r}: {pa}\n    user {user_ids[1]!r}: {pb}",
                    list(user_ids[:2]))
            for pa, pb, kind in shared[:5]]
