"""Pure checks of per-user isolation: shared mutable state, and what each user received.

No pytest, no hypothesis: plain data in, findings out.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import enum
import fractions
import functools
import gc
import logging
import pathlib
import re
import threading
import types
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Finding", "shared_objects", "is_immutable_leaf", "verify_delivery", "Sent", "short_id",
           "payload_token", "payload_tokens"]

_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), range, slice,
              type(Ellipsis), type(NotImplemented))
# Immutable values with no mutable state inside: leaves of the walk, never shared state.
_IMMUTABLE_LEAVES = (re.Pattern, datetime.date, datetime.time, datetime.timedelta,
                     datetime.tzinfo, decimal.Decimal, fractions.Fraction, uuid.UUID,
                     pathlib.PurePath, enum.Enum, types.BuiltinMethodType)
_SKIP = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
         types.CodeType, types.FrameType, logging.Logger, logging.Handler,
         asyncio.AbstractEventLoop, types.MethodWrapperType, types.WrapperDescriptorType,
         types.MemberDescriptorType, types.GetSetDescriptorType, functools.partial)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()), threading.Condition,
               threading.Event, threading.Semaphore, asyncio.Lock, asyncio.Event,
               asyncio.Condition, asyncio.Semaphore)
_WEAK = (weakref.ref, weakref.WeakMethod)


@dataclass
class Finding:
    # shared-state, cross-delivery, lost, duplicate, reordered, protocol, split-manager,
    # survives-reset, unsettled, hang, error
    kind: str
    message: str
    users: list[str] = field(default_factory=list)


def _frozen(obj: Any) -> bool:
    """An instance whose own attributes cannot be rebound: a frozen dataclass or attrs
    class, a namedtuple (a tuple). Its attributes are still walked: a frozen dataclass
    holding a list shares the list."""
    cls = type(obj)
    params = getattr(cls, "__dataclass_params__", None)
    if params is not None and getattr(params, "frozen", False):
        return True
    if getattr(cls, "__attrs_attrs__", None) is not None:
        return getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"
    return False


def is_immutable_leaf(obj: Any) -> bool:
    """A value that is not state and holds none: skipped by the walk."""
    return (isinstance(obj, _IMMUTABLE) or isinstance(obj, _IMMUTABLE_LEAVES)
            or type(obj) is object or isinstance(obj, _SKIP))


def _children(obj: Any) -> Iterable[tuple[str, Any]]:
    """Named edges where Python exposes names; the garbage collector's otherwise."""
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            yield f"[{k!r}]", v
            if not isinstance(k, _IMMUTABLE):
                yield f"<key {k!r}>", k
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(list(obj)):
            yield f"[{i}]", v
        return
    if isinstance(obj, (set, frozenset)):
        for v in list(obj):
            yield "{item}", v
        return
    if isinstance(obj, types.MethodType):  # a bound method: what it is bound to
        yield ".__self__", obj.__self__
        return
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        for k, v in list(d.items()):
            yield f".{k}", v
    slots = getattr(type(obj), "__slots__", ())
    for name in (slots,) if isinstance(slots, str) else slots:
        if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
            yield f".{name}", getattr(obj, name)
    if d is None and not slots:
        for ref in gc.get_referents(obj):
            if not isinstance(ref, (type, types.ModuleType)):
                yield "<ref>", ref


# How an object was reached: through strong references only (STRONG), through a weak
# reference somewhere on the way (WEAK: followed, but the manager does not own it), or as
# the mapping behind a MappingProxyType (READONLY: nobody mutates it through the manager).
STRONG, WEAK, READONLY = 0, 1, 2


