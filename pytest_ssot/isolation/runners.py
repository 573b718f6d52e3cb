"""How a schedule is run: against the spec, in asyncio tasks or in threads, with bounds.

Every call into the spec goes through :class:`SpecCalls`, which turns a spec that breaks
its own contract (``received`` returning something other than a list, ``make_user``
returning ``None``, ``reset`` raising) into one :class:`SpecError` sentence. Every wait is
bounded: sends that never finish, a loop that never settles and threads that never return
become findings (``hang``, ``unsettled``) instead of a hung test run.

Delivery may be late (a flush task, ``loop.call_later``, a queue consumer): ``received`` is
read once the event loop is quiescent (no callback ready, no timer scheduled; tasks blocked
for good, like a consumer waiting on an empty queue, are idle), or after the spec's own
``drain()`` when it defines one.

No pytest, no hypothesis: the items (``items.py``) drive these runners.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import itertools
import os
import queue
import re
import reprlib
import sys
import threading
import time
import warnings
from typing import Any, Callable, Sequence

from ..errors import FAILED, SsotError
from .checks import (Finding, Sent, payload_token, payload_tokens, shared_objects,
                     short_id, verify_delivery)
from .schedules import DEFAULT_PROTOCOL, Schedule, field_value

__all__ = ["SpecError", "SpecCalls", "run_async", "run_threads", "distinct_and_policy",
           "shared_state", "dry_run", "infer_concurrency", "FATAL", "SEND_SECONDS",
           "DRAIN_SECONDS"]

# Kinds after which exploring further proves nothing new and costs unbounded work: the
# check stops at once and reports the schedule as it is (no shrinking, no replays).
FATAL = frozenset({"survives-reset", "unsettled", "hang"})
SEND_SECONDS = 30.0  # all sends of one schedule execution (wall time: only a hang pays it)
DRAIN_SECONDS = 2.0  # settling (or drain()) after the last send; spec attribute drain_timeout
_CANCEL_SECONDS = 1.0  # tasks left at the end get this long to honour their cancellation
_NONCE = itertools.count(1)
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The pytest items of the isolation checks live in the plugin package: ours too.
_ITEMS = os.path.join(os.path.dirname(_PACKAGE), "plugin", "isolation_items.py")


class SpecError(SsotError):
    """The spec broke its own contract. ``str()`` is the whole explanation."""

    exit_code = FAILED  # under pytest: the isolation item fails


def _where(exc: BaseException) -> str:
    """The innermost frame outside pytest-ssot: where the user's code raised."""
    tb, last = exc.__traceback__, ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        where = os.path.abspath(path)
        if not (where.startswith(_PACKAGE) or where == _ITEMS):
            last = f"{os.path.basename(path)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f" at {last}" if last else ""


_EXC_CHARS = 2000  # an exception's whole text, unless it is a page long


def _describe_exc(exc: BaseException) -> str:
    text = str(exc)
    if len(text) > _EXC_CHARS:
        text = text[:_EXC_CHARS] + f"... ({len(text) - _EXC_CHARS} more characters)"
    return f"{type(exc).__name__}{': ' + text if text else ''}{_where(exc)}"


