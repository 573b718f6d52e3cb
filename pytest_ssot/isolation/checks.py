"""Pure checks of per-user isolation: shared mutable state, and what each user received.

No pytest, no hypothesis: plain data in, findings out.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Finding", "shared_objects", "verify_delivery", "Sent", "short_id"]

_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), range, slice,
              type(Ellipsis), type(NotImplemented))
_SKIP = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
         types.CodeType, types.FrameType, logging.Logger, logging.Handler,
         asyncio.AbstractEventLoop, types.MethodWrapperType, types.WrapperDescriptorType,
         types.MemberDescriptorType, types.GetSetDescriptorType)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()), threading.Condition,
               threading.Event, threading.Semaphore, asyncio.Lock, asyncio.Event,
               asyncio.Condition, asyncio.Semaphore)


@dataclass
class Finding:
    # shared-state, cross-delivery, lost, duplicate, reordered, protocol, split-manager,
    # survives-reset, unsettled, hang, error
    kind: str
    message: str
    users: list[str] = field(default_factory=list)


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


def _walk(root: Any, skip: Callable[[Any], bool], limit: int) -> dict[int, tuple[str, Any]]:
    """Mutable objects reachable from ``root``: ``{id: (path, object)}``."""
    seen: dict[int, tuple[str, Any]] = {}
    stack: list[tuple[str, Any]] = [("manager", root)]
    visited: set[int] = set()
    while stack and len(visited) < limit:
        path, obj = stack.pop()
        if id(obj) in visited or isinstance(obj, _IMMUTABLE) or isinstance(obj, _SKIP):
            continue
        if isinstance(obj, _LOCK_TYPES) or skip(obj):
            continue
        visited.add(id(obj))
        if not isinstance(obj, (tuple, frozenset)):
            seen[id(obj)] = (path, obj)
        for edge, child in _children(obj):
            if id(child) not in visited:
                stack.append((path + edge if not edge.startswith("<") else f"{path}{edge}",
                               child))
    return seen


def shared_objects(a: Any, b: Any, allow: Sequence[Any] = (), limit: int = 20000
                   ) -> list[tuple[str, str, str]]:
    """Mutable objects reachable from both managers: ``(path in a, path in b, type)``.

    Skipped: immutables, modules, classes, functions, locks, loggers, event loops, and
    ``allow`` (types, or predicates ``obj -> bool``).
    """
    types_ = tuple(t for t in allow if isinstance(t, type))
    preds = [p for p in allow if not isinstance(p, type) and callable(p)]

    def skip(obj: Any) -> bool:
        return isinstance(obj, types_) or any(p(obj) for p in preds)

    left = _walk(a, skip, limit)
    right = _walk(b, skip, limit)
    out = []
    for key, (path_b, obj) in right.items():
        if key in left and obj is not a and obj is not b:
            out.append((left[key][0], path_b, type(obj).__name__))
    return sorted(out)


@dataclass(frozen=True)
class Sent:
    user: str
    producer: str
    event_id: str
    event_type: str
    run: str = ""  # the run (one message of the user) the event belongs to


# The harness numbers events "e<k>/<nonce>", the nonce being new for every execution of a
# schedule: an id of that form with another nonce was sent by an earlier execution.
_HARNESS_ID = re.compile(r"e\d+/(\d+)")


def short_id(event_id: str) -> str:
    """``e3/17`` -> ``e3``: the nonce says nothing to a reader."""
    return event_id.split("/", 1)[0] if _HARNESS_ID.fullmatch(event_id) else event_id


def verify_delivery(sent: Sequence[Sent], received: dict[str, list[str]],
                    protocol: Sequence[str] | None = None,
                    nonce: str | None = None) -> list[Finding]:
    """Every user got exactly their events, FIFO per producer, each run in protocol order.

    ``nonce``: the current execution's id suffix; messages carrying another one survived
    ``reset()`` (one ``survives-reset`` finding per user, and nothing else about them).
    """
    findings: list[Finding] = []
    owner = {s.event_id: s for s in sent}
    by_user: dict[str, list[Sent]] = {}
    for s in sent:
        by_user.setdefault(s.user, []).append(s)

    def show(ids: Sequence[str]) -> str:
        return "[" + ", ".join(f"{short_id(i)} {owner[i].event_type}" if i in owner
                               else f"{short_id(i)} ?" for i in ids) + "]"

    for user in sorted(set(by_user) | set(received)):
        got = received.get(user, [])
        if nonce is not None:
            stale = [i for i in got if i not in owner and (m := _HARNESS_ID.fullmatch(i))
                     and m.group(1) != nonce]
            if stale:
                findings.append(Finding(
                    "survives-reset", f"state survives reset: user {user!r} received "
                    f"{len(stale)} event(s) from earlier examples, after reset(); reset() "
                    "must clear what every manager and registry holds", [user]))
                stale_set = set(stale)
                got = [i for i in got if i not in stale_set]
        mine = by_user.get(user, [])
        mine_ids = [s.event_id for s in mine]
        foreign = [i for i in got if i in owner and owner[i].user != user]
        for i in foreign[:3]:
            findings.append(Finding(
                "cross-delivery",
                f"user {user!r} received {short_id(i)} ({owner[i].event_type}) sent for user "
                f"{owner[i].user!r}\n    {user!r} sent:     {show(mine_ids)}\n"
                f"    {user!r} received: {show(got)}\n"
                f"    {owner[i].user!r} received: {show(received.get(owner[i].user, []))}",
                [user, owner[i].user]))
        unknown = [i for i in got if i not in owner]
        if unknown:
            findings.append(Finding("cross-delivery", f"user {user!r} received messages "
                                    f"that no producer sent: {unknown[:5]}", [user]))
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
        producers: dict[str, list[str]] = {}
        runs: dict[tuple[str, str], list[str]] = {}
        for s in mine:
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
