"""SARIF 2.1.0 rendering of scan violations: one result per violation. Pure."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import __version__ as _version

RULES = {
    "legacy": ("SSOT001", "legacy-import-path",
               "A reference to a legacy import path of an SSOT contract."),
    "factory": ("SSOT002", "deprecated-factory",
                "A reference to a deprecated factory of an SSOT contract."),
    "definition": ("SSOT003", "second-implementation",
                   "A second module-level definition of a canonical SSOT name."),
}


def artifact_uri(file: str) -> str:
    """A POSIX relative path as a relative URI reference: every byte outside RFC 3986's
    unreserved set and ``/`` is percent-encoded (spaces, ``#``, ``%``, non-ASCII). A file
    name that is not valid UTF-8 reaches us with its raw bytes as lone surrogates
    (``surrogateescape``): those bytes are percent-encoded as they are on disk."""
    return quote(file.encode("utf-8", "surrogateescape"), safe="/")


def build_sarif(violations: list[dict[str, Any]], errors: list[dict[str, str]]) -> dict:
    rules = [{"id": rid, "name": name, "shortDescription": {"text": text},
              "defaultConfiguration": {"level": "error"}}
             for rid, name, text in RULES.values()]
    index = {role: i for i, role in enumerate(RULES)}
    results = []
    for v in violations:
        rid = RULES[v["role"]][0]
        what = ("defines a second " + v["path"].rpartition(":")[2] if v["role"] == "definition"
                else f"references {v['path']}")
        results.append({
            "ruleId": rid, "ruleIndex": index[v["role"]], "level": "error",
            "message": {"text": f"[{v['contract']}] {what}; use {v['fix']}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(v["file"]),
                                     "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": v["line"]}}}],
            "properties": {"contract": v["contract"], "kind": v["kind"], "area": v["area"]},
        })
    notifications = [{"level": "error", "message": {"text": e["message"]},
                      "locations": [{"physicalLocation": {
                          "artifactLocation": {"uri": artifact_uri(e["file"]),
                                           "uriBaseId": "%SRCROOT%"}}}]}
                     for e in errors]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "pytest-ssot", "version": _version,
                            "informationUri": "https://pypi.org/project/pytest-ssot/",
                            "rules": rules}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": True,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [run]}
