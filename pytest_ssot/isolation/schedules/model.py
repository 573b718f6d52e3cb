"""What a schedule is: users, their producers and runs, the awaits between sends, and the
shapes of the user ids drawn. Shared by every schedule generator of this package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

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
