import asyncio

from pytest_ssot import golden_path

from chat.app.routes.websocket import handle_agent_run
from chat.app.services.agent_bridge import GOLDEN_PATH_EVENTS
from chat.app.websocket_core.registry import reset


@golden_path
def test_login_then_agent_events_reach_the_user():
    reset()
    manager = asyncio.run(handle_agent_run("alice", list(GOLDEN_PATH_EVENTS)))
    assert [e["type"] for e in manager.received()] == list(GOLDEN_PATH_EVENTS)
    assert {e["user_id"] for e in manager.received()} == {"alice"}


@golden_path
def test_two_users_do_not_see_each_others_events():
    reset()

    async def both():
        return await asyncio.gather(handle_agent_run("alice", ["agent_started"]),
                                    handle_agent_run("bob", ["agent_thinking"]))

    alice, bob = asyncio.run(both())
    assert alice is not bob
    assert [e["type"] for e in alice.received()] == ["agent_started"]
    assert [e["type"] for e in bob.received()] == ["agent_thinking"]
