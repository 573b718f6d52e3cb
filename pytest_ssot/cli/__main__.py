"""``python -m pytest_ssot.cli``: the ``pytest-ssot`` command without its console script."""

from . import console

console()