class SpecCalls:
    """The spec instance, with every method's contract checked where it is called."""

    def __init__(self, inst: Any) -> None:
        self.inst = inst
        self.cls = type(inst).__name__
        self.has_drain = callable(getattr(inst, "drain", None))
        timeout = getattr(inst, "drain_timeout", DRAIN_SECONDS)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise SpecError(f"{self.cls}.drain_timeout must be a number of seconds > 0, "
                            f"got {timeout!r}")
        self.drain_timeout = float(timeout)
        self._message_id = getattr(inst, "message_id", None)
        hook = getattr(inst, "payload", None)
        self._payload = hook if callable(hook) else None
        self.exact_payload = self._payload is not None

    def _call(self, method: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            result = fn(*args)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(f"{self.cls}.{method} raised {_describe_exc(exc)}") from None
        if inspect.isawaitable(result) and method not in ("send(user, event)", "drain()"):
            if inspect.iscoroutine(result):
                result.close()  # no "never awaited" warning on top of the error
            raise SpecError(f"{self.cls}.{method} returned an awaitable; it must be a plain "
                            "(non-async) method")
        return result

    def reset(self) -> None:
        self._call("reset()", self.inst.reset)

    def make_user(self, user_id: str, fields: dict[str, str]) -> Any:
        user = self._call("make_user(user_id, ...)",
                          lambda: self.inst.make_user(user_id, **fields))
        if user is None:
            raise SpecError(f"{self.cls}.make_user({user_id!r}"
                            + "".join(f", {k}={v!r}" for k, v in fields.items())
                            + ") returned None; it must return the application's user "
                            "object (a user context, a session, an id)")
        return user

    def make_users(self, schedule: Schedule) -> dict[str, Any]:
        return {u.user_id: self.make_user(u.user_id, u.fields) for u in schedule.users}

    def manager(self, user: Any) -> Any:
        return self._call("manager(user)", self.inst.manager, user)

    async def send(self, user: Any, event: dict[str, Any]) -> BaseException | None:
        """An exception from ``send`` is the application's (a finding), not the spec's."""
        try:
            result = self.inst.send(user, event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            return exc
        return None

    async def drain(self) -> None:
        result = self._call("drain()", self.inst.drain)
        if inspect.isawaitable(result):
            await result

    def message_id(self, message: Any) -> str:
        if self._message_id is None:
            try:
                value = message["id"]
            except Exception:
                raise SpecError(
                    f"{self.cls}.received(user) returned {reprlib.repr(message)} as a "
                    "message, which has no ['id']; define message_id(message) on the spec "
                    "to say which sent event a message is (event['id'])") from None
        else:
            value = self._call("message_id(message)", self._message_id, message)
        if value is None:
            raise SpecError(f"{self.cls}.message_id(message) returned None for "
                            f"{reprlib.repr(message)}; it must return event['id'] of the "
                            "event the message delivers")
        return str(value)

    def payload_tokens(self, message: Any) -> tuple[str, ...]:
        """The harness payloads a delivered frame carries: found anywhere in its content,
        or in what the spec's ``payload(message)`` hook returns."""
        if self._payload is not None:
            message = self._call("payload(message)", self._payload, message)
        return tuple(payload_tokens(message))

    def frames(self, user: Any) -> tuple[list[str], list[tuple[str, ...]]]:
        """What the user received: message ids, and the payloads each message carries."""
        messages = self._messages(user)
        return ([self.message_id(m) for m in messages],
                [self.payload_tokens(m) for m in messages])

    def received(self, user: Any) -> list[str]:
        return [self.message_id(m) for m in self._messages(user)]

    def _messages(self, user: Any) -> list[Any]:
        messages = self._call("received(user)", self.inst.received, user)
        if not isinstance(messages, (list, tuple, collections.deque)):
            shown = ("None" if messages is None
                     else f"{reprlib.repr(messages)} (a {type(messages).__name__})")
            raise SpecError(f"{self.cls}.received(user) returned {shown}; it must return a "
                            "list of the messages the user received, oldest first")
        return list(messages)

    def read(self, users: dict[str, Any]
             ) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, ...]]]]:
        ids, contents = {}, {}
        for uid, user in users.items():
            ids[uid], contents[uid] = self.frames(user)
        return ids, contents


def _calls(inst: Any) -> SpecCalls:
    return inst if isinstance(inst, SpecCalls) else SpecCalls(inst)


# --------------------------------------------------------------------------- event loops


def _activity(loop: asyncio.AbstractEventLoop, me: Any
              ) -> tuple[bool, list[asyncio.TimerHandle], list[asyncio.Task[Any]]]:
    """(a callback is ready, timers scheduled, tasks not done) besides the caller.

    ``_ready`` and ``_scheduled`` are BaseEventLoop internals (stable since 3.4); a loop
    without them is never taken for idle, so the wait falls back to its bound.
    """
    ready = getattr(loop, "_ready", None)
    scheduled = getattr(loop, "_scheduled", None)
    tasks = [t for t in asyncio.all_tasks(loop) if t is not me and not t.done()]
    if ready is None or scheduled is None:
        return True, [], tasks
    return (any(not h.cancelled() for h in ready),
            [h for h in scheduled if not h.cancelled()], tasks)


