"""The thread schedules: drawn by a seeded ``random.Random`` (hypothesis cannot replay
thread interleavings; a failing trial is replayed by its seed)."""

from __future__ import annotations

import random
from typing import Sequence

from .model import ID_SHAPES, Schedule, UserPlan, _types, field_value, id_key, user_id


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
