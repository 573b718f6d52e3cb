"""Runtime SSOT checks: what the probes found about a contract -> pass/fail per mode.

Pure: stdlib only. ``probe.evaluate`` finds the verdicts (a :class:`ContractRuntime` per
contract); ``checks`` decides; both are plain data that the pytest layer and the
renderers present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .contracts import Contract
from .verdicts import Verdict

__all__ = ["ContractRuntime", "Check", "checks", "check_for", "check_specs",
           "module_entries"]


@dataclass
class ContractRuntime:
    """Everything the probes found out about one contract."""

    name: str
    canonical: Verdict
    legacy: list[Verdict]
    factories: list[Verdict]
    aliases: list[str] = field(default_factory=list)
    alias_errors: list[dict[str, str]] = field(default_factory=list)
    alias_skipped: str | None = None
    # legacy/factory paths that are absent because they never existed: the closest names
    never_existed: dict[str, list[str]] = field(default_factory=dict)
    # the packages the alias search covered (strict: the canonical's whole top package)
    searched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canonical": self.canonical.to_dict(),
            "legacy": [v.to_dict() for v in self.legacy],
            "factories": [v.to_dict() for v in self.factories],
            "aliases": list(self.aliases),
            "alias_errors": list(self.alias_errors),
            "alias_skipped": self.alias_skipped,
            "never_existed": dict(self.never_existed),
            "searched": list(self.searched),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ContractRuntime":
        return cls(
            name=d["name"], canonical=Verdict.from_dict(d["canonical"]),
            legacy=[Verdict.from_dict(v) for v in d["legacy"]],
            factories=[Verdict.from_dict(v) for v in d["factories"]],
            aliases=list(d["aliases"]), alias_errors=list(d["alias_errors"]),
            alias_skipped=d["alias_skipped"],
            never_existed=dict(d.get("never_existed") or {}),
            searched=list(d.get("searched") or []),
        )


def module_entries(contracts: Sequence[Contract]) -> list[str]:
    """The declared legacy and factory *module* entries of all contracts (the shims)."""
    return sorted({p.module for c in contracts for p in (*c.legacy, *c.factories)
                   if p.attr is None})


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One runtime check of one contract, decided for one mode."""

    contract: str
    kind: str  # canonical | legacy | factory | aliases
    path: str | None
    passed: bool
    summary: str
    explanation: str = ""

    @property
    def title(self) -> str:
        if self.kind == "aliases":
            return "no undeclared aliases"
        return f"{self.kind} {self.path}"


def _where(v: Verdict) -> str:
    return f"\n  raised at: {v.where}" if v.where else ""


def _check_canonical(c: Contract, v: Verdict) -> Check:
    if v.verdict == "resolves":
        if c.max_import_ms and v.import_ms is not None and v.import_ms > c.max_import_ms:
            return Check(c.name, "canonical", v.path, False,
                         f"resolves, but its import took {v.import_ms:.1f} ms",
                         f"canonical path {v.path} took {v.import_ms:.1f} ms to import in a "
                         f"fresh interpreter; the contract allows max_import_ms = "
                         f"{c.max_import_ms:g}.\n"
                         "fix: make the canonical module cheaper to import (defer heavy "
                         "imports), or raise max_import_ms.")
        return Check(c.name, "canonical", v.path, True, "resolves")
    head = f"canonical path {v.path} must resolve without a deprecation warning, but it "
    if v.verdict == "warns":
        body = (head + f"warns:\n  {v.warning_category}: {v.warning}\n"
                "fix: the canonical path is the one every caller is told to use; it must not "
                "emit a deprecation warning. Move the warning to the legacy paths.")
    elif v.verdict == "absent":
        body = (head + f"is absent: {v.reason}.\n"
                "fix: check the path in [tool.pytest-ssot] and that the project is importable "
                "from the test session (install it, or set pythonpath = [\".\"] or "
                "[\"src\"] in [tool.pytest.ini_options]).")
    else:
        body = (head + f"is broken:\n  {v.error}{_where(v)}\n"
                "fix: the canonical module must import cleanly in a fresh interpreter.")
    return Check(c.name, "canonical", v.path, False, v.describe(), body)


