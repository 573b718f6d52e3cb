"""Event loops with bounds: settling after the last send (or the spec's ``drain()``), and
``asyncio.run`` with a teardown that cannot hang.

Delivery may be late (a flush task, ``loop.call_later``, a queue consumer): ``received`` is
read once the event loop is quiescent (no callback ready, no timer scheduled; tasks blocked
for good, like a consumer waiting on an empty queue, are idle), or after the spec's own
``drain()`` when it defines one.
"""

from __future__ import annotations

import asyncio
import os
import reprlib
from typing import Any

from .spec_calls import SpecCalls

_CANCEL_SECONDS = 1.0  # tasks left at the end get this long to honour their cancellation


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
