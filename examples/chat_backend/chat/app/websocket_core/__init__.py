"""WebSocket core package. Old names are served lazily, with a deprecation warning."""

from __future__ import annotations

import warnings
from typing import Any

_MOVED = {"WebSocketManager": "chat.app.websocket_core.websocket_manager"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"importing {name} from chat.app.websocket_core is deprecated; "
            f"use {_MOVED[name]}:{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        from .websocket_manager import WebSocketManager

        return WebSocketManager
    if name == "create_websocket_manager":
        warnings.warn(
            "create_websocket_manager() is deprecated; use "
            "chat.app.websocket_core.registry.get_websocket_manager(user)",
            DeprecationWarning,
            stacklevel=2,
        )
        from .registry import get_websocket_manager

        return get_websocket_manager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