def _check_legacy(c: Contract, kind: str, v: Verdict, strict: bool,
                  never_existed: "list[str] | None" = None) -> Check:
    what = "legacy path" if kind == "legacy" else "factory"
    canonical = str(c.canonical)
    if v.verdict == "absent" and never_existed is not None:
        guess = (f"\ndid you mean {' or '.join(never_existed)}?" if never_existed else "")
        body = (f"configuration error: {what} {v.path} never existed in this project: "
                "not in the working tree, not in git history, so its absence proves "
                f"nothing (a typo checks nothing while the real path stays).{guess}\n"
                f"fix: correct the path in contract {c.name!r} of [tool.pytest-ssot]; a "
                "path that was removed is found in git history and passes as absent.")
        return Check(c.name, kind, v.path, False, "never existed (configuration error)", body)
    deadline = c.deadline(v.path) if kind == "legacy" else None
    if deadline is not None and deadline.passed and not strict:
        # SPEC 13: from its deadline on, a path is held to strict mode in every run
        chk = _check_legacy(c, kind, v, True, never_existed)
        if chk.passed:
            return chk
        return Check(c.name, kind, v.path, False,
                     f"{chk.summary}; deadline passed: {deadline.passed}",
                     f"{chk.explanation}\ndeadline passed: {deadline.passed}: from its "
                     "deadline on, the path is held to strict mode in every run.")
    if v.verdict == "absent":
        return Check(c.name, kind, v.path, True, v.describe())
    if v.verdict == "warns" and not strict:
        due = f" ({deadline.describe()})" if deadline is not None else ""
        return Check(c.name, kind, v.path, True, v.describe() + due)
    if v.verdict == "broken":
        body = (f"{what} {v.path} is broken: importing it fails for another reason than its "
                f"absence:\n  {v.error}{_where(v)}\n"
                "A broken path is never counted as removed: the module still exists (its own "
                "code or one of its dependencies fails).\n"
                "fix: delete the module (and its re-exports) if it is meant to be gone, or "
                "repair it so that it imports and warns while callers migrate.")
        return Check(c.name, kind, v.path, False, v.describe(), body)
    identity = ""
    if kind == "legacy" and v.is_canonical is False:
        identity = (f"\nnote: it is not the canonical object: a second implementation, not "
                    f"a re-export of {canonical}.")
    if v.verdict == "warns":  # strict
        body = (f"{what} {v.path} still resolves (with a deprecation warning):\n"
                f"  {v.warning_category}: {v.warning}\n"
                f"--ssot-strict expects it to be absent.{identity}\n"
                f"fix: delete it and point the remaining references at {canonical} "
                "(`pytest-ssot scan` lists them).")
        return Check(c.name, kind, v.path, False, v.describe(), body)
    if kind == "factory" and v.warns_when_called:
        identity += (f"\nnote: {v.path} warns only when called; factories are not called "
                     "(a call can have side effects), so that warning cannot be seen."
                     "\n  Declare it with @deprecated(\"...\") (warnings.deprecated on Python "
                     "3.13+, typing_extensions.deprecated before; PEP 702): it is read "
                     "without a call.")
    if v.unrelated_warning:
        by = f"by {v.unrelated_by} and " if v.unrelated_by else ""
        identity += (f"\nnote: a DeprecationWarning was raised while importing it, but {by}"
                     f"not about {v.path}:\n  {v.unrelated_warning}\n  only a warning raised "
                     f"by the legacy module itself, or naming {v.path} or {canonical}, "
                     "counts.")
    expected = ("absent" if strict else
                "absent, or a DeprecationWarning when it is imported or accessed")
    body = (f"{what} {v.path} resolves silently: importing it raises no deprecation "
            f"warning.\n  expected ({'strict' if strict else 'transitional'}): {expected}"
            f"{identity}\nfix: delete it, or while callers migrate emit "
            f"warnings.warn(\"{v.path} is deprecated; use {canonical}\", DeprecationWarning, "
            "stacklevel=2) when it is imported or accessed (`pytest-ssot shims --write` "
            "generates that shim for a module with no code of its own).")
    return Check(c.name, kind, v.path, False, v.describe(), body)


def _check_aliases(c: Contract, rt: ContractRuntime, strict: bool) -> Check:
    if rt.alias_skipped:
        return Check(c.name, "aliases", None, True, f"not searched: {rt.alias_skipped}")
    n = len(rt.aliases)
    scope = ", ".join(rt.searched or c.effective_alias_scope)
    if not n:
        return Check(c.name, "aliases", None, True, f"none in {scope}")
    listing = "\n".join(f"  {a}" for a in rt.aliases)
    summary = f"{n} undeclared: " + ", ".join(rt.aliases)
    if not strict:
        return Check(c.name, "aliases", None, True, summary)
    body = (f"{n} undeclared alias(es) of {c.canonical} in {scope}:\n{listing}\n"
            "Each is the canonical object under another name, or re-exported through "
            "__all__: a second import path nobody declared.\n"
            "fix: remove the alias and import the canonical path, or declare it in the "
            "contract's `legacy` (to be removed) or `allow` (sanctioned).")
    return Check(c.name, "aliases", None, False, summary, body)


def checks(contract: Contract, rt: ContractRuntime, strict: bool) -> list[Check]:
    """Every runtime check of a contract, decided for the mode."""
    out = [_check_canonical(contract, rt.canonical)]
    out += [_check_legacy(contract, "legacy", v, strict, rt.never_existed.get(v.path))
            for v in rt.legacy]
    out += [_check_legacy(contract, "factory", v, strict, rt.never_existed.get(v.path))
            for v in rt.factories]
    out.append(_check_aliases(contract, rt, strict))
    return out


def check_for(contract: Contract, rt: ContractRuntime, kind: str, path: str | None,
              strict: bool) -> Check:
    for chk in checks(contract, rt, strict):
        if chk.kind == kind and chk.path == path:
            return chk
    raise KeyError((contract.name, kind, path))


def check_specs(contract: Contract) -> Iterable[tuple[str, str | None]]:
    """The (kind, path) of each check, known before anything is probed."""
    yield "canonical", str(contract.canonical)
    for p in contract.legacy:
        yield "legacy", str(p)
    for p in contract.factories:
        yield "factory", str(p)
    yield "aliases", None
