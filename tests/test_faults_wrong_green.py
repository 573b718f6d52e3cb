"""The second fault catalogue's wrong greens (issue 22 items 1-5 and 7): each case run as a
user would, asserting that the run fails or warns, never passes silently (SPEC 12).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_tree

CONTRACT = """
[tool.pytest-ssot]
{settings}

[[tool.pytest-ssot.contracts]]
name = "canon"
canonical = "pkg.canon:Canon"
legacy = ["pkg.old"]
{extra}
"""

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/canon.py": "class Canon:\n    pass\n",
    "pkg/old.py": "from pkg.canon import Canon\n",
    "app_code.py": "from pkg.old import Canon\n",
}


def project(pytester: pytest.Pytester, settings: str = "", extra: str = "",
            files: dict[str, str] | None = None) -> Path:
    pytester.makepyprojecttoml(CONTRACT.format(settings=settings, extra=extra)
                               + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {**PACKAGE, **(files or {})})
    return pytester.path


def no_traceback_of_ours(result: "pytest.RunResult | subprocess.CompletedProcess") -> None:
    if isinstance(result, subprocess.CompletedProcess):
        text = result.stdout + "\n" + result.stderr
    else:
        text = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback (most recent call last)" not in text, text
    assert "INTERNALERROR" not in text, text


def command(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_ssot.cli", *args], cwd=root,
                          capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- 1: the cache


def backdate(root: Path) -> None:
    """Files and folders an hour old: the warm run trusts their timestamps (younger ones
    are read again, git's racy rule) and really answers from the cache."""
    old = os.stat(root).st_mtime_ns - 3600 * 10**9
    for path in [*root.rglob("*"), root]:
        if ".pytest_cache" not in path.parts:
            os.utime(path, ns=(old, old))


def _flip_a_result(cache: Path) -> None:
    """Change one byte inside the cached results (the violation's legacy path)."""
    data = bytearray(cache.read_bytes())
    at = data.rindex(b"pkg.old")
    data[at + 4] ^= 0x01  # "pkg.old" -> "pkg.nld"
    cache.write_bytes(bytes(data))


def test_a_flipped_byte_in_the_scan_cache_is_found_under_the_command(
        pytester: pytest.Pytester) -> None:
    root = project(pytester)
    backdate(root)
    first = command(root, "scan", "--strict")
    assert first.returncode == 1 and "app_code.py:1: [canon] pkg.old" in first.stdout
    _flip_a_result(root / ".pytest_cache" / "d" / "ssot" / "scan.cache")
    warm = command(root, "scan", "--strict")
    assert warm.returncode == 1, warm.stdout + warm.stderr
    assert "app_code.py:1: [canon] pkg.old -> pkg.canon" in warm.stdout
    notes = [ln for ln in (warm.stdout + warm.stderr).splitlines() if "scan cache" in ln]
    assert len(notes) == 1 and "checksum" in notes[0] and "ran cold" in notes[0], notes
    again = command(root, "scan", "--strict")  # rebuilt: no note any more
    assert "scan cache" not in again.stdout + again.stderr


def test_a_flipped_byte_in_the_scan_cache_is_found_under_pytest(
        pytester: pytest.Pytester) -> None:
    root = project(pytester)
    backdate(root)
    cold = pytester.runpytest_subprocess("--ssot-strict")
    cold.assert_outcomes(passed=3, failed=2)
    _flip_a_result(root / ".pytest_cache" / "d" / "ssot" / "scan.cache")
    result = pytester.runpytest_subprocess("--ssot-strict")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["*FAIL references canon*"])
    result.stdout.fnmatch_lines(["*note: scan cache .pytest_cache/d/ssot/scan.cache "
                                 "discarded: its checksum does not match its content; "
                                 "this scan ran cold*"])
    no_traceback_of_ours(result)


# --------------------------------------------------------------------------- 7: --cold, --verify


