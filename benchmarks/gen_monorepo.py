"""Generate a synthetic chat-backend monorepo for the scan benchmark.

    python benchmarks/gen_monorepo.py OUT_DIR [--files 60000] [--seed 1]

Realistic modules (imports, classes, methods, docstrings, logging), about 3% of them
referencing the ws-manager contract in every SPEC 5 form, about 5% carrying prefix decoys
(`manager_utils`, `websocket_manager_v2`, log messages that mention paths). The generated
`pyproject.toml` declares the contract for pytest-ssot and the same legacy paths as ruff's
banned-api (TID251), so both tools are asked the same question.
"""

from __future__ import annotations

import argparse
import random
import textwrap
from pathlib import Path

AREAS = ["routes", "services", "agents", "db", "models", "utils", "auth", "billing",
         "analytics", "notifications"]

PYPROJECT = '''
[tool.pytest-ssot]
paths = ["chat", "tests"]

[tool.pytest-ssot.areas]
"chat/app/routes" = "P0"
"tests/mission_critical" = "P0"
"chat/app/services" = "P1"
"chat/app/agents" = "P1"

[[tool.pytest-ssot.contracts]]
name = "ws-manager"
canonical = "chat.app.websocket_core.websocket_manager:WebSocketManager"
legacy = ["chat.app.websocket_core.unified_manager", "chat.app.websocket_core.manager",
          "chat.app.websocket_core:WebSocketManager"]
factories = ["chat.app.websocket_core:create_websocket_manager"]

[tool.ruff]
target-version = "py310"

[tool.ruff.lint]
select = ["TID251"]

[tool.ruff.lint.flake8-tidy-imports.banned-api]
"chat.app.websocket_core.unified_manager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.manager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.WebSocketManager".msg = "use chat.app.websocket_core.websocket_manager"
"chat.app.websocket_core.create_websocket_manager".msg = "use the registry"
'''

REFERENCES = [
    "from chat.app.websocket_core.unified_manager import UnifiedWebSocketManager",
    "from chat.app.websocket_core.manager import WebSocketManager",
    "import chat.app.websocket_core.manager as ws_manager",
    "from chat.app.websocket_core import WebSocketManager",
    "from chat.app.websocket_core import create_websocket_manager",
    "from chat.app.websocket_core import (\n    WebSocketManager,\n    create_websocket_manager,\n)",
    "from chat.app.websocket_core.websocket_manager import WebSocketManager",
    "from chat.app.websocket_core.websocket_manager import WebSocketManager as WSM",
]
STRING_REFERENCES = [
    'PATCH_TARGET = "chat.app.websocket_core.unified_manager.UnifiedWebSocketManager.send"',
    'LEGACY = "chat.app.websocket_core.manager"',
]
DECOYS = [
    "from chat.app.websocket_core.manager_utils import format_event",
    "from chat.app.websocket_core.websocket_manager_v2 import Experimental",
    "import chat.app.websocket_core.managers",
    'logger.info("chat.app.websocket_core.manager is deprecated, see docs")',
]
STDLIB = ["import os", "import json", "import logging", "import asyncio", "import time",
          "from dataclasses import dataclass, field", "from typing import Any, Optional",
          "from collections import defaultdict", "import re", "import uuid"]


def module_body(rng: random.Random, idx: int, extra_imports: list[str],
                extra_lines: list[str]) -> str:
    imports = rng.sample(STDLIB, rng.randint(2, 5)) + extra_imports
    cls = f"Service{idx}"
    methods = []
    for m in range(rng.randint(3, 8)):
        methods.append(textwrap.indent(textwrap.dedent(f'''
            async def handle_{m}(self, payload: dict[str, Any]) -> dict[str, Any]:
                """Handle step {m} of the request for one user."""
                started = time.monotonic()
                result = {{"id": str(uuid.uuid4()), "step": {m}, "user": payload.get("user")}}
                for key, value in sorted(payload.items()):
                    if isinstance(value, str) and value.startswith("tmp_"):
                        continue
                    result[key] = value
                self._log.debug("step %s took %.3f", {m}, time.monotonic() - started)
                return result
        '''), "    "))
    return "\n".join([
        f'"""Module {idx}: part of the chat backend."""',
        "",
        *imports,
        "",
        "logger = logging.getLogger(__name__)",
        *extra_lines,
        "",
        "",
        "@dataclass",
        f"class {cls}:",
        f'    """The {cls} component."""',
        "",
        "    name: str = \"svc\"",
        "    retries: int = 3",
        "    _log: Any = field(default_factory=lambda: logging.getLogger(\"svc\"))",
        *methods,
        "",
        f"def build_{idx}(name: str = \"default\") -> {cls}:",
        f"    return {cls}(name=name)",
        "",
    ])


def generate(out: Path, n_files: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    (out / "pyproject.toml").write_text(PYPROJECT.lstrip())
    core = out / "chat" / "app" / "websocket_core"
    core.mkdir(parents=True)
    for pkg in (out / "chat", out / "chat" / "app"):
        (pkg / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    (core / "websocket_manager.py").write_text("class WebSocketManager:\n    pass\n")
    (core / "unified_manager.py").write_text(
        "from .websocket_manager import WebSocketManager as UnifiedWebSocketManager\n")
    (core / "manager.py").write_text("from .websocket_manager import WebSocketManager\n")
    stats = {"files": 0, "referencing": 0, "decoys": 0}
    per_pkg = 100
    for i in range(n_files):
        area = AREAS[i % len(AREAS)]
        top = "tests" if i % 7 == 0 else "chat/app"
        sub = "mission_critical" if top == "tests" and i % 3 == 0 else area
        pkg = out / top / sub / f"pkg{(i // per_pkg) % 200:03d}"
        if not pkg.exists():
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
        extra_imports: list[str] = []
        extra_lines: list[str] = []
        roll = rng.random()
        if roll < 0.03:
            stats["referencing"] += 1
            extra_imports.append(rng.choice(REFERENCES))
            if rng.random() < 0.3:
                extra_lines.append(rng.choice(STRING_REFERENCES))
        elif roll < 0.08:
            stats["decoys"] += 1
            choice = rng.choice(DECOYS)
            (extra_lines if choice.startswith("logger") else extra_imports).append(choice)
        (pkg / f"mod{i:05d}.py").write_text(module_body(rng, i, extra_imports, extra_lines))
        stats["files"] += 1
    return stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=False)
    print(generate(args.out, args.files, args.seed))


if __name__ == "__main__":
    main()
