"""WebSocket route: already migrated to the canonical path."""

from chat.app.websocket_core.registry import get_websocket_manager
from chat.app.websocket_core.websocket_manager import UserContext, WebSocketManager


async def handle_agent_run(user_id: str, steps: list[str]) -> WebSocketManager:
    manager = get_websocket_manager(UserContext(user_id))
    for step in steps:
        await manager.send_event(step)
    return manager
