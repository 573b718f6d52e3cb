"""A corpus of realistic per-user isolation bugs, and one correct manager.

Each entry is the source of an ``app.py`` with the same interface; ``CONFTEST`` registers
the isolation spec for it. Used by tests/test_isolation.py and
benchmarks/isolation_corpus.py.
"""

from __future__ import annotations

_CONFTEST = '''
from pytest_ssot.isolation import DEFAULT_PROTOCOL, isolation_spec

import app


# the corpus managers lock with threading.Lock: used from threads and event loops alike
@isolation_spec("corpus", same_user="same", collidable=("thread_id",), concurrency="both"
                <<PROTOCOL>>)
class CorpusIsolation:
    def make_user(self, user_id, thread_id):
        return app.User(user_id, thread_id)

    def manager(self, user):
        return app.get_manager(user)

    async def send(self, user, event):
        await app.send(user, event)

    def received(self, user):
        return app.received(user)

    def message_id(self, message):
        return message["id"]

    def reset(self):
        app.reset()

    if hasattr(app, "drain"):  # an application whose delivery never settles by itself
        def drain(self):
            app.drain()
'''


def conftest(protocol: bool = False) -> str:
    """The spec for every corpus ``app.py``; ``protocol``: declare DEFAULT_PROTOCOL."""
    return _CONFTEST.replace("<<PROTOCOL>>", ", protocol=DEFAULT_PROTOCOL" if protocol else "")


CONFTEST = conftest()

HEAD = '''
import asyncio
import contextvars
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    user_id: str
    thread_id: str
'''

MANAGER = '''
class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = threading.Lock()

    async def deliver(self, event):
        with self.lock:
            self.outbox.append({"id": event["id"], "type": event["type"]})
'''

REGISTRY = '''
_registry = {}
_lock = threading.Lock()


def get_manager(user):
    with _lock:
        manager = _registry.get(user.user_id)
        if manager is None:
            manager = _registry[user.user_id] = Manager(user)
        return manager
'''

SEND = '''
async def send(user, event):
    await get_manager(user).deliver(event)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
'''

CORRECT = HEAD + MANAGER + REGISTRY + SEND

# Late delivery: each manager buffers and flushes from loop.call_later. Correct: the harness
# waits for the timer (the loop is not quiescent while it is scheduled).
LATE_FLUSH = HEAD + MANAGER.replace(
    "        self.lock = threading.Lock()\n",
    "        self.lock = threading.Lock()\n        self.buffer = []\n"
    "        self.scheduled = False\n") + '''
    def flush(self):
        with self.lock:
            self.scheduled = False
            self.outbox.extend({"id": e["id"], "type": e["type"]} for e in self.buffer)
            self.buffer.clear()
''' + REGISTRY + '''

async def send(user, event):
    manager = get_manager(user)
    with manager.lock:
        manager.buffer.append(event)
        start, manager.scheduled = not manager.scheduled, True
    if start:
        asyncio.get_running_loop().call_later(0.002, manager.flush)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
'''

# A per-user queue drained by a background consumer task, which ends when the queue is
# empty; whoever finds no consumer running starts one (under the manager's lock).
_QUEUE = HEAD + "import collections\n" + MANAGER.replace(
    "        self.lock = threading.Lock()\n",
    "        self.lock = threading.Lock()\n        self.queue = collections.deque()\n"
    "        self.draining = False\n") + '''
    async def consume(self):
        while True:
            with self.lock:
                batch = list(self.queue)
                if not batch:
                    self.draining = False
                    return
            await asyncio.sleep(0)  # the network write
            with self.lock:
                self.outbox.extend({"id": e["id"], "type": e["type"]} for e in batch)
                DEQUEUE
''' + REGISTRY + '''

async def send(user, event):
    manager = get_manager(user)
    with manager.lock:
        manager.queue.append(event)
        start, manager.draining = not manager.draining, True
    if start:
        asyncio.get_running_loop().create_task(manager.consume())


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
'''
QUEUE_CONSUMER = _QUEUE.replace("DEQUEUE", "for _ in batch:\n                    "
                                           "self.queue.popleft()")