def _same_size_edit_with_the_old_mtime(root: Path) -> None:
    """An edit the timestamps cannot show (a restore tool, a `touch -r`, a clock set back):
    the new legacy import has the size of the line it replaces, the mtime is put back."""
    path = root / "clean.py"
    st = path.stat()
    path.write_text("import pkg.old\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


SAME_SIZE = {"clean.py": "import pkg.can\n"}


@pytest.mark.parametrize("flag", ["--cold", "--verify"])
def test_a_same_size_edit_with_its_mtime_restored_is_found_cold_and_verified(
        pytester: pytest.Pytester, flag: str) -> None:
    root = project(pytester, files=SAME_SIZE)
    backdate(root)
    assert command(root, "scan", "--strict").stdout.count(": [canon] ") == 1
    _same_size_edit_with_the_old_mtime(root)
    # the documented trade-off: the warm scan trusts size and mtime
    assert command(root, "scan", "--strict").stdout.count(": [canon] ") == 1
    checked = command(root, "scan", "--strict", flag)
    assert checked.returncode == 1 and "clean.py:1: [canon] pkg.old" in checked.stdout
    no_traceback_of_ours(checked)
    # and the cache it refreshed now knows the edit
    assert "clean.py:1: [canon] pkg.old" in command(root, "scan", "--strict").stdout


@pytest.mark.parametrize("flag", ["--ssot-cold", "--ssot-verify"])
def test_pytest_cold_and_verify_find_the_same_size_edit(pytester: pytest.Pytester,
                                                         flag: str) -> None:
    root = project(pytester, files=SAME_SIZE)
    backdate(root)
    pytester.runpytest_subprocess("-p", "no:randomly")
    _same_size_edit_with_the_old_mtime(root)
    result = pytester.runpytest_subprocess(flag, "-v")
    result.stdout.fnmatch_lines(["*references canon: 2 violation(s) in 2 file(s)*"])
    no_traceback_of_ours(result)


def test_cold_and_verify_are_exclusive(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    both = command(root, "scan", "--cold", "--verify")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    result = pytester.runpytest("--ssot-cold", "--ssot-verify")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-cold and --ssot-verify*"])


# --------------------------------------------------------------------------- 2: vacuous strict


@pytest.mark.parametrize("how", ["--ssot-strict", "strict = true"])
def test_strict_with_no_contracts_is_a_usage_error(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyprojecttoml("[tool.pytest-ssot]\n"
                               + ("strict = true\n" if how == "strict = true" else ""))
    write_tree(pytester.path, PACKAGE)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest(*(["--ssot-strict"] if how == "--ssot-strict" else []))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*strict*no contracts*[[]tool.pytest-ssot.contracts[]]*"])
    no_traceback_of_ours(result)
    assert command(pytester.path, "scan", "--strict").returncode == 2


def test_no_contracts_without_strict_is_still_allowed(pytester: pytest.Pytester) -> None:
    """A table being set up (no contracts yet) in transitional mode checks nothing and says
    nothing: only strict mode promises that something was checked."""
    pytester.makepyprojecttoml("[tool.pytest-ssot]\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)


# --------------------------------------------------------------------------- 3: lookalike tables


@pytest.mark.parametrize("table", ["pytest_ssot", "ssot", "pytest-SSOT"])
@pytest.mark.parametrize("with_real_table", [False, True])
def test_contracts_under_a_lookalike_table_are_warned_about(
        pytester: pytest.Pytester, table: str, with_real_table: bool) -> None:
    real = '[tool.pytest-ssot]\npaths = ["."]\n\n' if with_real_table else ""
    pytester.makepyprojecttoml(
        f'{real}[[tool."{table}".contracts]]\nname = "canon"\n'
        'canonical = "pkg.canon:Canon"\nlegacy = ["pkg.old"]\n')
    write_tree(pytester.path, PACKAGE)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.stdout.fnmatch_lines([f"*[[]tool.{table}[]] holds contracts*pytest-ssot reads only "
                                 "[[]tool.pytest-ssot[]]*"])
    no_traceback_of_ours(result)
    scan = command(pytester.path, "scan")
    assert f"[tool.{table}] holds contracts" in scan.stderr
    assert scan.returncode == 2  # no contracts where pytest-ssot reads them


def test_a_tool_table_without_canonical_keys_is_not_a_lookalike(
        pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.other]\ncontracts = ["x"]\n\n[tool.ssot]\nname = "x"\n')
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "holds contracts" not in result.stdout.str()


def test_strict_with_contracts_only_under_a_lookalike_table_is_a_usage_error(
        pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[[tool.pytest_ssot.contracts]]\nname = "canon"\n'
                               'canonical = "pkg.canon:Canon"\nlegacy = ["pkg.old"]\n')
    write_tree(pytester.path, PACKAGE)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("--ssot-strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*strict mode with no contracts would check nothing*"])


# --------------------------------------------------------------------------- 5: whose warning


NOISY = ("import warnings\n"
         "warnings.warn('the noisy API is deprecated', DeprecationWarning, stacklevel=2)\n")


@pytest.mark.parametrize("shim, counts", [
    # a shim whose only warning is another module's own (asyncore's, in the issue)
    ("import noisy\nfrom pkg.canon import Canon\n", False),
    # the shim's own warning, naming nothing: it is raised from the legacy module
    ("import warnings\nwarnings.warn('This module is deprecated', DeprecationWarning, "
     "stacklevel=2)\nfrom pkg.canon import Canon\n", True),
    # a helper elsewhere that names the path
    ("import helper\nhelper.moved('pkg.old', 'pkg.canon:Canon')\nfrom pkg.canon import Canon\n",
     True),
    # a module __getattr__ warning
    ("import warnings\ndef __getattr__(name):\n    if name == 'Canon':\n"
     "        warnings.warn('gone', DeprecationWarning, stacklevel=2)\n"
     "        from pkg.canon import Canon\n        return Canon\n"
     "    raise AttributeError(name)\n", True),
])
def test_a_warning_counts_only_when_it_is_about_the_path(pytester: pytest.Pytester,
                                                         shim: str, counts: bool) -> None:
    legacy = '"pkg.old:Canon"' if "__getattr__" in shim else '"pkg.old"'
    pytester.makepyprojecttoml(CONTRACT.format(settings="", extra="").replace(
        '"pkg.old"', legacy) + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {**PACKAGE, "pkg/old.py": shim, "noisy.py": NOISY,
                               "helper.py": "import warnings\n\ndef moved(old, new):\n"
                               "    warnings.warn(f'{old} moved to {new}', "
                               "DeprecationWarning, stacklevel=3)\n",
                               "app_code.py": "X = 1\n"})
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    no_traceback_of_ours(result)
    if counts:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([
            "*legacy path pkg.old resolves silently*",
            "*a DeprecationWarning was raised while importing it, but by noisy and not about "
            "pkg.old*"])


FACTORY_CONTRACT = 'factories = ["pkg.factories:make"]'


@pytest.mark.parametrize("factory, counts", [
    ("from typing_extensions import deprecated\n\n@deprecated('use pkg.canon:Canon')\n"
     "def make():\n    from pkg.canon import Canon\n    return Canon()\n", True),
    ("import warnings\n\ndef make():\n    warnings.warn('use Canon', DeprecationWarning, "
     "stacklevel=2)\n    from pkg.canon import Canon\n    return Canon()\n", False),
])
def test_a_factory_warns_by_pep_702_not_by_being_called(pytester: pytest.Pytester,
                                                        factory: str, counts: bool) -> None:
    project(pytester, extra=FACTORY_CONTRACT, files={"pkg/factories.py": factory,
                                                     "pkg/old.py": ""})
    (pytester.path / "pkg" / "old.py").unlink()
    result = pytester.runpytest_subprocess("-k", "factory", "-p", "no:randomly")
    no_traceback_of_ours(result)
    if counts:
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*factory*pkg.factories:make*warns*@deprecated*"])
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*pkg.factories:make warns only when called*",
                                     "*@deprecated*"])


# --------------------------------------------------------------------------- 4: never existed


def test_a_misspelled_legacy_path_is_a_configuration_error(pytester: pytest.Pytester) -> None:
    project(pytester, extra='factories = ["pkg.canon.make_canno"]')
    text = (pytester.path / "pyproject.toml").read_text()
    (pytester.path / "pyproject.toml").write_text(text.replace('"pkg.old"', '"pkg.odl"'))
    result = pytester.runpytest_subprocess("-k", "legacy or factory", "-p", "no:randomly")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*configuration error: legacy path pkg.odl never existed*",
                                 "*did you mean pkg.old?*"])
    result.stdout.fnmatch_lines(["*FAIL legacy    pkg.odl *absent  never existed "
                                 "(configuration error)"])
    no_traceback_of_ours(result)


