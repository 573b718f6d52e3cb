"""Check a project: configuration -> scan -> ratchet -> checks -> report data.

The one flow both entry points run: the pytest plugin (``plugin.session``, which asks for
each part when an item or a report needs it) and ``pytest-ssot scan``
(``check_scan``, which runs the static half at once). Pure core: no pytest import; a
configuration problem is a ``ConfigError`` that each adapter says its own way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..domain.contracts import Contract, SsotConfig
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..domain.checks import Check, ContractRuntime
    from ..report import Rendered
    from ..scan import ScanResult
    from ..scan.baseline import Baseline, Held

__all__ = ["Mode", "ScanCheck", "RewrittenThenFailed", "Project", "check_paths", "check_spelling",
           "check_baseline_path", "check_scan"]


@dataclass(frozen=True)
class Mode:
    """Strict or transitional, decided once per run, and what made it strict (the header
    says so to a user who did not pass the flag)."""

    strict: bool
    source: str = ""  # "--ssot-strict", "strict = true in pyproject.toml"; "" if not strict

    @classmethod
    def decide(cls, flag: bool, flag_name: str, settings: SsotConfig) -> "Mode":
        """``flag``: the command line's switch (named ``flag_name``), which wins over the
        configuration's ``strict`` key."""
        where = settings.file.name if settings.file else "pyproject.toml"
        source = (flag_name if flag else f"strict = true in {where}" if settings.strict
                  else "")
        return cls(bool(flag) or settings.strict, source)


def check_paths(settings: SsotConfig, root: Path) -> None:
    """Each configured scan path exists inside the rootdir (said before any test runs, not
    by the scan inside a check's item)."""
    real_root = root.resolve()
    for entry in settings.paths if settings.contracts else ():
        where = f"pyproject.toml: [tool.pytest-ssot] key 'paths': {entry!r}"
        start = (root / entry).resolve()
        if start != real_root and real_root not in start.parents:
            raise ConfigError(f"{where} is outside the rootdir")
        if not start.exists():
            raise ConfigError(f"{where} does not exist (paths are relative to the rootdir)")


def check_spelling(settings: SsotConfig, root: Path) -> None:
    """A declared legacy or factory module path that never existed, next to a real one, is
    a configuration error for the scan too: the pytest run says it through its runtime
    check (``domain.checks``), but a CI job that runs only the scan would pass while the
    real path stays unchecked (``config.existence.misspelled`` says when it is safe)."""
    from ..config.existence import misspelled
    from ..config.syspath import project_sys_path

    sys_path = project_sys_path(root, lenient=True)
    for c in settings.contracts:
        for what, entries in (("legacy path", c.legacy), ("factory", c.factories)):
            for p in entries:
                close = misspelled(p.module, root, sys_path, expected=[c.canonical.module])
                if close is not None:
                    raise ConfigError(
                        f"pyproject.toml: contract {c.name!r}: {what} {p} never existed in "
                        "this project (not in the working tree, not in git history): a "
                        "misspelled path checks nothing while the real one stays; did you "
                        f"mean {' or '.join(close)}?")


def check_baseline_path(path: Path, root: Path, *, updating: bool,
                        update_rules_first: bool) -> None:
    """A baseline that is a folder or a FIFO is not "no baseline, no limit" (that would be a
    silent pass): a ``ConfigError`` before the run, as is one an update could not write.

    ``update_rules_first``: the command checks an update's rules (inside the rootdir, a
    baseline of ours) before the target's kind, so that the folder probe never touches
    outside the root; the pytest plugin checks an existing non-file first. The two orders
    give different messages for a folder outside the root: kept as they were."""
    from ..atomic import resolve_target, target_problem
    from ..scan.baseline import update_problem

    def odd() -> bool:  # (asked only where each order asked it: ``exists`` can raise)
        return path.exists() and not resolve_target(path).is_file()

    if update_rules_first:
        problem = ((update_problem(path, root) or target_problem(path)) if updating
                   else target_problem(path) if odd() else None)
    elif odd():
        problem = target_problem(path)
    else:
        problem = (update_problem(path, root) or target_problem(path)) if updating else None
    if problem is not None:
        raise ConfigError(f"pyproject.toml: [tool.pytest-ssot] key 'baseline': {problem}")


class RewrittenThenFailed(ConfigError):
    """The baseline was rewritten, then could not be read back (changed meanwhile): the
    rewrite is still said before the error."""

    def __init__(self, message: str, changes: "tuple[str, ...]") -> None:
        super().__init__(message)
        self.changes = changes


