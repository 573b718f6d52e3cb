"""Notifications service: half migrated (the factory call is still here)."""

from chat.app.websocket_core import create_websocket_manager  # ssot: ignore[ws-manager]
from chat.app.websocket_core.websocket_manager import UserContext, WebSocketManager


def manager_for(user_id: str) -> WebSocketManager:
    return create_websocket_manager(UserContext(user_id))  # ssot: ignore[ws-manager]
