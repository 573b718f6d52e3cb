"""What is generated: multi-user schedules, drawn by hypothesis or by a seeded ``Random``.

A schedule is a set of users; each user has one or more *producers* (concurrent sources of
events for that user: browser tabs, workers, retries), and each producer sends one or more
*runs* back to back (a user sending several messages in a row). A declared protocol shapes
each run (its events follow the protocol's order) and nothing else: the number of users,
producers, runs and the awaits between sends (zero included, within and between runs) are
drawn the same way with or without it.

hypothesis is imported inside :func:`schedules` only: ``conftest.py`` imports this package.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

__all__ = ["DEFAULT_PROTOCOL", "UserPlan", "Schedule", "schedules", "random_schedule",
           "ID_SHAPES", "user_id", "field_value"]

DEFAULT_PROTOCOL = ("agent_started", "agent_thinking", "tool_executing", "tool_completed",
                    "agent_completed")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

# The shapes of drawn user ids. Real ids are long and share long prefixes: a component
# that keys by ``user_id[:8]`` or by a tenant prefix merges users only when they do. One
# shape per schedule (so that its users share prefixes); the first shape is what
# shrinking tends to. Ids that differ only in case or Unicode normalisation are never
# drawn as two users: an application may fold them.
ID_SHAPES = ("short", "numbered", "uuid", "tenant", "email", "unicode")
_UUID_HEADS = ("3f2a9c1e-7b1d-4c2e", "3f2a9c1e-7b1d-4c2f", "00000000-0000-4000")
_TENANTS = ("acme", "acme-eu", "globex")
_NAMES = ("alexandra.smith", "alexandra.smithers", "sam.lee")
_UNICODE = ("ユーザー", "usér-Ünï", "用户")


def user_id(shape: str, n: int, head: int) -> str:
    """The ``n``-th id of a shape; ``head`` picks among the shape's shared prefixes."""
    if shape == "numbered":
        return f"user-{n:06d}"
    if shape == "uuid":
        return f"{_UUID_HEADS[head % 3]}-9a0f-{n:012x}"
    if shape == "tenant":
        return f"{_TENANTS[head % 3]}:user-{n:04d}"
    if shape == "email":
        return f"{_NAMES[head % 3]}{n or ''}@example.com"
    if shape == "unicode":
        return f"{_UNICODE[head % 3]}-{n:04d}"
    return "".join(_ID_ALPHABET[(n // 36 ** k) % 36] for k in range(head % 6 + 1))


def id_key(uid: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", uid).casefold()


def field_value(name: str, k: int) -> str:
    """Collidable field values collide exactly, on a prefix and on case."""
    return (f"{name}-0", f"{name}-1", f"{name.upper()}-0", f"{name}-01")[k % 4]


@dataclass
class UserPlan:
    user_id: str
    fields: dict[str, str]
    # producers[p][r]: the event types of run r of producer p, in send order; a producer
    # sends its runs back to back
    producers: list[list[list[str]]]
    # yields[p][k]: awaits before the k-th send of producer p (counted over all its runs)
    yields: list[list[int]]


@dataclass
class Schedule:
    users: list[UserPlan]
    single_task: bool = False  # one task drives every producer, in ``order``
    order: list[int] = field(default_factory=list)  # producer indexes, one per send

    def describe(self) -> str:
        lines = [f"{len(self.users)} user(s), "
                 f"{'one task for all producers' if self.single_task else 'one task per producer'}"]
        for u in self.users:
            fields = ", ".join(f"{k}={v!r}" for k, v in u.fields.items())
            for p, (runs, ys) in enumerate(zip(u.producers, u.yields)):
                head = f"    user {u.user_id!r} ({fields})" if p == 0 else " " * 8
                k = 0
                parts = []
                for r, run in enumerate(runs):
                    awaits = ys[k:k + len(run)]
                    k += len(run)
                    parts.append(f"run {r}: {run}"
                                 + (f" awaits {awaits}" if any(awaits) else ""))
                lines.append(f"{head} producer {p}: " + "; ".join(parts))
        return "\n".join(lines)


def _types(protocol: Sequence[str] | None) -> list[str]:
    return list(protocol or DEFAULT_PROTOCOL)


def schedules(max_users: int, protocol: Sequence[str] | None,
              collidable: Sequence[str], user_ids: Sequence[str] | None = None) -> Any:
    """The hypothesis strategy of asyncio schedules.

    Two shapes, drawn first so that both are explored from the first examples on: many
    users with one producer and one short run each, or few users (up to 3) with up to 3
    producers of up to 3 runs each. Every count and every await shrinks towards the
    smallest schedule (one user, one producer, one run, no awaits).
    """
    from hypothesis import strategies as st

    types_ = _types(protocol)
    # strategies built once: building them inside ``build`` costs more than the draws
    flag = st.booleans()
    if user_ids:
        pool = st.sampled_from(list(user_ids))
        top = min(max_users, len(user_ids))
        ids_of = {shape: {many: st.lists(pool, min_size=1, max_size=top if many
                                         else min(3, top), unique_by=id_key)
                          for many in (True, False)} for shape in ("pool",)}
    else:
        ident = {shape: st.builds(user_id, st.just(shape), st.integers(0, 40 if shape != "short"
                                                                       else 36 ** 6),
                                  st.integers(0, 5)) for shape in ID_SHAPES}
        ids_of = {shape: {many: st.lists(ident[shape], min_size=1,
                                         max_size=max_users if many else min(3, max_users),
                                         unique_by=id_key) for many in (True, False)}
                  for shape in ID_SHAPES}
    shape_of = st.sampled_from(sorted(ids_of, key=lambda s: (s != "short", s)))
    n_producers = {True: st.integers(1, 2), False: st.integers(1, 3)}
    n_runs = {True: st.just(1), False: st.integers(1, 3)}
    if protocol:
        # a run may stop early (an error, a cancel), never out of order
        prefix = st.integers(1, len(types_))
        runs = {many: prefix.map(lambda k: types_[:k]) for many in (True, False)}
    else:
        runs = {many: st.lists(st.sampled_from(types_), min_size=1, max_size=3 if many else 8)
                for many in (True, False)}
    awaits = st.integers(0, 3)
    field_index = st.integers(0, 3)

    @st.composite
    def build(draw: Any) -> Schedule:
        many = not draw(flag)  # False first: shrinks to the "many users, few runs" shape
        users = []
        for uid in draw(ids_of[draw(shape_of)][many]):
            producers, yields = [], []
            for _ in range(draw(n_producers[many])):
                plan = [draw(runs[many]) for _ in range(draw(n_runs[many]))]
                producers.append(plan)
                yields.append([draw(awaits) for r in plan for _ in r])
            fields = {f: field_value(f, draw(field_index)) for f in collidable}
            users.append(UserPlan(uid, fields, producers, yields))
        single = draw(flag)
        total = sum(len(r) for u in users for p in u.producers for r in p)
        n = sum(len(u.producers) for u in users)
        order = draw(st.lists(st.integers(0, max(0, n - 1)), max_size=total)) if single else []
        return Schedule(users, single, order)

    return build()


def random_schedule(rng: random.Random, max_users: int, protocol: Sequence[str] | None,
                    collidable: Sequence[str], user_ids: Sequence[str] | None = None
                    ) -> Schedule:
    """The thread mode's schedules (hypothesis cannot replay thread interleavings)."""
    many = rng.random() < 0.5
    top = min(max_users, len({id_key(u) for u in user_ids})) if user_ids else max_users
    n = rng.randint(1, top) if many else rng.randint(1, min(4, top))
    ids: dict[str, str] = {}
    shape = rng.choice(ID_SHAPES)
    while len(ids) < n:
        uid = (rng.choice(list(user_ids)) if user_ids else
               user_id(shape, rng.randint(0, 36 ** 6 if shape == "short" else max(40, 2 * n)),
                       rng.randint(0, 5)))
        ids.setdefault(id_key(uid), uid)
    types_ = _types(protocol)
    users = []
    for uid in sorted(ids.values()):
        producers, yields = [], []
        for _ in range(rng.randint(1, 2 if many else 3)):
            runs = []
            for _ in range(rng.randint(1, 1 if many else 3)):
                if protocol:
                    runs.append(types_[:rng.randint(1, len(types_))])
                else:
                    runs.append([rng.choice(types_)
                                 for _ in range(rng.randint(1, 3 if many else 8))])
            producers.append(runs)
            yields.append([rng.randint(0, 2) for r in runs for _ in r])
        users.append(UserPlan(uid, {f: field_value(f, rng.randint(0, 3)) for f in collidable},
                              producers, yields))
    return Schedule(users)