@dataclass(frozen=True)
class ScanCheck:
    """The static half of a project's check: the scan, held against the baseline, and the
    verdict of each contract's references and of the files that could not be read."""

    result: "ScanResult"
    held: "Held"
    references: Mapping[str, "Check"]  # contract name -> its references check
    parse: "Check"
    # the baseline's changes when this run rewrote it (``None``: not rewritten)
    baseline_changes: "tuple[str, ...] | None" = None
    # made while the scan's workers walked, from the cache's guess (``None``: not made)
    prepared_listing: "tuple[str, ...] | None" = None
    prepared_violations: "Rendered | None" = None

    @property
    def passed(self) -> bool:
        return self.parse.passed and all(c.passed for c in self.references.values())

    def listing(self) -> list[str]:
        """One line per violation, marked new or held by the baseline."""
        if self.prepared_listing is not None:
            return list(self.prepared_listing)
        from ..report import violation_listing

        return violation_listing(self.result.violations, self.held.states)


class Project:
    """One project's checks for one run, each computed once and only when asked for.

    The pytest plugin asks part by part (an item's verdict, a report at the end); in an
    xdist worker the controller's probes and scan arrive as JSON (``shipped_*``) and
    are used instead of running again.
    """

    def __init__(self, settings: SsotConfig, root: Path, mode: Mode, *,
                 sys_path: list[str] | None = None,
                 cache_path: Callable[[], Path | None] | None = None,
                 cache_mode: str = "use",
                 shipped_runtimes: str | None = None,
                 shipped_scan: str | None = None) -> None:
        self.settings = settings
        self.root = root
        self.mode = mode
        self.sys_path = sys_path
        self._cache_path = cache_path
        self._cache_mode = cache_mode
        self._shipped_runtimes = shipped_runtimes
        self._shipped_scan = shipped_scan
        self._runtimes: dict[str, ContractRuntime] | None = None
        self._scan: ScanResult | None = None
        self._baseline: Baseline | None = None
        self._baseline_loaded = False
        self._held: Held | None = None

    @property
    def baseline_path(self) -> Path:
        return self.root / self.settings.baseline

    # What ran already (a report says only what the run did).
    @property
    def probed(self) -> "dict[str, ContractRuntime] | None":
        return self._runtimes

    @property
    def scanned(self) -> "ScanResult | None":
        return self._scan

    def runtimes(self) -> dict[str, "ContractRuntime"]:
        """The probes' verdicts of every contract's paths."""
        if self._runtimes is None:
            from ..domain.checks import ContractRuntime
            from ..probe.evaluate import evaluate

            if self._shipped_runtimes:
                self._runtimes = {k: ContractRuntime.from_dict(v)
                                  for k, v in json.loads(self._shipped_runtimes).items()}
            else:
                self._runtimes = evaluate(self.settings.contracts, sys_path=self.sys_path or [],
                                          timeout=self.settings.probe_timeout,
                                          project_root=self.root, strict=self.mode.strict)
        return self._runtimes

    def scan(self) -> "ScanResult":
        """The static scan (a ``ConfigError`` for a configuration it cannot run)."""
        if self._scan is None:
            from ..scan import ScanResult, scan

            if self._shipped_scan:
                self._scan = ScanResult.from_dict(json.loads(self._shipped_scan))
            else:
                # When the probes already ran, the canonical objects' ``__module__``
                # tells where they are defined (no second definition there).
                defined_in = {k: rt.canonical.defined_in
                              for k, rt in (self._runtimes or {}).items()
                              if rt.canonical.defined_in}
                self._scan = scan(self.settings, self.root,
                                  cache_path=self._cache_path() if self._cache_path else None,
                                  defined_in=defined_in or None, cache_mode=self._cache_mode)
        return self._scan

    def baseline(self) -> "Baseline | None":
        if not self._baseline_loaded:
            from ..scan.baseline import load

            self._baseline = load(self.baseline_path)
            self._baseline_loaded = True
        return self._baseline

    def update_baseline(self) -> list[str]:
        """Write the scan as the new baseline (the ratchet); what was added and dropped."""
        from ..scan.baseline import update

        changes = update(self.baseline_path, self.scan(), self.settings.contracts, self.root)
        self._baseline_loaded = False
        self._held = None
        return changes

    def held(self) -> "Held":
        """The scan held against the baseline."""
        if self._held is None:
            from ..scan.baseline import hold

            self._held = hold(self.scan(), self.baseline())
        return self._held

    def reference_checks(self) -> dict[str, "Check"]:
        return _reference_checks(self.settings, self.scan(), self.held(), self.mode)

    def readiness(self) -> dict[str, list[dict[str, Any]]]:
        """Deletion readiness of each shim (SPEC 6): needs the probes and the scan."""
        from .deletion import readiness

        return readiness(self.settings.contracts, self.runtimes(), self.scan())

    def decide(self, contract: Contract | None, kind: str, target: str | None) -> "Check":
        """The verdict of one check: ``parse`` (the scan's errors), a contract's
        ``references``, or one of its runtime checks."""
        if kind == "parse":
            from ..scan.baseline import check_scan_errors

            return check_scan_errors(self.scan())
        assert contract is not None
        if kind == "references":
            return self.reference_checks()[contract.name]
        from ..domain.checks import check_for

        return check_for(contract, self.runtimes()[contract.name], kind, target,
                         self.mode.strict)

    def report(self, readiness: Callable[[], Mapping[str, Any]] | None = None
               ) -> dict[str, Any]:
        """The JSON report's document (SPEC 6) of what this run checked; ``readiness``:
        the deletion readiness as the caller completes it (runtime census)."""
        from ..report import build_report

        scan = self.scan() if self.settings.contracts else None
        held = self.held() if scan is not None else None
        ready = None
        if scan is not None:
            ready = readiness() if readiness is not None else self.readiness()
        return build_report(self.settings.contracts, self.runtimes(), self.mode.strict,
                            scan, self.reference_checks() if scan else None, held, ready)

    def sarif(self) -> dict[str, Any]:
        """The SARIF 2.1.0 document of the scan's violations and errors."""
        from ..report import violation_dicts
        from ..report.sarif import build_sarif

        scan = self.scan() if self.settings.contracts else None
        held = self.held() if scan is not None else None
        return build_sarif(violation_dicts(scan, held) if scan else [],
                           scan.errors if scan else [], self.settings.contracts)