def _walk(root: Any, other: Any, skip: Callable[[Any], bool], limit: int
          ) -> tuple[dict[int, tuple[str, Any, int]], list[str]]:
    """Objects reachable from ``root``: ``{id: (path, object, how)}`` (the strongest way
    each was reached), and the paths by which ``other`` (the other user's manager) is
    strongly reachable. The walk never enters ``other``: a registry both managers point
    back to reaches every manager, and that is not sharing."""
    seen: dict[int, tuple[str, Any, int]] = {}
    into_other: list[str] = []
    stack: list[tuple[str, Any, int]] = [("manager", root, STRONG)]
    expanded: dict[int, int] = {}  # id -> the strongest way it was expanded
    while stack and len(expanded) < limit:
        path, obj, how = stack.pop()
        if obj is other:
            if how == STRONG and obj is not root:
                into_other.append(path)
            continue
        if is_immutable_leaf(obj) or isinstance(obj, _LOCK_TYPES) or skip(obj):
            continue
        key = id(obj)
        if key in expanded and expanded[key] <= how:
            continue
        expanded[key] = how
        container = (isinstance(obj, (tuple, frozenset, types.MappingProxyType, _WEAK,
                                      types.MethodType)) or _frozen(obj))
        if not container and (key not in seen or seen[key][2] > how):
            seen[key] = (path, obj, how)
        if isinstance(obj, _WEAK):
            target = obj()
            if target is not None:
                stack.append((f"{path}()", target, WEAK))
            continue
        if isinstance(obj, types.MappingProxyType):
            for mapping in gc.get_referents(obj):
                if isinstance(mapping, dict):
                    stack.append((f"{path}<mapping>", mapping, max(how, READONLY)))
                    # its values are as writable as ever: only the mapping is read-only
                    for k, v in list(mapping.items()):
                        stack.append((f"{path}[{k!r}]", v, how))
            continue
        for edge, child in _children(obj):
            stack.append((path + edge if not edge.startswith("<") else f"{path}{edge}",
                          child, how))
    return seen, into_other


def shared_objects(a: Any, b: Any, allow: Sequence[Any] = (), limit: int = 20000
                   ) -> list[tuple[str, str, str]]:
    """Mutable objects reachable from both managers: ``(path in a, path in b, type)``.

    Skipped: immutable values (see :func:`is_immutable_leaf`), locks, loggers, event
    loops, and ``allow`` (types, or predicates ``obj -> bool``). Tuples, frozensets,
    frozen dataclasses/attrs instances, weak references and mapping proxies are never
    reported themselves; what they hold is walked. An object counts as shared when both
    managers reach it and at least one of them reaches it through strong references
    only (not through a weak reference, not as the read-only mapping behind a
    ``MappingProxyType``). The other manager itself, strongly reachable, is shared too.
    """
    types_ = tuple(t for t in allow if isinstance(t, type))
    preds = [p for p in allow if not isinstance(p, type) and callable(p)]

    def skip(obj: Any) -> bool:
        return isinstance(obj, types_) or any(p(obj) for p in preds)

    left, a_to_b = _walk(a, b, skip, limit)
    right, b_to_a = _walk(b, a, skip, limit)
    out = [(p, "manager", type(b).__name__) for p in a_to_b[:1]]
    out += [("manager", p, type(a).__name__) for p in b_to_a[:1]]
    for key, (path_b, obj, how_b) in right.items():
        if key in left and obj is not a and obj is not b:
            path_a, _, how_a = left[key]
            if STRONG in (how_a, how_b):
                out.append((path_a, path_b, type(obj).__name__))
    out.sort()
    # what a shared object holds is shared too: report the outermost shared objects only
    # (a shared outbox, not every frame in it)
    tops: list[tuple[str, str, str]] = []
    for pa, pb, kind in out:
        if not any(_under(pa, ta) and _under(pb, tb) for ta, tb, _ in tops):
            tops.append((pa, pb, kind))
    return tops


def _under(path: str, top: str) -> bool:
    return path.startswith(top) and path[len(top):len(top) + 1] in (".", "[", "<", "(")


@dataclass(frozen=True)
class Sent:
    user: str
    producer: str
    event_id: str
    event_type: str
    run: str = ""  # the run (one message of the user) the event belongs to
    payload: str = ""  # the content the producer sent (a token unique to the event)


# The harness numbers events "e<k>/<nonce>", the nonce being new for every execution of a
# schedule: an id of that form with another nonce was sent by an earlier execution.
_HARNESS_ID = re.compile(r"e\d+/(\d+)")


_PAYLOAD = re.compile(r"payload-(\d+)x(\d+)(?!\d)")


def payload_token(nonce: int, n: int) -> str:
    """The content of the ``n``-th event of an execution: found in a frame however the
    application wraps it (a field, a string it formats, a nested result)."""
    return f"payload-{nonce}x{n}"


