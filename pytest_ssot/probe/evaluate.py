"""Contracts -> what the probes find about them (:class:`ContractRuntime`): every path
verdicted and every alias scope searched, in two probe-server rounds for all contracts
together. Pure core: no pytest import. Deciding pass or fail is ``domain.checks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..domain.checks import ContractRuntime, module_entries
from ..domain.contracts import Contract
from ..domain.paths import SsotPath, parse_path
from . import probe_task, run_tasks, verdict_from_answer

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["evaluate"]


def _canonical_name(c: SsotPath) -> str:
    return c.attr if c.attr is not None else c.module.rpartition(".")[2]


def _declared_filter(contract: Contract):
    module_entries = {p.module for p in (*contract.legacy, *contract.factories, *contract.allow)
                      if p.attr is None}
    attr_entries = {p for p in (*contract.legacy, *contract.factories, *contract.allow)
                    if p.attr is not None}

    def is_declared(module: str, name: str) -> bool:
        p = SsotPath(module, name)
        return p == contract.canonical or p in attr_entries or module in module_entries

    return module_entries, is_declared


def evaluate(contracts: Sequence[Contract], *, sys_path: Sequence[str], timeout: float,
             parallel: int | None = None,
             project_root: "Path | None" = None,
             strict: bool = False) -> dict[str, ContractRuntime]:
    """Probe every path of every contract and search each alias scope. ``project_root``:
    an absent legacy or factory path is looked for in the project's working tree and git
    history; one that never existed there is a configuration error (``never_existed``).
    ``strict``: without a configured ``alias_scope``, aliases are searched in the
    canonical's whole top-level package (as ``discover`` searches), so that a real legacy
    path left beside a misspelled declaration fails by name."""
    tasks: list[dict] = []
    layout: list[tuple[Contract, int, int, int]] = []
    watch = module_entries(contracts)
    for c in contracts:
        start = len(tasks)
        tasks.append(probe_task(c.canonical, canonical=c.canonical,
                                categories=c.deprecation_warnings, fresh=True, watch=watch))
        for p in c.legacy:
            tasks.append(probe_task(p, canonical=c.canonical, categories=c.deprecation_warnings,
                                    watch=watch))
        for p in c.factories:
            tasks.append(probe_task(p, canonical=c.canonical, categories=c.deprecation_warnings,
                                    watch=watch, factory=True))
        tasks.append({"kind": "enumerate", "scope": _alias_scope(c, strict),
                      "canonical": {"module": c.canonical.module, "attr": c.canonical.attr},
                      "preimport": ""})
        layout.append((c, start, len(c.legacy), len(c.factories)))
    answers = run_tasks(tasks, sys_path=sys_path, timeout=timeout, parallel=parallel)

    results: dict[str, ContractRuntime] = {}
    alias_tasks: list[dict] = []
    alias_owner: list[tuple[str, str]] = []
    for c, start, n_legacy, n_fact in layout:
        canonical = verdict_from_answer(c.canonical, answers[start])
        legacy = [verdict_from_answer(p, answers[start + 1 + i]) for i, p in enumerate(c.legacy)]
        factories = [verdict_from_answer(p, answers[start + 1 + n_legacy + i])
                     for i, p in enumerate(c.factories)]
        rt = ContractRuntime(c.name, canonical, legacy, factories,
                             searched=_alias_scope(c, strict))
        results[c.name] = rt
        if project_root is not None:
            _never_existed(rt, project_root, sys_path, c.canonical)
        enum = answers[start + 1 + n_legacy + n_fact]
        if "died" in enum:
            rt.alias_skipped = f"listing the alias scope failed: {enum['died']}"
            continue
        if "skip" in enum:
            rt.alias_skipped = enum["skip"]
            continue
        rt.alias_errors.extend(enum["errors"])
        skip_modules, _ = _declared_filter(c)
        for module in enum["modules"]:
            if module in skip_modules:
                continue
            alias_tasks.append({
                "kind": "alias_module", "module": module,
                "canonical": {"module": c.canonical.module, "attr": c.canonical.attr},
                "preimport": module.rpartition(".")[0],
            })
            alias_owner.append((c.name, module))

    alias_answers = run_tasks(alias_tasks, sys_path=sys_path, timeout=timeout,
                              parallel=parallel)
    by_name = {c.name: c for c in contracts}
    for (name, module), answer in zip(alias_owner, alias_answers):
        c, rt = by_name[name], results[name]
        if "died" in answer:
            rt.alias_errors.append({"module": module, "error": answer["died"]})
            continue
        if "error" in answer:
            rt.alias_errors.append({"module": module, "error": answer["error"]})
            continue
        _, is_declared = _declared_filter(c)
        canonical_name = _canonical_name(c.canonical)
        for attr, in_all in answer["found"]:
            if (attr != canonical_name or in_all) and not is_declared(module, attr):
                rt.aliases.append(f"{module}:{attr}")
    for rt in results.values():
        rt.aliases.sort()
    return results


def _alias_scope(c: Contract, strict: bool) -> list[str]:
    if strict and not c.alias_scope:
        return [c.canonical.module.partition(".")[0]]
    return list(c.effective_alias_scope)


def _never_existed(rt: ContractRuntime, root: "Path", sys_path: Sequence[str],
                   canonical: SsotPath) -> None:
    from ..config.existence import attribute_never_existed, never_existed

    for v in (*rt.legacy, *rt.factories):
        if v.verdict != "absent":
            continue
        path = parse_path(v.path)
        close = None
        if (v.reason or "").startswith("no module named"):
            close = never_existed(path.module, root, sys_path,
                                  expected=[canonical.module])
        elif path.attr is not None and " has no attribute " in (v.reason or ""):
            close = attribute_never_existed(path.module, path.attr, root, sys_path)
        if close is not None:
            rt.never_existed[v.path] = close
