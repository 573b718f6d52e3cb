"""The spec as it is called: every call into the user's spec goes through :class:`SpecCalls`,
which turns a spec that breaks its own contract (``received`` returning something other
than a list, ``make_user`` returning ``None``, ``reset`` raising) into one
:class:`SpecError` sentence naming the method and the user's line."""

from __future__ import annotations

import collections
import inspect
import itertools
import os
import reprlib
from typing import Any, Callable

from ..errors import FAILED, SsotError
from .checks import payload_tokens
from .schedules import Schedule

DRAIN_SECONDS = 2.0  # settling (or drain()) after the last send; spec attribute drain_timeout
# One nonce per execution against the spec (a dry run, a schedule) in this process: the
# harness's event ids ``e<k>/<nonce>`` never repeat.
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