# A flush task that never ends (every millisecond, forever): the loop never settles, so the
# spec must say when delivery is complete: app.drain() flushes every manager (CONFTEST
# defines drain() when the app has one).
PERIODIC_FLUSH = LATE_FLUSH.replace('''    if start:
        asyncio.get_running_loop().call_later(0.002, manager.flush)
''', '''    if start:
        asyncio.get_running_loop().create_task(flush_forever(manager))


async def flush_forever(manager):
    while True:
        await asyncio.sleep(0.001)
        with manager.lock:
            manager.outbox.extend({"id": e["id"], "type": e["type"]} for e in manager.buffer)
            manager.buffer.clear()


def drain():
    for manager in list(_registry.values()):
        manager.flush()
''')

# name -> app source: correct managers, each must pass every check with or without protocol
CORRECT_APPS = {"registry": CORRECT, "late_flush": LATE_FLUSH, "queue_consumer": QUEUE_CONSUMER,
                "periodic_flush_with_drain": PERIODIC_FLUSH}

# name -> (what the bug is, app source, finding kinds that count as "found")
BUGS: dict[str, tuple[str, str, set[str]]] = {
    "class_level_state": (
        "the outbox is a class attribute: every manager appends to the same list",
        HEAD + MANAGER.replace("        self.outbox = []\n", "").replace(
            "class Manager:\n", "class Manager:\n    outbox = []\n\n") + REGISTRY + SEND,
        {"cross-delivery", "duplicate", "survives-reset"}),
    "module_singleton": (
        "one module-level manager, created for the first user, serves everyone",
        HEAD + MANAGER + '''
_registry = {}
_singleton = None


def get_manager(user):
    global _singleton
    if _singleton is None:
        _singleton = Manager(user)
    return _singleton
''' + SEND.replace("    _registry.clear()", "    global _singleton\n    _singleton = None"),
        {"shared-manager", "cross-delivery"}),
    "colliding_key": (
        "the registry is keyed by thread_id, which different users share",
        HEAD + MANAGER + REGISTRY.replace("user.user_id", "user.thread_id") + SEND,
        {"shared-manager", "cross-delivery"}),
    "bucketed_key": (
        "the registry is keyed by a 4-way bucket of the user id",
        HEAD + MANAGER + REGISTRY.replace(
            "_registry.get(user.user_id)", "_registry.get(sum(map(ord, user.user_id)) % 4)"
        ).replace("_registry[user.user_id]", "_registry[sum(map(ord, user.user_id)) % 4]")
        + SEND,
        {"shared-manager", "cross-delivery"}),
    "current_user_after_await": (
        "a global 'current user' is set, then read after an await",
        HEAD + MANAGER + REGISTRY + '''
_current = None


async def send(user, event):
    global _current
    _current = user
    await asyncio.sleep(0)
    await get_manager(_current).deliver(event)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
''', {"cross-delivery", "lost"}),
    "check_then_act_race": (
        "the registry checks, then creates, without a lock: two managers for one user",
        HEAD + MANAGER + '''
_registry = {}


def get_manager(user):
    manager = _registry.get(user.user_id)
    if manager is None:
        time.sleep(0.0001)  # e.g. reading the user's settings
        manager = Manager(user)
        _registry[user.user_id] = manager
    return manager
''' + SEND, {"split-manager", "lost"}),
    "dropped_on_concurrent_flush": (
        "a shared pending buffer is cleared by whichever user flushes",
        HEAD + MANAGER + REGISTRY + '''
_pending = []


async def send(user, event):
    _pending.append((user, event))
    await asyncio.sleep(0)  # the network write of the previous batch
    batch = [p for p in _pending if p[0].user_id == user.user_id]
    _pending.clear()  # the bug: other users' pending events go with it
    for owner, pending in batch:
        await get_manager(owner).deliver(pending)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
    _pending.clear()
''', {"lost"}),
    "duplicated_on_concurrent_flush": (
        "two flushes of the shared pending buffer deliver the same events twice",
        HEAD + MANAGER + REGISTRY + '''
_pending = []


async def send(user, event):
    _pending.append((user, event))
    await asyncio.sleep(0)
    batch = list(_pending)
    for owner, pending in batch:
        await get_manager(owner).deliver(pending)
        await asyncio.sleep(0)
    for item in batch:
        if item in _pending:
            _pending.remove(item)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
    _pending.clear()
''', {"duplicate"}),
    "shared_default_argument": (
        "Manager(user, outbox=[]): the default list is shared by every manager",
        HEAD + MANAGER.replace("    def __init__(self, user):\n        self.user = user\n"
                               "        self.outbox = []\n",
                               "    def __init__(self, user, outbox=[]):\n"
                               "        self.user = user\n        self.outbox = outbox\n")
        + REGISTRY + SEND,
        {"shared-state", "cross-delivery"}),
    "contextvar_never_reset": (
        "a context variable remembers the first user of a task and is never reset",
        HEAD + MANAGER + REGISTRY + '''
_current = contextvars.ContextVar("current_user")


async def send(user, event):
    if _current.get(None) is None:
        _current.set(user)
    await get_manager(_current.get()).deliver(event)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _registry.clear()
''', {"cross-delivery", "lost"}),
    "reordered_by_batching": (
        "events are batched per user and the batch is flushed newest first",
        HEAD + MANAGER.replace("        self.lock = threading.Lock()\n",
                               "        self.lock = threading.Lock()\n        self.batch = []\n")
        + REGISTRY + '''

async def send(user, event):
    manager = get_manager(user)
    manager.batch.append(event)
    if len(manager.batch) >= 2:
        batch, manager.batch = manager.batch, []
        for pending in reversed(batch):
            await manager.deliver(pending)


def received(user):
    manager = get_manager(user)
    batch, manager.batch = manager.batch, []
    for pending in batch:
        manager.outbox.append({"id": pending["id"], "type": pending["type"]})
    return list(manager.outbox)


def reset():
    _registry.clear()
''', {"reordered"}),
    "keyed_by_os_thread": (
        "the registry is keyed by the OS thread, not the user",
        HEAD + MANAGER + REGISTRY.replace("_registry.get(user.user_id)",
                                          "_registry.get(threading.get_ident())").replace(
            "_registry[user.user_id]", "_registry[threading.get_ident()]") + SEND,
        {"shared-manager", "cross-delivery"}),
    "cross_user_batch_reordered": (
        "all users' events are coalesced into one batch, flushed late and sorted by phase: a "
        "user's second message overtakes the end of the first",
        HEAD + MANAGER + REGISTRY + '''
_PHASE = {t: i for i, t in enumerate(("agent_started", "agent_thinking", "tool_executing",
                                      "tool_completed", "agent_completed"))}
_batch = []
_batch_lock = threading.Lock()
_scheduled = False


async def send(user, event):
    global _scheduled
    with _batch_lock:
        _batch.append((user, event))
        start, _scheduled = not _scheduled, True
    if start:
        asyncio.get_running_loop().call_later(0.002, _flush)


def _flush():
    global _scheduled
    with _batch_lock:
        batch = sorted(_batch, key=lambda p: _PHASE[p[1]["type"]])  # starts first
        _batch.clear()
        _scheduled = False
    for owner, event in batch:
        get_manager(owner).outbox.append({"id": event["id"], "type": event["type"]})


def received(user):
    return list(get_manager(user).outbox)


def reset():
    global _scheduled
    _registry.clear()
    _batch.clear()
    _scheduled = False
''', {"reordered", "protocol"}),
    "queue_drops_under_concurrency": (
        "the per-user queue's consumer clears the queue after a write: events queued during "
        "the write are dropped",
        _QUEUE.replace("DEQUEUE", "self.queue.clear()"), {"lost"}),
}


