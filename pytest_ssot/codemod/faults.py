"""The faults that stop a whole fix run, each with one clear message (never a
traceback)."""

from __future__ import annotations

from ..errors import FAILED, SsotError

__all__ = ["FixError", "Interrupted"]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while rewritten files were being written: how far it got. Each file is
    written atomically, so each holds its old text or its new one."""

    def __init__(self, written: int, due: int) -> None:
        super().__init__(written, due)
        self.written, self.due = written, due

    def __str__(self) -> str:
        return (f"after rewriting {self.written} of {self.due} file(s); each file holds its "
                "old text or its new one: run `pytest-ssot fix` again to finish")


class FixError(SsotError):
    """A fault that stops the whole run (one clear message, never a traceback)."""

    exit_code = FAILED

