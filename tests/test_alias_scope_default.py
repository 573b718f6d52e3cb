"""SPEC 4: the default alias scope is the canonical's top-level package when that package
is the project's own, and the canonical's own module when it lies in a third-party
distribution (importing all of a large library costs minutes and proves nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import write_tree
from pytest_ssot.config import load_config

TOML = """
    [tool.pytest-ssot]
    paths = {paths}
    [[tool.pytest-ssot.contracts]]
    name = "own"
    canonical = "chat.ws.websocket_manager:WebSocketManager"
    legacy = ["chat.ws.manager"]
    [[tool.pytest-ssot.contracts]]
    name = "third-party"
    canonical = "email.message:Message"
    legacy = ["email.mime.message"]
    [[tool.pytest-ssot.contracts]]
    name = "configured"
    canonical = "email.message:Message"
    legacy = ["email.mime.base"]
    alias_scope = ["email"]
"""


@pytest.mark.parametrize("layout", ["flat", "src", "configured-path"])
def test_default_alias_scope(tmp_path: Path, layout: str) -> None:
    where = {"flat": "chat", "src": "src/chat", "configured-path": "lib/chat"}[layout]
    paths = '["lib"]' if layout == "configured-path" else '["."]'
    write_tree(tmp_path, {"pyproject.toml": TOML.format(paths=paths),
                          f"{where}/__init__.py": "", f"{where}/ws/__init__.py": ""})
    contracts = {c.name: c for c in load_config(tmp_path, with_entry_points=False).contracts}
    # the project's own: the package that holds the canonical module (as before)
    assert contracts["own"].effective_alias_scope == ("chat.ws",)
    assert contracts["third-party"].effective_alias_scope == ("email.message",)
    assert contracts["configured"].effective_alias_scope == ("email",)
