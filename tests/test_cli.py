"""The command line as a whole: every command has help with an example, and --help is cheap."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from martsmith.cli import COMMANDS, main


def test_group_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"{name} --help shows no example"
    assert f"martsmith {name}" in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_has_an_examples_section(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Examples:" in [line.strip() for line in lines], f"{name} --help has no 'Examples:' section"
    after = lines[[line.strip() for line in lines].index("Examples:") + 1 :]
    assert after and after[0].strip().startswith(f"martsmith {name}"), after[:2]


def test_help_imports_neither_dbt_nor_litellm():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from martsmith.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\n"
        "heavy = [m for m in ('dbt', 'litellm', 'sqlfluff') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_command():
    result = CliRunner().invoke(main, ["modle"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "martsmith" in result.output
