"""Runtime census: which callers still reach a legacy or factory path, counted where it runs.

Standard library only, importable without pytest: a service enables it at start-up with

    import pytest_ssot.census
    pytest_ssot.census.install(path="ssot-census.jsonl")

and the test session uses the same recorder (``plugin/census.py``). What counts as a *hit*:

- the import of a declared legacy or factory module (a meta-path finder placed first on
  ``sys.meta_path``: silent shims count too, not only the ones that warn);
- an attribute read that a watched module serves: any public name of a legacy or factory
  module, and the declared name ``A`` of a ``module:A`` entry (the module's class is
  switched to a subclass whose ``__getattribute__`` notes the read; the module's own code
  reads its globals directly and is not slowed).

The caller is the first frame outside the shim, pytest-ssot, importlib and the standard
library, as ``file:line`` (relative to the project root, or to ``site-packages``).
Nothing here raises into the application: a failure inside the census costs the hit, never
the import or the attribute. Memory is bounded (``max_callers`` distinct callers per path,
then an overflow count), updates hold a lock, and a forked child starts with empty counts
(its parent's hits are the parent's to write).

Census files are JSON lines; every line carries ``schema`` and ``project`` so that a file
from another project or a newer version is recognised and skipped by ``read_census``.
"""

from __future__ import annotations

# The package's public face; the parts: watches (schema, Watch, identity), recorder (counting
# and the import/attribute hooks), imports (the test-time import-statement watch), service
# (install/flush/uninstall), files (reading and merging census files).
from .files import CensusMerge, census_lines, not_a_census_file, read_census
from .imports import ImportWatch
from .recorder import Recorder, activate, deactivate
from .service import flush, install, uninstall
from .watches import (OVERFLOW, SCHEMA, SCHEMA_NAME, SCHEMA_VERSION, Watch, find_pyproject,
                      project_identity, watches_from_contracts)

__all__ = ["SCHEMA", "SCHEMA_NAME", "SCHEMA_VERSION", "OVERFLOW", "install", "uninstall", "flush",
           "Recorder", "Watch", "ImportWatch", "activate", "deactivate", "read_census",
           "census_lines", "not_a_census_file", "CensusMerge", "project_identity",
           "find_pyproject", "watches_from_contracts"]