# --------------------------------------------------------------------------- issue 23
# A corpus in the styles real backends are written in: each entry is a whole conftest.py
# (the application and its spec in one file). SPEC23 is the spec; <<KW>> its decorator
# arguments. Every LEAKY23 entry must fail with every seed, every CORRECT23 entry pass.

SPEC23 = '''

@isolation_spec("c23", collidable=("thread_id",)<<KW>>)
class Spec:
    def make_user(self, user_id, thread_id):
        return User(user_id, thread_id)

    def manager(self, user):
        return get_manager(user)

    async def send(self, user, event):
        result = send(user, event)
        if asyncio.iscoroutine(result):
            await result

    def received(self, user):
        return received(user)

    def reset(self):
        reset()
'''

HEAD23 = '''
import asyncio
import collections
import contextvars
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import pathlib
import re
import threading
import types
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pytest_ssot.isolation import DEFAULT_PROTOCOL, isolation_spec


@dataclass(frozen=True)
class User:
    user_id: str
    thread_id: str


def content(event):
    # what the user asked for, as the spec hands it over (event["payload"])
    return event.get("payload", event["run"])


def frame(event, **extra):
    return {"id": event["id"], "type": event["type"], "payload": content(event), **extra}
'''

# a per-user registry most entries share: one manager per user id, under a lock
_REG23 = '''
_registry = {}
_lock = threading.Lock()


def get_manager(user):
    with _lock:
        manager = _registry.get(user.user_id)
        if manager is None:
            manager = _registry[user.user_id] = Manager(user)
        return manager


def received(user):
    return list(get_manager(user).outbox)


def reset():
    with _lock:
        _registry.clear()
'''


