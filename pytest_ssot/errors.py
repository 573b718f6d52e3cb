"""The errors pytest-ssot reports to its user: one family, each member with its exit code.

Base layer: imports nothing. Every error that reaches the user as one line (never a
traceback) is an :class:`SsotError` and says, as the class attribute ``exit_code``, how
the ``pytest-ssot`` command ends when it stops on it: :data:`FAILED` (1: a check failed or
could not be done) or :data:`USAGE` (2: the configuration, an argument or the
environment is wrong). Under pytest a usage error becomes ``pytest.UsageError`` (pytest's
exit code 4) and a failure a failed test. Each error keeps the base class it had before
the family (``ValueError``, ``OSError``...), so every ``except`` that caught it still does.

An error lives where it is raised (``PathSyntaxError`` in ``domain.paths``, ``GitError``
in ``history.git``...); :class:`ConfigError` lives here because every layer from the
configuration up raises or catches it.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["SsotError", "ConfigError", "OK", "FAILED", "USAGE"]

OK = 0
FAILED = 1  # a check failed, or a file or a probe could not be checked
USAGE = 2  # the configuration, an argument or the environment is wrong


class SsotError(Exception):
    """An error said to the user in one line; ``exit_code``: the command's exit code."""

    exit_code: ClassVar[int]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "exit_code", None), int):
            raise TypeError(f"{cls.__qualname__}: an SsotError says its exit code "
                            "(class attribute exit_code)")


class ConfigError(SsotError):
    """The configuration is wrong; the message says where and what is valid."""

    exit_code = USAGE