def _name_task(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    where = (f" at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
             if frame is not None else "")
    return f"{getattr(coro, '__qualname__', repr(coro))}(){where}"


def _name_timer(handle: asyncio.TimerHandle, now: float) -> str:
    callback = getattr(handle, "_callback", None)
    name = getattr(callback, "__qualname__", None) or reprlib.repr(callback)
    return f"{name} in {max(0.0, handle.when() - now):.3g} s"


async def _settle(calls: SpecCalls) -> str | None:
    """Wait until delivery is complete; the reason it is not, when the bound is reached."""
    timeout = calls.drain_timeout
    if calls.has_drain:
        try:
            await asyncio.wait_for(calls.drain(), timeout)
        except asyncio.TimeoutError:
            return f"{calls.cls}.drain() did not return within {timeout:g} s"
        return None
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    # The bound counts the time asked of timers (a flush task that sleeps forever reaches
    # it), not wall time: on a busy machine a consumer still working through its queue
    # must not be taken for one that never ends. Wall time has a cap ten times larger.
    waited = 0.0
    cap = loop.time() + 10 * timeout
    quiet = 0
    while True:
        ready, timers, tasks = _activity(loop, me)
        if not ready and not timers:
            if not tasks:
                return None
            # every task left waits for something no callback or timer will bring (a
            # consumer on an empty queue); a few short sleeps let thread-safe callbacks in
            quiet += 1
            if quiet > 3:
                return None
            await asyncio.sleep(0.001)
            continue
        quiet = 0
        if waited >= timeout or loop.time() >= cap:
            now = loop.time()
            shown = [_name_task(t) for t in tasks[:5]] + [_name_timer(h, now)
                                                          for h in timers[:5]]
            return (f"the event loop was still busy {timeout:g} s after the last send: "
                    f"{len(tasks)} task(s) pending, {len(timers)} timer(s) scheduled: "
                    f"{', '.join(shown)}. Delivery that never completes cannot be checked: "
                    "if this is expected (a periodic flush, a long timer), define drain() on "
                    "the spec to wait until every sent event is delivered (drain_timeout "
                    "sets the bound)")
        if ready or not timers:
            await asyncio.sleep(0)
        else:
            delay = min(0.005, max(0.0, min(h.when() for h in timers) - loop.time()))
            waited += max(delay, 0.0001)
            await asyncio.sleep(delay)


def _run_loop(main: Any) -> Any:
    """``asyncio.run`` with a bounded teardown: a task that ignores its cancellation is
    abandoned after ``_CANCEL_SECONDS`` instead of hanging the check."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in left:
                t.cancel()
            if left:
                loop.run_until_complete(asyncio.wait(left, timeout=_CANCEL_SECONDS))
            for t in left:
                if not t.done():
                    t._log_destroy_pending = False  # reported as unsettled or hang already
                elif not t.cancelled():
                    t.exception()  # retrieved: a crashed flush task shows as lost events
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(),
                                                     _CANCEL_SECONDS))
        except (Exception, asyncio.CancelledError):
            pass
        finally:
            asyncio.set_event_loop(None)
            loop.close()


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
    findings: list[Finding] = []
    errors: list[tuple[str, dict[str, Any], BaseException]] = []
    unsettled: list[str] = []
    order: list[str] = []
    received: dict[str, list[str]] = {}
    if trace is not None:
        trace.update(sent=sent, order=order, received=received)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        # several threads race on each user's first access to the registry
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
                                        f"within {SEND_SECONDS:g} s", [uid])]
            distinct = len({id(m) for m in got})
            if same_user == "same" and distinct > 1:
                findings.append(Finding(
                    "split-manager", f"user {uid!r}: {racers} threads asking for the "
                    f"manager at once got {distinct} different managers "
                    "(check-then-act race in the registry?)", [uid]))

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


# --------------------------------------------------------------------------- the dry run

DRY_RUN_USER = "dry-run-user"


def dry_run(inst: Any, collidable: Sequence[str], same_user: str,
            protocol: Sequence[str] | None) -> Any:
    """Each spec method once, on one fresh user, before any schedule: what fails here is
    the spec's mistake (a :class:`SpecError` naming the method), never the application's
    isolation. Returns the user's manager (for :func:`infer_concurrency`)."""
    calls = _calls(inst)
    cls = calls.cls
    calls.reset()
    fields = {f: field_value(f, 0) for f in collidable}
    user = calls.make_user(DRY_RUN_USER, fields)
    first, again = calls.manager(user), calls.manager(user)
    if same_user == "same" and first is not again:
        raise SpecError(
            f"{cls}.manager(user) returned two different objects ({type(first).__name__}, "
            f"{type(again).__name__}) when asked twice for one user, one after the other, "
            "and same_user='same': return the application's own manager object (the "
            "registry's), not a new handle around it, or declare same_user='new'")
    nonce = next(_NONCE)
    types_ = list(protocol or DEFAULT_PROTOCOL)[:2]
    events = [{"id": f"e{k}/{nonce}", "type": t, "user_id": DRY_RUN_USER,
               "run": f"{DRY_RUN_USER}/p0/run0", "payload": payload_token(nonce, k), **fields}
              for k, t in enumerate(types_, 1)]
    problems: list[str] = []
    messages: list[Any] = []
    said = f" (the declared protocol {list(protocol)} starts so)" if protocol else ""

    async def main() -> None:
        for event in events:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exc = await calls.send(user, event)
            if exc is not None:
                problems.append(
                    f"{cls}.send(user, event) raised {_describe_exc(exc)} on a dry run (one "
                    f"fresh user, sending {event['type']!r}{said}): fix send (a method or "
                    "argument the application does not have?)"
                    + (", or the protocol, which the application rejects" if protocol
                       else ""))
                return
            lost = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
                    and "was never awaited" in str(w.message)]
            if lost:
                problems.append(f"{cls}.send(user, event) did not await a coroutine it "
                                f"created ({lost[0]}): write `await` before the call (and "
                                "make send `async def`)")
                return
        await _settle(calls)
        messages.extend(calls._messages(user))

    _run_loop(main())
    if problems:
        raise SpecError(problems[0])
    sent = {e["id"]: e for e in events}
    ids = [calls.message_id(m) for m in messages]
    ours = [(i, m) for i, m in zip(ids, messages)
            if not ((h := _HARNESS.fullmatch(i)) and h.group(1) != str(nonce))]
    how = ("message_id(message)" if calls._message_id is not None
           else "received(user): the messages' ['id']")
    unknown = [i for i, _ in ours if i not in sent]
    if unknown:
        raise SpecError(
            f"{cls}.{how} gave {unknown[0]!r} for a message of a dry run that sent only "
            f"{[short_id(i) for i in sent]} ({', '.join(sent)}) to one user: it must "
            "give event['id'] of the event the message delivers (send must pass it on)")
    if len({i for i, _ in ours}) < len(ours):
        raise SpecError(f"{cls}.{how} gave one id to two messages of a dry run that sent "
                        f"{len(sent)} events to one user: ids must be unique per sent event "
                        "(event['id'])")
    if not ours and len(ids) == len(ours):
        raise SpecError(
            f"{cls}.received(user) returned no message after send(user, event) of "
            f"{len(sent)} event(s) to one fresh user (a dry run): send must deliver through "
            "the application's manager, and received must read what that manager delivered")
    if calls.exact_payload:
        for i, m in ours:
            tokens = calls.payload_tokens(m)
            if tokens != (sent[i]["payload"],):
                raise SpecError(
                    f"{cls}.payload(message) gave {reprlib.repr(calls._payload(m))} for "
                    f"{short_id(i)} of a dry run, whose producer sent "
                    f"{sent[i]['payload']!r}: it must return event['payload'] as delivered")
    return first


_HARNESS = re.compile(r"e\d+/(\d+)")


def infer_concurrency(manager: Any) -> tuple[str, str]:
    """("asyncio" | "both", why): a manager whose operations are coroutines lives on one
    event loop; one of plain methods may be called from threads as well."""
    for klass in type(manager).__mro__:
        if klass is object:
            continue
        for name, fn in vars(klass).items():
            if not name.startswith("_") and inspect.iscoroutinefunction(
                    getattr(fn, "__func__", fn)):
                return "asyncio", f"inferred: {type(manager).__name__}.{name} is a coroutine"
    return "both", "inferred: the manager has no coroutine methods"