def _entry(body: str, kw: str = "", registry: bool = True) -> str:
    return HEAD23 + body + (_REG23 if registry else "") + SPEC23.replace("<<KW>>", kw)


_ASYNC_MANAGER = '''
class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = asyncio.Lock()

    async def send_event(self, event):
        async with self.lock:
            await asyncio.sleep(0)  # the socket write, awaited under the lock
            self.outbox.append(frame(event))


async def send(user, event):
    await get_manager(user).send_event(event)
'''

_SYNC_MANAGER = '''
class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = threading.Lock()

    def send_event(self, event):
        with self.lock:
            self.outbox.append(frame(event))


def send(user, event):
    get_manager(user).send_event(event)
'''

_PROTO = ", protocol=DEFAULT_PROTOCOL"

CORRECT23: dict[str, str] = {
    # issue 23: failed with "[hang]" by thread schedules after ~57 s
    "asyncio_lock_across_awaited_write": _entry(_ASYNC_MANAGER),
    # issue 23: "reordered" by thread schedules with one seed in three
    "asyncio_queue_and_consumer_task": _entry('''
class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.queue = asyncio.Queue()
        self.consumer = None

    async def consume(self):
        while True:
            event = await self.queue.get()
            await asyncio.sleep(0)
            self.outbox.append(frame(event))
            self.queue.task_done()

    async def send_event(self, event):
        if self.consumer is None:
            self.consumer = asyncio.get_running_loop().create_task(self.consume())
        await self.queue.put(event)


async def send(user, event):
    await get_manager(user).send_event(event)
''', _PROTO),
    # issue 23: every kind of immutable value, shared by every manager
    "immutable_shared_values": _entry('''
class State(enum.Enum):
    OPEN = "open"


@dataclass(frozen=True)
class Limits:
    burst: int = 3
    kinds: tuple = ("a", ("b", frozenset({1})))


class Registry:
    def __init__(self):
        self.managers = {}


REGISTRY = Registry()
_MISSING = object()
_DEFAULTS = {"retries": 3, "mode": "fast"}
LIMITS = Limits()
PATTERN = re.compile(r"^agent_")
STARTED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = threading.Lock()
        self.state = State.OPEN
        self.limits = LIMITS
        self.pattern = PATTERN
        self.sentinel = _MISSING
        self.started = STARTED
        self.day, self.at = STARTED.date(), STARTED.time()
        self.timeout = datetime.timedelta(seconds=30)
        self.price, self.share = decimal.Decimal("0.10"), fractions.Fraction(1, 3)
        self.namespace = uuid.UUID(int=7)
        self.root = pathlib.PurePosixPath("/srv/chat")
        self.config = types.MappingProxyType(_DEFAULTS)
        self.registry = weakref.ref(REGISTRY)
        self.encode = frame
        self.kind = Registry
        self.re = re
        REGISTRY.managers[user.user_id] = self

    def send_event(self, event):
        with self.lock:
            if self.pattern.match(event["type"]) or event["type"]:
                self.outbox.append(frame(event))


def send(user, event):
    get_manager(user).send_event(event)
'''),
    "executor_offload_allowed": _entry('''
_EXECUTOR = ThreadPoolExecutor(max_workers=4)


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = threading.Lock()
        self.executor = _EXECUTOR

    def _write(self, event):
        with self.lock:
            self.outbox.append(frame(event))

    def send_event(self, event):
        self.executor.submit(self._write, event).result()


def send(user, event):
    get_manager(user).send_event(event)
''').replace("    def reset(self):", "    allow_shared = (ThreadPoolExecutor,)\n\n"
                                        "    def reset(self):"),
    "contextvar_set_and_reset": _entry(_SYNC_MANAGER + '''
_current = contextvars.ContextVar("current_user")


async def send(user, event):
    token = _current.set(user)
    try:
        await asyncio.sleep(0)
        get_manager(_current.get()).send_event(event)
    finally:
        _current.reset(token)
'''),
    "tool_cache_keyed_by_user_and_thread": _entry(_SYNC_MANAGER.replace(
        "            self.outbox.append(frame(event))",
        "            self.outbox.append(frame(event, result=_tool_result(self.user, event)))")
        + '''
_cache = {}


def _tool_result(user, event):
    # a tool result, cached per (user, thread): the right key
    return _cache.setdefault((user.user_id, user.thread_id, content(event)),
                             "result of " + content(event))
''', _PROTO),
    "registry_with_capacity": _entry(_SYNC_MANAGER, registry=False) + '''
_lru = collections.OrderedDict()
_lru_lock = threading.Lock()
CAPACITY = 1000


def get_manager(user):
    with _lru_lock:
        manager = _lru.pop(user.user_id, None) or Manager(user)
        _lru[user.user_id] = manager
        while len(_lru) > CAPACITY:
            _lru.popitem(last=False)
        return manager


def received(user):
    return list(get_manager(user).outbox)


def reset():
    with _lru_lock:
        _lru.clear()
''',
    "pubsub_channel_per_user": _entry('''
_channels = collections.defaultdict(list)


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        _channels["user:" + user.user_id].append(self.outbox.append)


async def send(user, event):
    get_manager(user)
    await asyncio.sleep(0)
    for deliver in list(_channels["user:" + user.user_id]):
        deliver(frame(event))
''').replace("        _registry.clear()", "        _registry.clear()\n        _channels.clear()"),
    "copy_on_write_settings": _entry(_SYNC_MANAGER.replace(
        "        self.lock = threading.Lock()\n",
        "        self.lock = threading.Lock()\n        self.settings = _DEFAULTS\n").replace(
        "            self.outbox.append(frame(event))",
        "            self.settings = {**self.settings, 'last': event['type']}\n"
        "            self.outbox.append(frame(event))") + '''
_DEFAULTS = types.MappingProxyType({"theme": "dark"})
''', ", concurrency='both'"),
    "payload_hook_and_message_id": _entry('''
@dataclass
class Frame:
    event_id: str
    body: dict


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.lock = threading.Lock()

    async def send_event(self, event):
        with self.lock:
            self.outbox.append(Frame(event["id"], {"text": content(event)}))


async def send(user, event):
    await get_manager(user).send_event(event)
''').replace("    def reset(self):", "    def message_id(self, message):\n"
                                        "        return message.event_id\n\n"
                                        "    def payload(self, message):\n"
                                        "        return message.body['text']\n\n"
                                        "    def reset(self):"),
}

