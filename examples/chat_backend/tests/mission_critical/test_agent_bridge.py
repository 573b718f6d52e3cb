"""Mission-critical test written before the consolidation: it still patches a legacy path."""

from unittest import mock

from chat.app.services.agent_bridge import describe
from chat.app.websocket_core.websocket_manager import UserContext, WebSocketManager


def test_bridge_describes_the_users_manager():
    manager = WebSocketManager(UserContext("carol"))
    assert describe(manager) == "bridge for carol"


def test_patch_target_still_spelled_the_old_way():
    with mock.patch("chat.app.websocket_core.unified_manager.UnifiedWebSocketManager.received",
                    return_value=[]):
        pass
