from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Iterator
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


# importlib_metadata (the backport, imported by pygal when an in-process pytester run
# writes --ssot-html) deletes ``find_distributions`` from the standard library's
# PathFinder on import, in favour of a finder of its own. pytester restores sys.meta_path
# and sys.modules after the run, which removes that finder, but not the deleted method:
# every later in-process run of this worker then found no installed distribution, so no
# pytest11 plugin, ours included ("unrecognized arguments: --ssot-strict").
_PATH_FINDER = importlib.machinery.PathFinder
_FIND_DISTRIBUTIONS = _PATH_FINDER.__dict__.get("find_distributions")


@pytest.fixture(autouse=True)
def _keep_the_standard_metadata_finder() -> Iterator[None]:
    yield
    if (_FIND_DISTRIBUTIONS is not None
            and "find_distributions" not in _PATH_FINDER.__dict__):
        _PATH_FINDER.find_distributions = _FIND_DISTRIBUTIONS  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _inner_runs_are_not_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs a test starts (pytester, in process or not) behave as on a
    developer's machine, also when this suite runs in CI: with ``CI`` or ``BUILD_NUMBER``
    set, pytest prints the short summary untruncated (each failure's text twice, which
    tests that count lines of our output then count twice) and hypothesis loads its
    ``ci`` profile."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
