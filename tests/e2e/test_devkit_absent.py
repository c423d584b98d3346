"""Without the developer tooling (devkit/, left out of the production image) the `ivr` command
still starts, and the commands that need devkit say so instead of failing with a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

# `sys.modules["devkit"] = None` makes every import of devkit fail, as in the production image.
RUN_WITHOUT_DEVKIT = (
    "import sys; sys.modules['devkit'] = None; "
    "from ivr.commands.cli import main; sys.argv = ['ivr', *sys.argv[1:]]; main()"
)


def ivr_without_devkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN_WITHOUT_DEVKIT, *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_cli_starts_without_devkit() -> None:
    done = ivr_without_devkit("--help")
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout
    assert "worker" in done.stdout


@pytest.mark.parametrize("args", [("bench", "routing"), ("call", "--in-process"), ("demo-traffic",),
                                  ("twilio-standin",), ("demo",), ("load",)])
def test_devkit_commands_say_what_is_missing(args: tuple[str, ...]) -> None:
    done = ivr_without_devkit(*args)
    assert done.returncode == 1
    assert "needs the developer tooling (the devkit/ package" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
