"""Agent bridge: not migrated yet (still imports the legacy shim)."""

from chat.app.websocket_core.manager import WebSocketManager  # legacy path

GOLDEN_PATH_EVENTS = (
    "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed",
)


def describe(manager: WebSocketManager) -> str:
    return f"bridge for {manager.user.user_id}"