def payload_tokens(message: Any, depth: int = 6, budget: int = 2000) -> list[str]:
    """Every payload token in a delivered frame: its strings, containers and attributes,
    bounded (a frame is data, not an object graph to walk)."""
    found: list[str] = []
    stack = [(message, 0)]
    seen: set[int] = set()
    while stack and budget > 0:
        obj, level = stack.pop()
        budget -= 1
        if isinstance(obj, (str, bytes)):
            text = obj if isinstance(obj, str) else obj.decode("utf-8", "replace")
            found.extend(m.group(0) for m in _PAYLOAD.finditer(text))
            continue
        if level >= depth or id(obj) in seen or is_immutable_leaf(obj):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            stack.extend((v, level + 1) for item in list(obj.items()) for v in item)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend((v, level + 1) for v in list(obj))
        else:
            d = getattr(obj, "__dict__", None)
            if isinstance(d, dict):
                stack.extend((v, level + 1) for v in list(d.values()))
            slots = getattr(type(obj), "__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                stack.append((getattr(obj, name, None), level + 1))
    return found


def short_id(event_id: str) -> str:
    """``e3/17`` -> ``e3``: the nonce says nothing to a reader."""
    return event_id.split("/", 1)[0] if _HARNESS_ID.fullmatch(event_id) else event_id


SHOWN_IDS = 12  # ids listed per line of a finding; the rest are counted


def verify_delivery(sent: Sequence[Sent], received: dict[str, list[str]],
                    protocol: Sequence[str] | None = None,
                    nonce: str | None = None,
                    contents: dict[str, list[tuple[str, ...]]] | None = None,
                    exact_payload: bool = False) -> list[Finding]:
    """Every user got exactly their events, FIFO per producer, each run in protocol order,
    each frame with the content its producer sent.

    ``nonce``: the current execution's id suffix; messages carrying another one survived
    ``reset()`` (one ``survives-reset`` finding per user, and nothing else about them).
    ``contents``: per user, the payload tokens each received message carries (aligned
    with ``received``); another user's payload in a frame is a leak however the frame is
    addressed. ``exact_payload`` (the spec's ``payload(message)`` hook): each frame's
    payload must be exactly the one its producer sent.
    """
    d = _Delivery(sent, received)
    findings: list[Finding] = []
    for user in sorted(set(d.by_user) | set(received)):
        got = received.get(user, [])
        findings += d.content(user, got, (contents or {}).get(user, []), exact_payload)
        if nonce is not None:
            got = d.stale(user, got, nonce, findings)
        findings += d.membership(user, got)
        findings += d.order(user, got, protocol)
    return findings


class _Delivery:
    """What was sent, indexed, and the checks of one user's received ids against it."""

    def __init__(self, sent: Sequence[Sent], received: dict[str, list[str]]) -> None:
        self.received = received
        self.owner = {s.event_id: s for s in sent}
        self.by_user: dict[str, list[Sent]] = {}
        for s in sent:
            self.by_user.setdefault(s.user, []).append(s)
        self.by_payload = {s.payload: s for s in sent if s.payload}

    def show(self, ids: Sequence[str]) -> str:
        owner = self.owner
        more = f", ... {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
        return "[" + ", ".join(f"{short_id(i)} {owner[i].event_type}" if i in owner
                               else f"{short_id(i)} ?" for i in ids[:SHOWN_IDS]) + more + "]"

    def content(self, user: str, got: list[str], tokens_of: list[tuple[str, ...]],
                exact_payload: bool) -> list[Finding]:
        """Frames carrying another user's payload; payloads other than the one sent."""
        owner, by_payload, findings = self.owner, self.by_payload, []
        content_leaks: list[tuple[str, Sent]] = []
        wrong_payload: list[str] = []
        for i, tokens in zip(got, tokens_of):
            if i in owner and owner[i].user != user:
                continue  # the whole frame is another user's: a cross-delivery by id
            foreign = [by_payload[t] for t in tokens
                       if t in by_payload and by_payload[t].user != user]
            content_leaks.extend((i, src) for src in foreign[:1])
            if exact_payload and not foreign and i in owner and tuple(tokens) != (
                    owner[i].payload,):
                wrong_payload.append(i)
        for i, src in content_leaks[:3]:
            what = f"{short_id(i)} ({owner[i].event_type})" if i in owner else repr(i)
            findings.append(Finding(
                "cross-delivery",
                f"user {user!r} received {what} carrying the content of "
                f"{short_id(src.event_id)} ({src.event_type}) sent for user {src.user!r}: "
                "the frame is addressed correctly, its payload is another user's",
                [user, src.user]))
        if wrong_payload:
            findings.append(Finding(
                "payload", f"user {user!r} received {self.show(wrong_payload)} with a "
                "payload other than the one its producer sent (payload(message) differs)",
                [user]))
        return findings

    def stale(self, user: str, got: list[str], nonce: str, findings: list[Finding]
              ) -> list[str]:
        """``got`` without the ids of earlier executions (one finding for them)."""
        stale = [i for i in got if i not in self.owner and (m := _HARNESS_ID.fullmatch(i))
                 and m.group(1) != nonce]
        if not stale:
            return got
        findings.append(Finding(
            "survives-reset", f"state survives reset: user {user!r} received "
            f"{len(stale)} event(s) from earlier examples, after reset(); reset() "
            "must clear what every manager and registry holds", [user]))
        stale_set = set(stale)
        return [i for i in got if i not in stale_set]

    def membership(self, user: str, got: list[str]) -> list[Finding]:
        """Another user's events, events nobody sent, events lost, events twice."""
        owner, show, findings = self.owner, self.show, []
        mine_ids = [s.event_id for s in self.by_user.get(user, [])]
        foreign = [i for i in got if i in owner and owner[i].user != user]
        for i in foreign[:3]:
            findings.append(Finding(
                "cross-delivery",
                f"user {user!r} received {short_id(i)} ({owner[i].event_type}) sent for user "
                f"{owner[i].user!r}\n    {user!r} sent:     {show(mine_ids)}\n"
                f"    {user!r} received: {show(got)}\n"
                f"    {owner[i].user!r} received: {show(self.received.get(owner[i].user, []))}",
                [user, owner[i].user]))
        unknown = [i for i in got if i not in owner]
        if unknown:
            findings.append(Finding("cross-delivery", f"user {user!r} received messages "
                                    f"that no producer sent: {unknown[:5]}"
                                    + (f" ({len(unknown)} in all)" if len(unknown) > 5
                                       else ""), [user]))
        got_set = set(got)  # membership in sets: a buggy app may return thousands
        lost = [i for i in mine_ids if i not in got_set]
        if lost:
            findings.append(Finding(
                "lost", f"user {user!r} never received {show(lost)}\n"
                        f"    sent:     {show(mine_ids)}\n    received: {show(got)}", [user]))
        counts: dict[str, int] = {}
        for i in got:
            counts[i] = counts.get(i, 0) + 1
        dups = [i for i, n in counts.items() if n > 1]
        if dups:
            findings.append(Finding(
                "duplicate", f"user {user!r} received {show(dups)} more than once\n"
                             f"    sent:     {show(mine_ids)}\n    received: {show(got)}",
                [user]))
        return findings

    def order(self, user: str, got: list[str], protocol: Sequence[str] | None
              ) -> list[Finding]:
        """FIFO per producer; each run in the protocol's order."""
        owner, show, findings = self.owner, self.show, []
        producers: dict[str, list[str]] = {}
        runs: dict[tuple[str, str], list[str]] = {}
        for s in self.by_user.get(user, []):
            producers.setdefault(s.producer, []).append(s.event_id)
            runs.setdefault((s.producer, s.run), []).append(s.event_id)
        arrived = list(dict.fromkeys(got))
        for producer, order in producers.items():
            position = {i: n for n, i in enumerate(order)}
            seen_order = [i for i in arrived if i in position]
            if seen_order != sorted(seen_order, key=position.__getitem__):
                findings.append(Finding(
                    "reordered", f"user {user!r}, {producer}: sent "
                                 f"{show(order)} but received them as {show(seen_order)}",
                    [user]))
        if protocol:
            for (producer, run), order in runs.items():
                members = set(order)
                types_ = [owner[i].event_type for i in arrived if i in members]
                expected = [owner[i].event_type for i in order]
                if types_ != expected[:len(types_)]:
                    findings.append(Finding(
                        "protocol", f"user {user!r}, {producer}, {run}: events arrived "
                                    f"as {types_}, the protocol is {list(protocol)}", [user]))
        return findings
