from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

XDIST_MODES = {
    "xdist-off": [],
    "xdist-n2": ["-n", "2"],
    "xdist-disabled": ["-p", "no:xdist"],
}


@pytest.fixture(params=sorted(XDIST_MODES))
def xdist_args(request: pytest.FixtureRequest) -> list[str]:
    """Plugin behaviour must be the same with xdist on, off and disabled."""
    return XDIST_MODES[request.param]
