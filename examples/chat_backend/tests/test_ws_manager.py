from pytest_ssot import ssot_canonical

from chat.app.websocket_core.registry import get_websocket_manager, reset
from chat.app.websocket_core.websocket_manager import UserContext


@ssot_canonical("ws-manager")
def test_ws_manager_is_single_source():
    reset()
    alice = get_websocket_manager(UserContext("alice"))
    assert get_websocket_manager(UserContext("alice")) is alice
    assert get_websocket_manager(UserContext("bob")) is not alice


def test_ssot_probe_fixture_sees_the_shim_warn(ssot_probe):
    verdict = ssot_probe("chat.app.websocket_core.manager:WebSocketManager",
                         canonical="chat.app.websocket_core.websocket_manager:WebSocketManager")
    assert verdict.verdict == "warns"
    assert verdict.is_canonical is True
