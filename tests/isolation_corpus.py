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
