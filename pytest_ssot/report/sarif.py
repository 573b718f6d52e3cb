"""SARIF 2.1.0 rendering of scan violations: one result per violation. Pure.

Rules are per contract and role (``SSOT001/ws-manager``: a legacy path of ``ws-manager``),
so that code scanning groups and explains alerts by contract. Each result carries our
fingerprint in ``partialFingerprints`` (it survives edits elsewhere and reformatting, so an
alert is not closed and reopened when lines move) and, when a baseline exists,
``baselineState``: ``new`` results are errors, ``unchanged`` (baselined) ones warnings.
"""

from __future__ import annotations

from typing import Any, Sequence
from urllib.parse import quote

from .. import __version__ as _version
from ..domain.contracts import Contract
from ..domain.refkind import ROLES_TABLE, Role

__all__ = ["RULES", "FINGERPRINT_KEY", "build_sarif", "artifact_uri"]

# role -> (rule id, rule name, description), for the roles whose references are violations
RULES = {role: (info.sarif_id, info.sarif_name, info.sarif_description)
         for role, info in ROLES_TABLE.items() if info.sarif_id is not None}
FINGERPRINT_KEY = "pytestSsot/v1"
_INFO = "https://pypi.org/project/pytest-ssot/"


def artifact_uri(file: str) -> str:
    """A POSIX relative path as a relative URI reference: every byte outside RFC 3986's
    unreserved set and ``/`` is percent-encoded (spaces, ``#``, ``%``, non-ASCII). A file
    name that is not valid UTF-8 reaches us with its raw bytes as lone surrogates
    (``surrogateescape``): those bytes are percent-encoded as they are on disk."""
    return quote(file.encode("utf-8", "surrogateescape"), safe="/")


def _rule(base: str, name: str, role: str, contract: Contract | None,
          contract_name: str) -> dict[str, Any]:
    rid = f"{base}/{contract_name}"
    if contract is None:
        full = f"{RULES[role][2]} (contract {contract_name})"
        help_text = "Use the contract's canonical path."
        canonical = None
    else:
        canonical = str(contract.canonical)
        declared = {Role.LEGACY: contract.legacy, Role.FACTORY: contract.factories}.get(role, ())
        listed = ", ".join(str(p) for p in declared)
        if role == Role.DEFINITION:
            full = (f"Contract {contract_name}: {canonical} is the single definition; a "
                    "module-level class or function of the same name elsewhere is a second "
                    "implementation.")
            help_text = f"Delete the second definition and import {canonical}."
        else:
            what = "legacy import paths" if role == Role.LEGACY else "deprecated factories"
            full = (f"Contract {contract_name}: the canonical path is {canonical}; its "
                    f"{what} ({listed}) are to be removed.")
            help_text = (f"Import {canonical} instead (`pytest-ssot fix` rewrites what it can "
                         "prove equivalent).")
    short = ROLES_TABLE[role].sarif_short.format(contract=contract_name)  # type: ignore[index,union-attr]
    return {"id": rid, "name": name, "shortDescription": {"text": short},
            "fullDescription": {"text": full}, "help": {"text": help_text},
            "helpUri": _INFO, "defaultConfiguration": {"level": "error"},
            "properties": {"contract": contract_name, "role": role,
                           **({"canonical": canonical} if canonical else {}),
                           "tags": ["maintainability", "single-source-of-truth"]}}


def build_sarif(violations: list[dict[str, Any]], errors: list[dict[str, str]],
                contracts: Sequence[Contract] = ()) -> dict:
    """``violations``: report dicts (``report.violation_dicts``), with ``fingerprint`` and
    ``baseline`` when known."""
    by_name = {c.name: c for c in contracts}
    wanted: list[tuple[str, str]] = []
    for c in contracts:
        roles = [r for r, present in ((Role.LEGACY, c.legacy), (Role.FACTORY, c.factories),
                                      (Role.DEFINITION, c.canonical.attr is not None))
                 if present]
        wanted.extend((c.name, r) for r in roles)
    for v in violations:
        if (v["contract"], v["role"]) not in wanted:
            wanted.append((v["contract"], v["role"]))
    rules = [_rule(RULES[role][0], RULES[role][1], role, by_name.get(name), name)
             for name, role in wanted]
    index = {key: i for i, key in enumerate(wanted)}
    results = []
    for v in violations:
        what = ("defines a second " + v["path"].rpartition(":")[2]
                if v["role"] == Role.DEFINITION
                else f"references {v['path']}")
        state = v.get("baseline")
        result: dict[str, Any] = {
            "ruleId": rules[index[(v["contract"], v["role"])]]["id"],
            "ruleIndex": index[(v["contract"], v["role"])],
            "level": "warning" if state == "unchanged" else "error",
            "message": {"text": f"[{v['contract']}] {what}; use {v['fix']}"
                                + (" (held by the baseline)" if state == "unchanged" else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(v["file"]), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": v["line"]}}}],
            "properties": {"contract": v["contract"], "kind": v["kind"], "area": v["area"],
                           **({"statement": v["text"]} if v.get("text") else {})},
        }
        if v.get("fingerprint"):
            result["partialFingerprints"] = {FINGERPRINT_KEY: v["fingerprint"]}
        if state is not None:
            result["baselineState"] = state
        results.append(result)
    notifications = [{"level": "error", "message": {"text": e["message"]},
                      "locations": [{"physicalLocation": {
                          "artifactLocation": {"uri": artifact_uri(e["file"]),
                                               "uriBaseId": "%SRCROOT%"}}}]}
                     for e in errors]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "pytest-ssot", "version": _version,
                            "informationUri": _INFO, "rules": rules}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": True,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [run]}
