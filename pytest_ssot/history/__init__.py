"""The migration over time (SPEC 11: ``pytest-ssot history``). Pure core: no pytest.

Kept empty so that building the command line parser imports nothing heavy:
``timeline`` scans commits, ``git`` reads objects, ``blobs`` analyses and caches file
contents; the subcommand is ``cli/commands/history.py``.
"""
