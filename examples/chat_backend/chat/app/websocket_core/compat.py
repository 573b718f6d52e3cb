"""Legacy shim: every caller has migrated, nothing imports it any more (it can go)."""

import warnings

warnings.warn(
    "chat.app.websocket_core.compat is deprecated; import WebSocketManager from "
    "chat.app.websocket_core.websocket_manager",
    DeprecationWarning,
    stacklevel=2,
)

from .websocket_manager import WebSocketManager  # noqa: E402,F401
