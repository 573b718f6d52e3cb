"""`pytest-ssot fix` keeps late binding (SPEC 11): a read through a module attribute
stays a read through a module attribute (of the canonical module), a patch of a legacy
module becomes the same patch of the canonical module, a file that imports the
canonical's module gets its chains shortened in place, and a patch another file makes
under a spelling the rewrite cannot follow keeps the reads it reaches as they are.

Every case is also a test of its own (``test_case``), run before and after the fix in a
subprocess: the results must be the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_tree
from pytest_ssot.codemod import fix
from pytest_ssot.config import load_config

PROJECT = {
    "pyproject.toml": """
        [tool.pytest-ssot]
        paths = ["notify", "sci", "tests"]
        [[tool.pytest-ssot.contracts]]
        name = "dispatcher"
        canonical = "notify.dispatcher:Dispatcher"
        legacy = ["notify.dispatch"]
        [[tool.pytest-ssot.contracts]]
        name = "gauss"
        canonical = "sci.ndimage:gaussian_filter"
        legacy = ["sci.ndimage.filters"]
        [[tool.pytest-ssot.contracts]]
        name = "zoom"
        canonical = "sci.ndimage:zoom"
        legacy = ["sci.ndimage.interpolation"]
    """,
    "notify/__init__.py": "",
    "notify/dispatcher.py": """
        class Dispatcher:
            pass

        def make():
            return Dispatcher()
    """,
    "notify/dispatch.py": "from notify.dispatcher import Dispatcher\n",
    "sci/__init__.py": "",
    "sci/ndimage/__init__.py": "from ._impl import gaussian_filter, zoom\n",
    "sci/ndimage/_impl.py": """
        def gaussian_filter(x, sigma=1):
            return ("gauss", x, sigma)

        def zoom(x):
            return ("zoom", x)
    """,
    "sci/ndimage/filters.py": "from ._impl import gaussian_filter\n",
    "sci/ndimage/interpolation.py": "from ._impl import zoom\n",
    "tests/__init__.py": "",
}

# name -> (code before, code after or None when unchanged, text among the listed reasons)
CASES = {
    # the example: a patch through one spelling, a read through another
    "issue_example": (
        "import notify.dispatch as nd\n"
        "from notify import dispatch\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(nd, "Dispatcher", object)\n'
        "    assert dispatch.Dispatcher is object\n",
        "import notify.dispatcher as nd\n"
        "from notify import dispatcher\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(nd, "Dispatcher", object)\n'
        "    assert dispatcher.Dispatcher is object\n",
        None),
    "read_through_module_attribute": (
        "import notify.dispatch as nd\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(nd, "Dispatcher", int)\n'
        "    assert nd.Dispatcher is int\n",
        "import notify.dispatcher as nd\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(nd, "Dispatcher", int)\n'
        "    assert nd.Dispatcher is int\n",
        None),
    "read_stays_late_when_binding_cannot_move": (
        "import notify.dispatch as nd\n\n"
        "def test_case(monkeypatch):\n"
        "    print(nd)\n"
        '    monkeypatch.setattr(nd, "Dispatcher", int)\n'
        "    assert nd.Dispatcher is int\n",
        "import notify.dispatch as nd\n"
        "from notify import dispatcher\n\n"
        "def test_case(monkeypatch):\n"
        "    print(nd)\n"
        '    monkeypatch.setattr(dispatcher, "Dispatcher", int)\n'
        "    assert dispatcher.Dispatcher is int\n",
        "the legacy module itself is used as an object"),
    "plain_chain_read_late": (
        "import notify.dispatch\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(notify.dispatch, "Dispatcher", int)\n'
        "    assert notify.dispatch.Dispatcher is int\n",
        "import notify.dispatcher\n\n"
        "def test_case(monkeypatch):\n"
        '    monkeypatch.setattr(notify.dispatcher, "Dispatcher", int)\n'
        "    assert notify.dispatcher.Dispatcher is int\n",
        None),
    "setattr_delattr_hasattr": (
        "import notify.dispatch as nd\n\n"
        "def test_case():\n"
        "    old = nd.Dispatcher\n"
        '    delattr(nd, "Dispatcher")\n'
        '    assert not hasattr(nd, "Dispatcher")\n'
        '    setattr(nd, "Dispatcher", old)\n'
        "    assert nd.Dispatcher is old\n",
        "import notify.dispatcher as nd\n\n"
        "def test_case():\n"
        "    old = nd.Dispatcher\n"
        '    delattr(nd, "Dispatcher")\n'
        '    assert not hasattr(nd, "Dispatcher")\n'
        '    setattr(nd, "Dispatcher", old)\n'
        "    assert nd.Dispatcher is old\n",
        None),
    "per_reference_getattr_and_patch": (
        "from unittest import mock\n"
        "import notify.dispatch\n\n"
        "def test_case():\n"
        "    assert notify.dispatch.__name__\n"
        '    with mock.patch.object(notify.dispatch, "Dispatcher", float):\n'
        '        assert getattr(notify.dispatch, "Dispatcher") is float\n',
        "from unittest import mock\n"
        "import notify.dispatch\n"
        "from notify import dispatcher\n\n"
        "def test_case():\n"
        "    assert notify.dispatch.__name__\n"
        '    with mock.patch.object(dispatcher, "Dispatcher", float):\n'
        '        assert getattr(dispatcher, "Dispatcher") is float\n',
        "does not resolve to a comparable object"),
    "patch_object": (
        "from unittest import mock\n"
        "import notify.dispatch as nd\n\n"
        "def test_case():\n"
        '    with mock.patch.object(nd, "Dispatcher", float):\n'
        "        assert nd.Dispatcher is float\n",
        "from unittest import mock\n"
        "import notify.dispatcher as nd\n\n"
        "def test_case():\n"
        '    with mock.patch.object(nd, "Dispatcher", float):\n'
        "        assert nd.Dispatcher is float\n",
        None),
    # in place: the file already imports the canonical's module (a parent of the legacy)
    "chain_shortened_in_place": (
        "import sci.ndimage\n\n"
        "def test_case():\n"
        "    assert sci.ndimage.filters.gaussian_filter(1,\n"
        "                                               sigma=2) == ('gauss', 1, 2)\n",
        "import sci.ndimage\n\n"
        "def test_case():\n"
        "    assert sci.ndimage.gaussian_filter(1,\n"
        "                                       sigma=2) == ('gauss', 1, 2)\n",
        None),
    "module_import_renamed": (
        "import sci.ndimage.filters as f\n\n"
        "def test_case():\n"
        "    assert f.gaussian_filter(1) == ('gauss', 1, 1)\n",
        "import sci.ndimage as f\n\n"
        "def test_case():\n"
        "    assert f.gaussian_filter(1) == ('gauss', 1, 1)\n",
        None),
    "from_parent_import_legacy_module": (
        "from sci.ndimage import interpolation\n\n"
        "def test_case():\n"
        "    assert interpolation.zoom(3) == ('zoom', 3)\n",
        "from sci import ndimage\n\n"
        "def test_case():\n"
        "    assert ndimage.zoom(3) == ('zoom', 3)\n",
        None),
}

# one file patches through a string the rewrite leaves (the pragma); another reads late
SPLIT = {
    "notify/sender.py": """
        import notify.dispatch as nd

        def build():
            return nd.Dispatcher()
    """,
    "tests/test_split.py": """
        from unittest import mock

        from notify import sender

        def test_split():
            with mock.patch("notify.dispatch.Dispatcher", dict):  # ssot: ignore
                assert sender.build() == {}
    """,
}


def _pytest(root: Path) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", "-p", "no:ssot", "tests"], cwd=root, capture_output=True,
                         text=True, timeout=120)
    return run.returncode, run.stdout


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("late")
    write_tree(root, PROJECT)
    for name, (before, _after, _reason) in CASES.items():
        (root / "tests" / f"test_{name}.py").write_text(before)
    before = _pytest(root)
    settings = load_config(root, with_entry_points=False)
    first = fix(settings, root, sys_path=[str(root), *sys.path])
    again = fix(settings, root, sys_path=[str(root), *sys.path])
    return root, before, first, again, _pytest(root)


def test_every_case_passes_before(fixed) -> None:
    _root, (code, out), *_ = fixed
    assert code == 0, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_late_binding_case(fixed, case: str) -> None:
    root, _before, first, again, _after = fixed
    before, after, reason = CASES[case]
    rel = f"tests/test_{case}.py"
    assert (root / rel).read_text() == (after if after is not None else before)
    reasons = " | ".join(u.render() for u in first.unsafe if u.file == rel)
    if reason is None:
        assert reasons == ""
    else:
        assert reason in reasons
    assert rel not in again.changed


def test_same_results_after_the_fix(fixed) -> None:
    _root, before, _first, _again, after = fixed
    assert after[0] == before[0] == 0, after[1]


def test_a_patch_another_file_makes_keeps_the_reads_it_reaches(tmp_path: Path) -> None:
    """A patch left as it is, and a read it reaches in another file: the read stays."""
    write_tree(tmp_path, {**PROJECT, **SPLIT})
    sender = (tmp_path / "notify/sender.py").read_text()
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]
    settings = load_config(tmp_path, with_entry_points=False)
    first = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert (tmp_path / "notify/sender.py").read_text() == sender
    listed = [u.render() for u in first.unsafe if u.file == "notify/sender.py"]
    assert any("patched elsewhere" in r and "tests/test_split.py" in r for r in listed), listed
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]


def test_a_patch_string_moves_with_the_reads_it_reaches(tmp_path: Path) -> None:
    """Nothing left on either side: the read and the patch string both move."""
    split = dict(SPLIT)
    split["tests/test_split.py"] = split["tests/test_split.py"].replace("  # ssot: ignore", "")
    write_tree(tmp_path, {**PROJECT, **split})
    settings = load_config(tmp_path, with_entry_points=False)
    first = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert "import notify.dispatcher as nd" in (tmp_path / "notify/sender.py").read_text()
    assert 'mock.patch("notify.dispatcher.Dispatcher", dict)' in (
        tmp_path / "tests/test_split.py").read_text()
    assert first.unsafe == []
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]


def test_explain_names_the_facts_of_each_rewrite(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    for name in ("issue_example", "chain_shortened_in_place", "per_reference_getattr_and_patch"):
        (tmp_path / "tests" / f"test_{name}.py").write_text(CASES[name][0])
    run = subprocess.run([sys.executable, "-m", "pytest_ssot.cli", "fix", "--check",
                          "--explain"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stderr
    out = run.stdout
    assert ("tests/test_issue_example.py:1: the binding `nd` (line 1) moves whole from "
            "`notify.dispatch` to `notify.dispatcher`") in out
    assert "`Dispatcher`) is the same object there (probe)" in out
    assert ("tests/test_chain_shortened_in_place.py:4: `sci.ndimage.filters.gaussian_filter` "
            "-> `sci.ndimage.gaussian_filter`") in out
    assert "a parent of the legacy module in the chain" in out
    assert ("tests/test_per_reference_getattr_and_patch.py:6: `object(notify.dispatch,"
            "Dispatcher)` -> `dispatcher`") in out
    assert "imported by a new `from notify import dispatcher` after line 2" in out
    # --check wrote nothing
    assert (tmp_path / "tests/test_issue_example.py").read_text() == CASES["issue_example"][0]


def test_a_split_name_is_listed_with_where_it_is_patched_and_what_to_do(
        tmp_path: Path) -> None:
    """Both sides of a split are named with the step that releases them: the file that
    writes the name (permanently, in a test) and the read that stays (its pragma)."""
    write_tree(tmp_path, {
        **PROJECT,
        "notify/sender.py": """
            import notify.dispatch as nd

            def build():
                return nd.Dispatcher()
        """,
        "notify/pinned.py": """
            import notify.dispatch as nd  # ssot: ignore
            from notify.dispatch import Dispatcher as Other

            def build():
                return nd.Dispatcher()  # ssot: ignore
        """,
        "tests/test_write.py": """
            import notify.dispatch as nd

            def test_write():
                nd.Dispatcher = dict
        """,
    })
    settings = load_config(tmp_path, with_entry_points=False)
    first = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    listed = " | ".join(u.render() for u in first.unsafe if u.file == "notify/sender.py")
    assert "tests/test_write.py" in listed, listed
    assert "notify/pinned.py" in listed, listed
    assert "by hand" in listed and "run fix again" in listed, listed
    # the patch left on the other side says what to do too
    split = dict(SPLIT)
    write_tree(tmp_path / "b", {**PROJECT, **split})
    settings = load_config(tmp_path / "b", with_entry_points=False)
    second = fix(settings, tmp_path / "b", sys_path=[str(tmp_path / "b"), *sys.path])
    listed = " | ".join(u.render() for u in second.unsafe if u.file == "notify/sender.py")
    assert "tests/test_split.py" in listed and "by hand" in listed, listed


def test_a_read_in_a_file_with_only_pragmas_keeps_the_write_it_sees(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        **PROJECT,
        "notify/pinned.py": """
            import notify.dispatch as nd  # ssot: ignore

            def build():
                return nd.Dispatcher()  # ssot: ignore
        """,
        "tests/test_write.py": """
            import notify.dispatch as nd
            from notify import pinned

            def test_write():
                nd.Dispatcher = dict
                assert pinned.build() == {}
        """,
    })
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]
    settings = load_config(tmp_path, with_entry_points=False)
    result = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]
    # the write is left and listed, naming the file whose read stays
    listed = " | ".join(u.render() for u in result.unsafe if u.file == "tests/test_write.py")
    assert "notify/pinned.py" in listed and "by hand" in listed, listed


def test_a_file_with_only_pragmas_and_no_late_read_blocks_nothing(tmp_path: Path) -> None:
    """Precise, not text matching: a pragma file that spells the module and the name (a
    docstring, an import-time binding, another attribute) reads nothing late, so the
    write elsewhere still moves."""
    write_tree(tmp_path, {
        **PROJECT,
        "notify/pinned.py": '''
            """Uses nd.Dispatcher from notify.dispatch (a docstring, not a read)."""
            import notify.dispatch as nd  # ssot: ignore
            from notify.dispatch import Dispatcher  # ssot: ignore

            def build():
                return Dispatcher, nd.__name__  # ssot: ignore
        ''',
        "tests/test_write.py": """
            import notify.dispatch as nd

            def test_write():
                nd.Dispatcher = dict
        """,
    })
    settings = load_config(tmp_path, with_entry_points=False)
    result = fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    listed = [u.render() for u in result.unsafe if u.file == "tests/test_write.py"]
    assert listed == [], listed
    assert "notify.dispatch" not in (tmp_path / "tests/test_write.py").read_text()
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]


def test_a_logger_name_beside_a_patch_string_is_never_rewritten(tmp_path: Path) -> None:
    """A logger's name is no reference (the scan does not count it); on a line that also
    holds a patch string naming the same path, only the patch string moves. (Before, the
    first string on the line that matched, the logger's name, was rewritten, and the
    project's own test failed after `fix`.)"""
    test = (
        "import logging\n"
        "from unittest import mock\n\n"
        "def test_case():\n"
        '    log = logging.getLogger("notify.dispatch.Dispatcher"); p = mock.patch('
        '"notify.dispatch.Dispatcher", dict)\n'
        "    with p:\n"
        "        import notify.dispatch\n"
        "        assert notify.dispatch.Dispatcher is dict\n"
        '    assert log.name.endswith(".dispatch.Dispatcher")\n'
        '    logging.config.dictConfig({"version": 1, "loggers": {"notify.dispatch": {}}})\n')
    write_tree(tmp_path, {**PROJECT, "tests/test_logger.py": test})
    (tmp_path / "tests/test_logger.py").write_text("import logging.config\n" + test)
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]
    settings = load_config(tmp_path, with_entry_points=False)
    fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    after = (tmp_path / "tests/test_logger.py").read_text()
    assert 'getLogger("notify.dispatch.Dispatcher")' in after
    assert '"loggers": {"notify.dispatch": {}}' in after
    assert 'mock.patch("notify.dispatcher.Dispatcher", dict)' in after
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]


def test_a_walrus_in_a_comprehension_rebinds_the_modules_name(tmp_path: Path) -> None:
    """``[(nd := 1) for ...]`` binds ``nd`` in the module (PEP 572), so a later ``nd.X``
    reads the int, not the legacy module: it is no reference to rewrite. (Before, the
    codemod bound the walrus in the comprehension and rewrote ``nd.Dispatcher`` to the
    canonical, turning the project's AttributeError into a class.)"""
    test = (
        "from notify import dispatch as nd\n"
        "ys = [(nd := 1) for _ in range(2)]\n\n"
        "def test_case():\n"
        "    try:\n"
        "        nd.Dispatcher\n"
        "    except AttributeError:\n"
        "        return\n"
        "    raise AssertionError('nd is a module again')\n")
    write_tree(tmp_path, {**PROJECT, "tests/test_walrus.py": test})
    assert _pytest(tmp_path)[0] == 0, _pytest(tmp_path)[1]
    settings = load_config(tmp_path, with_entry_points=False)
    fix(settings, tmp_path, sys_path=[str(tmp_path), *sys.path])
    assert _pytest(tmp_path)[0] == 0, (tmp_path / "tests/test_walrus.py").read_text()