def test_a_deleted_legacy_path_in_git_history_is_absent(pytester: pytest.Pytester) -> None:
    root = project(pytester, files={"pkg/gone.py": "X = 1\n"})
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('"pkg.old"', '"pkg.gone"'))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=root, check=True)
    (root / "pkg" / "gone.py").unlink()
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    # without that history it never existed, and its name is next to pkg.old's
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    result.assert_outcomes(failed=1)


def test_without_git_a_deleted_path_is_absent_and_a_near_typo_an_error(
        pytester: pytest.Pytester) -> None:
    """The README's adoption walkthrough runs in a folder without git: after its legacy
    module and package re-export are deleted, strict mode passes; a path next to a real
    one (``pkg.odl`` beside ``pkg.old``) is still a typo."""
    root = project(pytester)
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace(
        '"pkg.old"', '"pkg.basket", "pkg:Cart", "pkg.odl", "pkg.canon:Canno"'))
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*did you mean pkg.old?*"])
    result.stdout.fnmatch_lines(["*did you mean pkg.canon:Canon?*"])


def test_strict_alias_check_finds_the_real_path_anywhere_in_the_top_level_package(
        pytester: pytest.Pytester) -> None:
    """The canonical lives in pkg.core; the real legacy path pkg.web.manager (outside the
    canonical's own package pkg.core) still serves the object under its old name: strict
    mode names it (the misspelled declaration itself is a configuration error)."""
    pytester.makepyprojecttoml(
        '[tool.pytest-ssot]\n\n[[tool.pytest-ssot.contracts]]\nname = "canon"\n'
        'canonical = "pkg.core.canon:Canon"\nlegacy = ["pkg.web.manger"]\n'
        '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {
        "pkg/__init__.py": "", "pkg/core/__init__.py": "",
        "pkg/core/canon.py": "class Canon:\n    pass\n",
        "pkg/web/__init__.py": "",
        "pkg/web/manager.py": "from pkg.core.canon import Canon as Manager\n",
    })
    result = pytester.runpytest_subprocess("--ssot-strict", "-k", "aliases or legacy", "-p",
                                           "no:randomly")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*did you mean pkg.web.manager?*"])
    result.stdout.fnmatch_lines(["*pkg.web.manager:Manager*"])
    # transitional mode keeps the configured (default) scope: the canonical's package
    result = pytester.runpytest_subprocess("-k", "aliases", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_never_existed_is_silent_about_other_distributions_and_half_histories(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_ssot.config import existence

    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/manager.py": ""})
    assert existence.never_existed("pkg.manger", tmp_path, []) == ["pkg.manager"]
    assert existence.never_existed("pkg.manager", tmp_path, []) is None
    assert existence.never_existed("six.moves", tmp_path, []) is None  # not the project's
    # a history that cannot be read whole says nothing (never a red from half of it)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    existence._git_paths.cache_clear()
    monkeypatch.setattr(existence, "_GIT_LIMIT", 0)
    assert existence.never_existed("pkg.manger", tmp_path, []) is None
    existence._git_paths.cache_clear()


def test_a_misspelled_legacy_attribute_is_a_configuration_error(
        pytester: pytest.Pytester) -> None:
    project(pytester, files={"pkg/old.py": "from pkg.canon import Canon as OldCanon\n",
                             "pkg/gone.py": "X = 1\n"})
    text = (pytester.path / "pyproject.toml").read_text()
    (pytester.path / "pyproject.toml").write_text(text.replace(
        '"pkg.old"', '"pkg.old:OldCanno", "pkg.gone:Removed"'))
    root = pytester.path
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "pkg" / "gone.py").write_text("Removed = 1\n")
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=root, check=True)
    (root / "pkg" / "gone.py").write_text("X = 1\n")  # Removed was removed: absent passes
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*legacy path pkg.old:OldCanno never existed*",
                                 "*did you mean pkg.old:OldCanon?*"])


