"""Collected items for contract checks: one per check, marker ``ssot``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..domain.checks import Check

if TYPE_CHECKING:
    from ..domain.contracts import Contract


class Decides(Protocol):
    """What an item asks of the session plugin (``session.SsotSessionPlugin``, which
    imports this module: a protocol here keeps the import one-way)."""

    def decide(self, contract: "Contract | None", kind: str, target: str | None) -> Check: ...


class SsotCheckFailed(Exception):
    """Raised by a contract item whose check failed; carries the decided check."""

    def __init__(self, check: Check) -> None:
        super().__init__(check.summary)
        self.check = check


class ContractsFile(pytest.File):
    """The ``pyproject.toml`` that declares the contracts; parent of their items.

    Built by the session plugin, never by pytest's file collection.
    """

    def collect(self) -> list[Any]:
        return []


class ContractNode(pytest.Collector):
    """One contract: the parent of its check items (``pyproject.toml::<name>``)."""

    def collect(self) -> list[Any]:
        return []


class ContractCheckItem(pytest.Item):
    """One runtime check of one contract: canonical, a legacy path, a factory, aliases.

    Runs in whichever process executes it (xdist worker or the only process); the probe
    verdicts come from the session plugin, computed once per session.
    """

    def __init__(self, *, contract: "Contract | None", kind: str, target: str | None,
                 plugin: "Decides", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contract = contract
        self.kind = kind
        self.target = target
        self.plugin = plugin
        self.add_marker("ssot")

    def runtest(self) -> None:
        check = self.plugin.decide(self.contract, self.kind, self.target)
        if not check.passed:
            raise SsotCheckFailed(check)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, SsotCheckFailed):
            check = excinfo.value.check
            label = self.contract.name if self.contract is not None else "scan"
            return f"[ssot {label}] {check.explanation}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        what = {"aliases": "no undeclared aliases", "references": "references to legacy paths",
                "parse": "every scanned file parses"}.get(self.kind, f"{self.kind} {self.target}")
        label = self.contract.name if self.contract is not None else "scan"
        return self.path, None, f"ssot {label}: {what}"
