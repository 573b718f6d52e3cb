"""What importing one path in a fresh interpreter did: a :class:`Verdict`, plain data.

Pure: stdlib only. The probes that find the verdicts are ``probe``'s work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Verdict", "VERDICTS"]

VERDICTS = ("resolves", "warns", "absent", "broken")


@dataclass(frozen=True)
class Verdict:
    """What importing one path in a fresh interpreter state did."""

    path: str
    verdict: str
    warning: str | None = None
    warning_category: str | None = None
    error: str | None = None
    reason: str | None = None
    where: str | None = None
    is_canonical: bool | None = None
    exports_canonical: bool | None = None
    import_ms: float | None = None
    defined_in: str | None = None  # the canonical object's ``__module__`` (canonical only)
    warnings: tuple[tuple[str, str], ...] = field(default=())
    # the watched module entries in sys.modules once this path resolved (or failed)
    loaded: tuple[str, ...] = field(default=())
    # a deprecation warning raised meanwhile that is not about this path, and its raiser
    unrelated_warning: str | None = None
    unrelated_by: str | None = None
    # a factory whose body calls ``warn``: it warns only when called (no PEP 702 mark)
    warns_when_called: bool | None = None

    @property
    def resolves(self) -> bool:
        return self.verdict in ("resolves", "warns")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["warnings"] = [list(w) for w in self.warnings]
        d["loaded"] = list(self.loaded)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Verdict":
        d = dict(d)
        d["warnings"] = tuple(tuple(w) for w in d.get("warnings", ()))
        d["loaded"] = tuple(d.get("loaded") or ())
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """One line: the verdict and its evidence."""
        if self.verdict == "warns":
            return f"warns ({self.warning_category}: {self.warning})"
        if self.verdict == "broken":
            return f"broken ({self.error})"
        if self.verdict == "absent":
            return f"absent ({self.reason})" if self.reason else "absent"
        return "resolves"
