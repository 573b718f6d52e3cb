"""pytest-ssot: single-source-of-truth import consolidation as pytest tests.

Public names: ``ssot_canonical`` and ``golden_path`` (the markers, i.e.
``pytest.mark.ssot_canonical`` and ``pytest.mark.golden_path``). They are resolved lazily
so that the command line and the pure core never import pytest.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ssot_canonical", "golden_path", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``@ssot_canonical("contract-name")`` or ``@ssot_canonical("pkg.mod:Name", legacy=[...])``;
    # ``@golden_path``: a test the release may not ship without (``pytest --golden-path``).
    if name in ("ssot_canonical", "golden_path"):
        import pytest

        return getattr(pytest.mark, name)
    raise AttributeError(f"module 'pytest_ssot' has no attribute {name!r}")