def _reference_checks(settings: SsotConfig, result: "ScanResult", held: "Held",
                      mode: Mode) -> dict[str, "Check"]:
    """Each contract's references held against the baseline (or, strict, against none)."""
    from ..scan.baseline import check_references

    return {c.name: check_references(c, result, held, mode.strict, settings.baseline)
            for c in settings.contracts}


def _ahead(guess: "ScanResult | None", baseline_path: Path, json_wanted: bool,
           ahead: dict) -> None:
    """Run in this process while the scan's workers walk: import what the reports need
    and, from the result as the cache has it (``guess``), prepare the listing and the
    report's violations. When nothing changed on disk (the usual warm run) they are the
    answer; otherwise they are dropped and made again from the real result."""
    from ..report import COMPACT_ABOVE, compact, violation_dicts, violation_listing
    from ..report import github  # noqa: F401
    from ..scan.baseline import hold, load

    if guess is None:
        return
    try:
        held = hold(guess, load(baseline_path))
    except (ConfigError, OSError):
        return  # said properly after the walk
    ahead["guess"] = guess
    ahead["held"] = held
    ahead["listing"] = violation_listing(guess.violations, held.states)
    if json_wanted and len(guess.violations) > COMPACT_ABOVE:  # (else written indented)
        rendered = compact(violation_dicts(guess, held))
        try:
            rendered.encode("utf-8")
        except UnicodeEncodeError:
            return  # an undecodable file name: written by the slower path
        ahead["violations"] = rendered


def check_scan(settings: SsotConfig, root: Path, mode: Mode, *,
               cache_path: Path | None, jobs: int | None = None,
               progress: Callable[[int, int], None] | None = None, cache_mode: str = "use",
               update_baseline: bool = False, json_wanted: bool = False) -> ScanCheck:
    """The static half of a project's check, at once: scan (preparing the listing and
    the report's violations from the cache's guess while the workers walk), rewrite the
    baseline when asked, hold the scan against it, decide each contract's references.
    A ``ConfigError`` for a broken baseline or configuration."""
    from ..scan import plan
    from ..scan.baseline import check_scan_errors, hold, load, update

    check_spelling(settings, root)  # (the pytest run says it through its runtime checks)
    baseline_path = root / settings.baseline
    ahead: dict = {}
    walk = plan(settings, root, cache_path=cache_path, jobs=jobs, cache_mode=cache_mode)

    def alongside() -> None:  # in this process while the scan's workers walk
        _ahead(walk.guess, baseline_path, json_wanted, ahead)

    result = walk.run(progress, alongside=None if update_baseline else alongside)
    changes = None
    if update_baseline:
        changes = tuple(update(baseline_path, result, settings.contracts, root))
    try:
        baseline = load(baseline_path)
    except ConfigError as exc:
        if changes is None:
            raise
        raise RewrittenThenFailed(str(exc), changes) from None
    # What was prepared during the walk holds when the result is the cache's guess.
    if ahead.get("guess") is None or ahead["guess"].violations is not result.violations:
        ahead = {}
    held = ahead["held"] if ahead else hold(result, baseline)
    references = _reference_checks(settings, result, held, mode)
    return ScanCheck(result, held, references, check_scan_errors(result), changes,
                     tuple(ahead["listing"]) if ahead else None, ahead.get("violations"))
