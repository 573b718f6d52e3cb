"""Legacy compatibility shim kept while callers migrate."""

import warnings

warnings.warn(
    "chat.app.websocket_core.manager is deprecated; import WebSocketManager from "
    "chat.app.websocket_core.websocket_manager",
    DeprecationWarning,
    stacklevel=2,
)

from .websocket_manager import WebSocketManager  # noqa: E402,F401
