"""The configuration's readers: the one TOML reader (``config.toml``) and the project's
import path outside pytest (``config.syspath``)."""

from __future__ import annotations

import os
import string
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.config.syspath import project_sys_path
from pytest_ssot.config.toml import ini_options, load_toml, loads, type_name
from pytest_ssot.errors import ConfigError


def _pyproject(root: Path, text: str | bytes) -> Path:
    file = root / "pyproject.toml"
    if isinstance(text, str):
        file.write_text(text, encoding="utf-8")
    else:
        file.write_bytes(text)
    return file


# --------------------------------------------------------------------------- toml


def test_load_toml_reads_a_document(tmp_path: Path) -> None:
    file = _pyproject(tmp_path, '[tool.x]\na = 1\nb = ["c"]\n')
    assert load_toml(file) == {"tool": {"x": {"a": 1, "b": ["c"]}}}


@pytest.mark.parametrize(("content", "message"), [
    ("x = = 1\n", r"pyproject\.toml: not valid TOML: Invalid value \(at line 1, column 5\)$"),
    (b"a = '\xff'\n", r"pyproject\.toml: not valid TOML: not UTF-8 \(byte 0xff at offset 5\)$"),
])
def test_load_toml_names_the_file_of_a_document_that_is_not_toml(
        tmp_path: Path, content: str | bytes, message: str) -> None:
    file = _pyproject(tmp_path, content)
    with pytest.raises(ConfigError, match=message) as info:
        load_toml(file)
    assert str(info.value).startswith(f"{file}: ")


def test_load_toml_names_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_toml(tmp_path / "missing.toml")
    assert str(info.value) == (f"{tmp_path / 'missing.toml'}: cannot be read: No such file "
                               "or directory")
    with pytest.raises(ConfigError, match="cannot be read: Is a directory$"):
        load_toml(tmp_path)


def test_loads_parses_text_and_raises_value_error_for_what_is_not_toml() -> None:
    assert loads('a = "b"\n[t]\nc = 2\n') == {"a": "b", "t": {"c": 2}}
    with pytest.raises(ValueError):
        loads("a = \n")


def test_ini_options_is_pytests_table_or_empty(tmp_path: Path) -> None:
    assert ini_options(tmp_path) == {}  # no pyproject.toml
    _pyproject(tmp_path, "[tool.pytest-ssot]\n")
    assert ini_options(tmp_path) == {}  # no [tool.pytest.ini_options]
    _pyproject(tmp_path, '[tool.pytest.ini_options]\npythonpath = ["src"]\n')
    assert ini_options(tmp_path) == {"pythonpath": ["src"]}
    _pyproject(tmp_path, "[tool.pytest.ini_options\n")
    assert ini_options(tmp_path) == {}  # not TOML: the configuration's loading says so


def test_type_name_says_the_toml_names() -> None:
    assert [type_name(v) for v in (True, 1, 1.5, "s", [], {}, None)] == [
        "boolean", "integer", "number", "string", "array", "table", "NoneType"]


# --------------------------------------------------------------------------- sys.path


@pytest.mark.parametrize("lenient", [False, True])
def test_the_project_path_is_pythonpath_then_src_or_root_then_ours(
        tmp_path: Path, lenient: bool) -> None:
    _pyproject(tmp_path, '[tool.pytest.ini_options]\npythonpath = [".", "lib/../tools"]\n')
    assert project_sys_path(tmp_path, lenient=lenient) == [
        str(tmp_path.resolve()), str((tmp_path / "tools").resolve()), str(tmp_path),
        *sys.path]
    (tmp_path / "src").mkdir()
    assert project_sys_path(tmp_path, lenient=lenient)[2:] == [str(tmp_path / "src"),
                                                                *sys.path]


@pytest.mark.parametrize("lenient", [False, True])
@pytest.mark.parametrize("content", [None, "[tool.pytest.ini_options\n", b"\xff = 1\n",
                                     "[tool.pytest.ini_options]\ntestpaths = ['t']\n"])
def test_no_readable_pythonpath_gives_src_or_root_then_ours(
        tmp_path: Path, lenient: bool, content: str | bytes | None) -> None:
    if content is not None:
        _pyproject(tmp_path, content)
    assert project_sys_path(tmp_path, lenient=lenient) == [str(tmp_path), *sys.path]


def test_lenient_passes_over_entries_that_are_not_strings(tmp_path: Path) -> None:
    # discover may run before the project is configured: a stray entry costs nothing
    _pyproject(tmp_path, '[tool.pytest.ini_options]\npythonpath = [1, "a", {}]\n')
    assert project_sys_path(tmp_path, lenient=True) == [
        str((tmp_path / "a").resolve()), str(tmp_path), *sys.path]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_entries_are_resolved_like_pytest_resolves_them(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    _pyproject(tmp_path, '[tool.pytest.ini_options]\npythonpath = ["link"]\n')
    for lenient in (False, True):
        assert project_sys_path(tmp_path, lenient=lenient)[0] == str(
            (tmp_path / "real").resolve())


_entry = st.text(alphabet=string.ascii_letters + string.digits + "._-/", min_size=1,
                 max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(_entry, max_size=4))
def test_both_modes_agree_on_a_list_of_folders(tmp_path_factory: pytest.TempPathFactory,
                                               entries: list[str]) -> None:
    root = tmp_path_factory.mktemp("proj")
    _pyproject(root, "[tool.pytest.ini_options]\npythonpath = ["
               + ", ".join(f'"{e}"' for e in entries) + "]\n")
    strict = project_sys_path(root)
    assert project_sys_path(root, lenient=True) == strict
    assert strict == [*(str((root / e).resolve()) for e in entries), str(root), *sys.path]
