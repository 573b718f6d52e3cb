"""The canonical WebSocket manager: the single source of truth."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class UserContext:
    user_id: str
    thread_id: str = "main"


@dataclass
class WebSocketManager:
    """Delivers agent events to one user's connections."""

    user: UserContext
    _outbox: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def send_event(self, event_type: str, payload: dict | None = None) -> None:
        with self._lock:
            self._outbox.append({"type": event_type, "user_id": self.user.user_id,
                                 **(payload or {})})

    def received(self) -> list[dict]:
        return list(self._outbox)
