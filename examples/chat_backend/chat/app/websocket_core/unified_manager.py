"""Legacy module: the old 'unified' manager, now a deprecated re-export."""

import warnings

warnings.warn(
    "chat.app.websocket_core.unified_manager is deprecated; import WebSocketManager from "
    "chat.app.websocket_core.websocket_manager",
    DeprecationWarning,
    stacklevel=2,
)

from .websocket_manager import WebSocketManager as UnifiedWebSocketManager  # noqa: E402

__all__ = ["UnifiedWebSocketManager"]