# name -> (the leak, conftest.py source)
LEAKY23: dict[str, tuple[str, str]] = {
    # issue 23: a content leak only payload comparison sees
    "tool_result_cache_keyed_by_thread": (
        "a tool result cached by thread id: another user's tool_completed carries it",
        _entry(_SYNC_MANAGER.replace(
            "            self.outbox.append(frame(event))",
            "            self.outbox.append({'id': event['id'], 'type': event['type'], "
            "'result': _tool_result(self.user, event)})") + '''
_cache = {}


def _tool_result(user, event):
    return _cache.setdefault(user.thread_id, "result of " + content(event))
''').replace("        _registry.clear()", "        _registry.clear()\n        _cache.clear()")),
    # issue 23: a collision only realistic ids show
    "channel_keyed_by_user_id_prefix": (
        "a pub/sub channel keyed by user_id[:8] below the manager",
        _entry('''
_channels = collections.defaultdict(list)


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        _channels[user.user_id[:8]].append(self.outbox.append)


async def send(user, event):
    get_manager(user)
    await asyncio.sleep(0)
    for deliver in list(_channels[user.user_id[:8]]):
        deliver(frame(event))
''').replace("        _registry.clear()", "        _registry.clear()\n        _channels.clear()")),
    "channel_keyed_by_tenant": (
        "a channel keyed by the tenant part of the id (acme:user-0001)",
        _entry('''
_channels = collections.defaultdict(list)


def _key(user):
    return user.user_id.split(":")[0]


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        _channels[_key(user)].append(self.outbox.append)


def send(user, event):
    get_manager(user)
    for deliver in list(_channels[_key(user)]):
        deliver(frame(event))
''').replace("        _registry.clear()", "        _registry.clear()\n        _channels.clear()")),
    "current_user_global_across_await": (
        "an asyncio manager reads a module-level current user after an await",
        _entry(_ASYNC_MANAGER.replace('''async def send(user, event):
    await get_manager(user).send_event(event)''', '''_current = None


async def send(user, event):
    global _current
    _current = user
    await asyncio.sleep(0)
    await get_manager(_current).send_event(event)'''))),
    "shared_mutable_default": (
        "Manager(user, outbox=[]): the default list, which reset() cannot clear either",
        _entry(_SYNC_MANAGER.replace("    def __init__(self, user):\n        self.user = user\n"
                                     "        self.outbox = []\n",
                                     "    def __init__(self, user, outbox=[]):\n"
                                     "        self.user = user\n        self.outbox = outbox\n"))),
    "contextvar_set_never_reset": (
        "a context variable set by the first user of a worker task, never reset",
        _entry(_SYNC_MANAGER + '''
_current = contextvars.ContextVar("current_user")


async def send(user, event):
    if _current.get(None) is None:
        _current.set(user)
    await asyncio.sleep(0)
    get_manager(_current.get()).send_event(event)
'''.replace("def send(user, event):\n    get_manager(user).send_event(event)\n", ""))),
    "lru_cache_manager_by_thread": (
        "functools.lru_cache on a factory keyed by thread id",
        _entry(_SYNC_MANAGER, registry=False) + '''

@functools.lru_cache(maxsize=None)
def _manager_for(thread_id):
    return Manager(None)


def get_manager(user):
    return _manager_for(user.thread_id)


def received(user):
    return list(get_manager(user).outbox)


def reset():
    _manager_for.cache_clear()
'''),
    "capacity_registry_reuses_evicted": (
        "a registry of capacity 2 that hands the evicted manager, outbox and all, to the "
        "next user",
        _entry(_SYNC_MANAGER, registry=False) + '''
_lru = collections.OrderedDict()
_lru_lock = threading.Lock()


def get_manager(user):
    with _lru_lock:
        manager = _lru.pop(user.user_id, None)
        if manager is None:
            if len(_lru) >= 2:
                _, manager = _lru.popitem(last=False)  # recycled, not cleared
                manager.user = user
            else:
                manager = Manager(user)
        _lru[user.user_id] = manager
        return manager


def received(user):
    return list(get_manager(user).outbox)


def reset():
    with _lru_lock:
        _lru.clear()
'''),
    "copy_on_write_forgotten": (
        "the settings are copied on write, the history is appended in place: shared",
        _entry(_SYNC_MANAGER.replace(
            "        self.lock = threading.Lock()\n",
            "        self.lock = threading.Lock()\n        self.history = _HISTORY\n").replace(
            "            self.outbox.append(frame(event))",
            "            self.history.append(event['id'])\n"
            "            self.outbox.append(frame(event))") + '''
_HISTORY = []
''')),
    "one_asyncio_queue_for_everyone": (
        "one asyncio.Queue for all users; each user's consumer takes whatever comes next",
        _entry('''
_queue = None


class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.consumer = None

    async def consume(self):
        while True:
            event = await _queue.get()
            self.outbox.append(frame(event))


async def send(user, event):
    global _queue
    if _queue is None:
        _queue = asyncio.Queue()
    manager = get_manager(user)
    if manager.consumer is None:
        manager.consumer = asyncio.get_running_loop().create_task(manager.consume())
    await _queue.put(event)
    await asyncio.sleep(0)
''').replace("        _registry.clear()", "        global _queue\n        _registry.clear()\n"
                                                "        _queue = None")),
    "class_level_pending_dict": (
        "pending frames in a class attribute keyed by thread id",
        _entry(_ASYNC_MANAGER.replace("class Manager:\n", "class Manager:\n    pending = {}\n\n"
                                      ).replace(
            "            self.outbox.append(frame(event))",
            "            self.pending.setdefault(self.user.thread_id, []).append(frame(event))\n"
            "            await asyncio.sleep(0)\n"
            "            self.outbox.extend(self.pending.pop(self.user.thread_id, []))"))),
    "weakly_held_shared_outbox": (
        "managers write through a weak reference to one module-level outbox",
        _entry('''
class Outbox(list):
    pass


_OUTBOX = Outbox()


class Manager:
    def __init__(self, user):
        self.user = user
        self._outbox = weakref.ref(_OUTBOX)

    @property
    def outbox(self):
        return self._outbox()

    def send_event(self, event):
        self._outbox().append(frame(event))


def send(user, event):
    get_manager(user).send_event(event)
''').replace("        _registry.clear()", "        _registry.clear()\n        _OUTBOX.clear()")),
    "mapping_proxy_over_a_dict_it_writes": (
        "a read-only view for readers, and the dict behind it written by every manager",
        _entry(_SYNC_MANAGER.replace(
            "        self.lock = threading.Lock()\n",
            "        self.lock = threading.Lock()\n        self.view = types.MappingProxyType("
            "_LAST)\n        self._last = _LAST\n").replace(
            "            self.outbox.append(frame(event))",
            "            self._last[event['type']] = event['id']\n"
            "            self.outbox.append(frame(event))") + '''
_LAST = {}
''')),
    "frozen_config_holding_a_list": (
        "a frozen dataclass shared by every manager, with a list of recent frames inside",
        _entry(_SYNC_MANAGER.replace(
            "        self.lock = threading.Lock()\n",
            "        self.lock = threading.Lock()\n        self.config = CONFIG\n").replace(
            "            self.outbox.append(frame(event))",
            "            self.config.recent.append(frame(event))\n"
            "            self.outbox.append(frame(event))") + '''

@dataclass(frozen=True)
class Config:
    recent: list = field(default_factory=list)


CONFIG = Config()
''')),
    "two_consumers_reorder": (
        "two consumer tasks per user take turns on the user's queue: frames overtake",
        _entry('''
class Manager:
    def __init__(self, user):
        self.user = user
        self.outbox = []
        self.queue = asyncio.Queue()
        self.consumers = []

    async def consume(self, slow):
        while True:
            event = await self.queue.get()
            for _ in range(slow):
                await asyncio.sleep(0)
            self.outbox.append(frame(event))

    async def send_event(self, event):
        if not self.consumers:
            loop = asyncio.get_running_loop()
            self.consumers = [loop.create_task(self.consume(k)) for k in (3, 0)]
        await self.queue.put(event)


async def send(user, event):
    await get_manager(user).send_event(event)
''')),
    "registry_keyed_by_case_folded_thread": (
        "the registry is keyed by thread id without case (THREAD-0 is thread-0)",
        _entry(_SYNC_MANAGER + _REG23.replace(
            "_registry.get(user.user_id)", "_registry.get(user.thread_id.lower())").replace(
            "_registry[user.user_id]", "_registry[user.thread_id.lower()]"), registry=False)),
}
