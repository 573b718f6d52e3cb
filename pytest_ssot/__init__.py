"""pytest-ssot: single-source-of-truth import consolidation as pytest tests.

Public names: ``ssot_canonical`` and ``golden_path`` (the markers). Importing this package
imports nothing but pytest.
"""

from __future__ import annotations

import pytest

__all__ = ["ssot_canonical", "golden_path", "__version__"]
__version__ = "0.1.0"

#: ``@ssot_canonical("contract-name")`` or ``@ssot_canonical("pkg.mod:Name", legacy=[...])``
ssot_canonical = pytest.mark.ssot_canonical
#: ``@golden_path``: a test the release may not ship without (see ``pytest --golden-path``)
golden_path = pytest.mark.golden_path
