"""The SsotError family (``pytest_ssot.errors``): every error said to the user knows its
exit code, keeps the base class callers catch it by, and the commands end with the code
the class says."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import pytest_ssot
from pytest_ssot.errors import FAILED, USAGE, ConfigError, SsotError

# What each error of the family means to the command's exit code (see each command's
# --help: 1 a failed check, 2 a configuration or usage error), and the built-in base
# class it keeps so that every ``except ValueError`` / ``except OSError`` still holds.
FAMILY = {
    "pytest_ssot.errors.ConfigError": (USAGE, Exception),
    "pytest_ssot.domain.paths.PathSyntaxError": (USAGE, ValueError),
    "pytest_ssot.domain.deadlines.DeadlineError": (USAGE, ValueError),
    "pytest_ssot.probe.ProbeError": (FAILED, RuntimeError),
    "pytest_ssot.services.discover.DiscoverError": (USAGE, Exception),
    "pytest_ssot.codemod.faults.FixError": (FAILED, Exception),
    "pytest_ssot.history.git.GitError": (USAGE, Exception),
    "pytest_ssot.isolation.spec_calls.SpecError": (FAILED, Exception),
    "pytest_ssot.report.html.MissingDependency": (USAGE, Exception),
    "pytest_ssot.cli.OutputFailed": (FAILED, OSError),
    "pytest_ssot.services.project.RewrittenThenFailed": (USAGE, Exception),
}


def _every_module() -> None:
    for info in pkgutil.walk_packages(pytest_ssot.__path__, "pytest_ssot."):
        # the probe scripts run as plain scripts; ``__main__`` runs the command
        if info.name.rsplit(".", 1)[-1] in ("_server", "_discover", "__main__"):
            continue
        importlib.import_module(info.name)


def _family() -> dict[str, type[SsotError]]:
    _every_module()
    found: dict[str, type[SsotError]] = {}
    todo = [SsotError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found[f"{sub.__module__}.{sub.__qualname__}"] = sub
            todo.append(sub)
    return found


def test_every_error_of_the_family_has_its_exit_code_and_keeps_its_base() -> None:
    family = _family()
    assert sorted(family) == sorted(FAMILY)
    for name, cls in family.items():
        code, base = FAMILY[name]
        assert cls.exit_code == code, name
        assert issubclass(cls, base), name


def test_an_error_without_an_exit_code_is_refused_when_it_is_written() -> None:
    with pytest.raises(TypeError, match="exit_code"):
        type("Forgot", (SsotError,), {})
    with pytest.raises(TypeError, match="exit_code"):
        type("NotANumber", (ValueError, SsotError), {"exit_code": "2"})


def test_the_messages_are_the_errors_own() -> None:
    from pytest_ssot.domain.paths import PathSyntaxError, parse_path

    with pytest.raises(PathSyntaxError) as info:
        parse_path("a::b")
    assert str(info.value) == ("'a::b' is not a valid path: the part after ':' must be one "
                               "identifier")
    assert isinstance(info.value, ValueError) and isinstance(info.value, SsotError)
    assert str(ConfigError("x: [y] key 'z': bad")) == "x: [y] key 'z': bad"


def _cli(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_ssot.cli", *args)


def test_a_configuration_error_ends_the_command_with_the_code_its_class_says(
        pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.pytest-ssot]\nstrict = 3\n")
    result = _cli(pytester, "scan")
    assert result.ret == ConfigError.exit_code == 2
    assert result.stderr.lines == ["pytest-ssot: pyproject.toml: [tool.pytest-ssot] key "
                                   "'strict': expected true or false, got integer 3"]
    # under pytest the same error is a usage error (pytest's own exit code 4)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "key 'strict': expected true or false, got integer 3" in run.stderr.str()


def test_a_path_that_is_no_path_ends_discover_with_the_code_its_class_says(
        pytester: pytest.Pytester) -> None:
    from pytest_ssot.domain.paths import PathSyntaxError

    result = _cli(pytester, "discover", "pkg.mod::Name", "--rootdir", str(pytester.path))
    assert result.ret == PathSyntaxError.exit_code == 2
    assert result.stderr.lines == ["pytest-ssot discover: 'pkg.mod::Name' is not a valid "
                                   "path: the part after ':' must be one identifier"]


def test_no_git_repository_ends_history_with_the_code_its_class_says(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_ssot.history.git import GitError

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(pytester.path.parent))
    pytester.makepyprojecttoml('[[tool.pytest-ssot.contracts]]\nname = "c"\n'
                               'canonical = "pkg.new:Thing"\nlegacy = ["pkg.old"]\n')
    result = _cli(pytester, "history", "--rootdir", str(pytester.path))
    assert result.ret == GitError.exit_code == 2
    assert "is not inside a git work tree" in result.stderr.str()
