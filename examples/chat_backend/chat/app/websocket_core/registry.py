"""Per-user registry: one WebSocketManager per user, created on first use."""

from __future__ import annotations

import threading

from .websocket_manager import UserContext, WebSocketManager

_managers: dict[str, WebSocketManager] = {}
_lock = threading.Lock()


def get_websocket_manager(user: UserContext) -> WebSocketManager:
    with _lock:
        manager = _managers.get(user.user_id)
        if manager is None:
            manager = _managers[user.user_id] = WebSocketManager(user)
        return manager


def reset() -> None:
    with _lock:
        _managers.clear()