def test_a_git_that_refuses_the_repository_says_nothing(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """git refusing the checkout (``detected dubious ownership``: a CI container whose
    checkout belongs to another user) is no proof that a path never existed: a deleted
    path next to a real name is not a configuration error then; outside any repository
    the near name still is one."""
    from pytest_ssot.config import existence

    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/old.py": ""})
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho \"fatal: detected dubious ownership in "
                              "repository at '$PWD'\" >&2\nexit 128\n")
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    existence._git_paths.cache_clear()
    try:
        assert existence.never_existed("pkg.gone", tmp_path, []) is None
        (fake / "git").write_text("#!/bin/sh\necho 'fatal: not a git repository (or any of "
                                  "the parent directories): .git' >&2\nexit 128\n")
        existence._git_paths.cache_clear()
        assert existence.never_existed("pkg.gone", tmp_path, []) == ["pkg.old"]
    finally:
        existence._git_paths.cache_clear()


def test_the_scan_alone_says_a_misspelled_legacy_path_too(pytester: pytest.Pytester) -> None:
    """A CI job that runs only `pytest-ssot scan` (no probes) got a green for a misspelled
    legacy path: 0 references to a path nobody uses, while the real one stayed unchecked.
    A path next to a real name that never existed (working tree, git history) is now a
    configuration error there too; a removed path, another distribution's path, a module
    its package serves without a file of its own, and a far name are not."""
    root = project(pytester, files={
        "pkg/gone.py": "X = 1\n",
        # served without a file: sys.modules, by the package itself
        "pkg/__init__.py": "import sys, types\nsys.modules[__name__ + '.olde'] = "
                           "types.ModuleType(__name__ + '.olde')\n"})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=root, check=True)
    (root / "pkg" / "gone.py").unlink()
    text = (root / "pyproject.toml").read_text()

    def scan_with(legacy: str) -> subprocess.CompletedProcess:
        (root / "pyproject.toml").write_text(text.replace('"pkg.old"', legacy))
        return command(root, "scan")

    typo = scan_with('"pkg.old", "pkg.odl"')
    assert typo.returncode == 2, typo.stdout + typo.stderr
    assert "legacy path pkg.odl never existed" in typo.stderr, typo.stderr
    assert "did you mean pkg.old" in typo.stderr, typo.stderr
    no_traceback_of_ours(typo)
    factory = scan_with('"pkg.old"]\nfactories = ["pkg.canno"')
    assert factory.returncode == 2 and "factory pkg.canno never existed" in factory.stderr
    for fine in ('"pkg.old", "pkg.gone"', '"pkg.old", "six.moves"', '"pkg.old", "pkg.olde"',
                 '"pkg.old", "pkg.something.far.away"', '"pkg.old", "pkg.canon.Canno"'):
        ok = scan_with(fine)
        assert ok.returncode == 0, (fine, ok.stdout + ok.stderr)


