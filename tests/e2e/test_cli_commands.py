"""The `ivr` command lists every command module by name (ivr/commands/cli.py) and imports one
only when it runs: a new command module that is not listed fails here."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys

import click

import devkit.bench
import ivr.commands
from ivr.commands.cli import BENCHMARKS, COMMANDS


def commands_in(package: object) -> dict[str, str]:
    found = {}
    for info in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        name = f"{package.__name__}.{info.name}"  # type: ignore[attr-defined]
        command = getattr(importlib.import_module(name), "command", None)
        if isinstance(command, click.Command):
            found[command.name] = name
    return found


def test_every_command_module_is_listed_under_its_name() -> None:
    assert commands_in(ivr.commands) == COMMANDS
    assert commands_in(devkit.bench) == BENCHMARKS


def test_one_command_imports_only_its_own_module() -> None:
    probe = ("import sys; from ivr.commands.cli import main; sys.argv = ['ivr', 'flag', '--help'];"
             "\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('ivr.commands.', 'devkit'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert "ivr.commands.flag" in loaded
    assert "ivr.commands.serve" not in loaded
    assert not [name for name in loaded if name.startswith("devkit")]
