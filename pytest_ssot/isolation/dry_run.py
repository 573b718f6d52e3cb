"""The dry run: each spec method once, on one fresh user, before any schedule (a mistake
found here is the spec's, never the application's isolation), and the concurrency model
inferred from the manager it returns."""

from __future__ import annotations

import inspect
import re
import reprlib
import warnings
from typing import Any, Sequence

from .checks import payload_token, short_id
from .loops import _run_loop, _settle
from .schedules import DEFAULT_PROTOCOL, field_value
from .spec_calls import _NONCE, SpecCalls, SpecError, _calls, _describe_exc

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
    _check_messages(calls, {e["id"]: e for e in events}, messages, nonce)
    return first


def _check_messages(calls: SpecCalls, sent: dict[str, dict[str, Any]], messages: list[Any],
                    nonce: int) -> None:
    """What the dry run's user received: the spec's ids (and payloads) name the events
    sent; a :class:`SpecError` otherwise."""
    cls = calls.cls
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
