"""The asyncio schedules: a hypothesis strategy (``@given`` draws, shrinks and replays it).

hypothesis is imported inside :func:`schedules` only: ``conftest.py`` imports this package.
"""

from __future__ import annotations

from typing import Any, Sequence

from .model import ID_SHAPES, Schedule, UserPlan, _types, field_value, id_key, user_id


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
