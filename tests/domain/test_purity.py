"""ivr/domain stays pure: no module under it imports I/O, frameworks, env or the clock.

Imports are read with `ast`, so a forbidden import fails this test even when it sits inside
a function that no other test calls. See ivr/domain/README.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "ivr" / "domain"
FORBIDDEN_MODULES = ("flask", "redis", "rq", "twilio", "sqlalchemy", "socket", "requests",
                     "urllib.request", "http", "subprocess", "time",
                     # public holidays: ivr/config/calendars.py passes them in (hours.py)
                     "holidays")
# Attribute uses that read the environment or the clock, whatever the import style.
FORBIDDEN_CALLS = ("os.environ", "os.getenv", "datetime.now", "datetime.utcnow",
                   "datetime.today", "date.today", "time.time", "time.monotonic")


def forbidden_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                found.append(name)
            if name in ("os", "os.environ", "os.getenv"):
                found.append(name)
    return found


def forbidden_calls(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            dotted = f"{node.value.id}.{node.attr}"
            if dotted in FORBIDDEN_CALLS:
                found.append(dotted)
    return found


MODULES = sorted(DOMAIN.rglob("*.py"))


def test_the_domain_has_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_module_is_pure(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert forbidden_imports(source) == []
    assert forbidden_calls(source) == []


@pytest.mark.parametrize("source", [
    "import redis", "from flask import Flask", "import twilio.rest", "from os import environ",
    "def f():\n    import sqlalchemy", "import os\nx = os.environ['A']",
    "from datetime import datetime\nx = datetime.now()", "import time\nx = time.time()",
    "import socket",
])
def test_the_checker_catches_forbidden_code(source: str) -> None:
    assert forbidden_imports(source) or forbidden_calls(source)
