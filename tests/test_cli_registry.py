"""The command registry (``cli.commands.REGISTRY``): every command declares its name, its
help and its two functions; the parser is built from the registry alone; a run of one
command does not import the others."""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import types

import pytest

from pytest_ssot.cli import _parser, main
from pytest_ssot.cli.commands import REGISTRY, load


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_command_declares_name_help_and_run(name: str) -> None:
    command = load(name)
    assert command.NAME == name
    for text in (command.SUMMARY, command.DESCRIPTION, command.EPILOG):
        assert isinstance(text, str) and text.strip()
    assert "\n" not in command.SUMMARY  # one line in `pytest-ssot --help`
    assert command.EPILOG.startswith("exit codes:\n")
    assert "  2 " in command.EPILOG and "  130 interrupted" in command.EPILOG
    assert list(inspect.signature(command.run).parameters) == ["args"]
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert any("--rootdir" in a.option_strings for a in parser._actions) or name == "census"


def test_the_parser_is_built_from_the_registry_in_its_order() -> None:
    sub = _subparsers(_parser([]))
    assert list(sub.choices) == list(REGISTRY)
    listed = {a.dest: a.help for a in sub._choices_actions}
    assert listed == {name: load(name).SUMMARY for name in REGISTRY}
    for name, parser in sub.choices.items():
        assert parser.description == load(name).DESCRIPTION
        assert parser.epilog == load(name).EPILOG
        assert parser.prog == f"pytest-ssot {name}"


def test_a_run_of_one_command_imports_no_other_command() -> None:
    code = ("import json, sys; from pytest_ssot.cli import _parser; "
            "_parser(['scan', '--json', 'x.json']).parse_args(['scan', '--json', 'x.json']); "
            "print(json.dumps(sorted(m for m in sys.modules "
            "if m.startswith('pytest_ssot.cli.') or m == 'pytest_ssot.services.discover')))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == ["pytest_ssot.cli.commands", "pytest_ssot.cli.commands.scan",
                                      "pytest_ssot.cli.shared"]


def test_adding_a_command_is_one_module_and_one_registry_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    module = types.ModuleType("fake_command")
    module.NAME = "fake"
    module.SUMMARY = "a command that only the test knows"
    module.DESCRIPTION = "It says how many times it was asked to."
    module.EPILOG = "exit codes:\n  0 always\n"

    def add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--times", type=int, default=1)

    def run(args: argparse.Namespace) -> int:
        print("fake " * args.times)
        return 7

    module.add_arguments, module.run = add_arguments, run
    monkeypatch.setitem(sys.modules, "fake_command", module)
    monkeypatch.setitem(REGISTRY, "fake", "fake_command")
    assert main(["fake", "--times", "2"]) == 7
    assert capsys.readouterr().out == "fake fake \n"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "a command that only the test knows" in capsys.readouterr().out