def test_the_scan_takes_a_legacy_path_next_to_its_canonical_for_a_migration(
        tmp_path: Path) -> None:
    """``lib.v1`` (removed, no git history to say so) next to its canonical ``lib.v2`` is
    how a migration looks, not a typo: the scan says nothing."""
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "c"\n'
                          'canonical = "lib.v2"\nlegacy = ["lib.v1"]\n',
        "lib/__init__.py": "", "lib/v2.py": "X = 1\n", "app.py": "import lib.v2\n"})
    done = command(tmp_path, "scan")
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_git_a_removed_path_next_to_its_canonical_is_absent(
        pytester: pytest.Pytester) -> None:
    """``lib.v1`` deleted in a folder without git, beside its canonical ``lib.v2``: the
    migration's usual shape, not a typo (before: "never existed ... did you mean lib.v2?",
    a configuration error for a correct contract)."""
    pytester.makepyprojecttoml(
        '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "c"\n'
        'canonical = "lib.v2:X"\nlegacy = ["lib.v1"]\n'
        '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write_tree(pytester.path, {"lib/__init__.py": "", "lib/v2.py": "X = 1\n"})
    result = pytester.runpytest_subprocess("-k", "legacy", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_the_scan_says_nothing_of_a_path_in_a_package_another_distribution_may_fill(
        tmp_path: Path) -> None:
    """``google.cloud`` is a namespace package: the project's ``google/cloud/mylib`` and an
    installed distribution's ``google.cloud.storage_v1`` share it, so a legacy path there
    that the project's tree lacks proves nothing (before: "did you mean
    google.cloud.mylib?", a configuration error for a correct contract). The same for a
    regular package that extends its ``__path__``."""
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.pytest-ssot]\n[[tool.pytest-ssot.contracts]]\nname = "c"\n'
                          'canonical = "google.cloud.mylib.api:Client"\n'
                          'legacy = ["google.cloud.storage_v1", "ext.mylip"]\n',
        "google/cloud/mylib/__init__.py": "", "google/cloud/mylib/api.py": "class Client: ...\n",
        "ext/__init__.py": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        "ext/mylib.py": "", "app.py": "import google.cloud.mylib.api\n"})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = command(tmp_path, "scan")
    assert done.returncode == 0, done.stdout + done.stderr
