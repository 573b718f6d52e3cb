"""The example project's test configuration: its per-user isolation spec."""

from pytest_ssot.isolation import DEFAULT_PROTOCOL, isolation_spec

from chat.app.websocket_core import registry
from chat.app.websocket_core.websocket_manager import UserContext


# send_event is a coroutine, but the manager locks with threading.Lock: it is used from
# worker threads too, so both concurrency models are tested
@isolation_spec("ws-manager", same_user="same", collidable=("thread_id",),
                protocol=DEFAULT_PROTOCOL, concurrency="both")
class WsManagerIsolation:
    """How pytest-ssot makes users and talks to their managers, through the registry."""

    def make_user(self, user_id, thread_id):
        return UserContext(user_id, thread_id)

    def manager(self, user):
        return registry.get_websocket_manager(user)

    async def send(self, user, event):
        manager = registry.get_websocket_manager(user)
        await manager.send_event(event["type"], {"id": event["id"]})

    def received(self, user):
        return registry.get_websocket_manager(user).received()

    def message_id(self, message):
        return message["id"]

    def reset(self):
        registry.reset()
