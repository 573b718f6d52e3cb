"""Pure data and rules: SSOT paths, contracts, verdicts, checks and their decisions,
deadlines, reference kinds and roles (with the one table of what each kind means), and
how file names are shown. The standard library only; imports nothing of ours but
``domain`` and ``errors`` (``tests/test_layers.py``, ARCHITECTURE.md)."""
