"""Connection handlers. Someone added a short name for the manager: an undeclared alias."""

from .websocket_manager import UserContext, WebSocketManager

WSManager = WebSocketManager


async def on_connect(user_id: str) -> WebSocketManager:
    manager = WSManager(UserContext(user_id))
    await manager.send_event("connected")
    return manager
