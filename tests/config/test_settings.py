"""The one settings object (ivr/config/settings.py): the README's table is its output, a bad value
stops a server in one line naming the variable, and no other production module reads the
environment (issue 13, item 4)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.cli import main
from ivr.commands.settings import END, START, markdown_table, readme_with_table
from ivr.config.settings import Config, from_env
from ivr.domain.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("ivr", "queue_worker", "dashboards", "devkit", "gunicorn.conf.py")
READER = REPO / "ivr" / "config" / "settings.py"


def test_the_readme_table_is_what_the_settings_object_generates():
    readme = (REPO / "README.md").read_text()
    assert readme.count(START) == readme.count(END) == 1
    assert readme_with_table(readme) == readme, (
        "README's configuration table is stale: run `ivr settings --write-readme README.md`")


def test_every_setting_has_a_variable_a_description_and_a_row():
    table = markdown_table()
    names = [f.validation_alias for f in Config.model_fields.values()]
    assert len(names) == len(set(names))
    for field in Config.model_fields.values():
        assert field.description, field.validation_alias
        assert f"| `{field.validation_alias}` | {field.description}" in table
    for name in ("IVR_TRANSCRIBER", "IVR_SPEECH_ENDPOINT", "IVR_SPEECH_MODEL",
                 "IVR_FLOW_CONVERGE_EVERY", "IVR_LOG_LEVEL", "WEB_CONCURRENCY"):
        assert f"| `{name}` |" in table


def test_values_are_typed_and_empty_means_unset():
    config = from_env({"DATABASE_URL": "", "REDIS_URL": "  ", "IVR_ANNOUNCE_EVERY": "30",
                       "IVR_RETENTION_DAYS": "7", "IVR_TRANSCRIBER": "Offline",
                       "IVR_DEV_MODE": "no", "PUBLIC_BASE_URL": "https://ivr.example.com/"})
    assert (config.database_url, config.redis_url) == (None, None)
    assert (config.announce_every, config.retention_days) == (30.0, 7)
    assert (config.transcriber, config.dev_mode) == ("offline", False)
    assert config.public_base_url == "https://ivr.example.com"
    assert from_env({"IVR_DEV_MODE": "yes"}).dev_mode is True


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("IVR_MAX_BODY_BYTES", "abc", "use a whole number of at least 1024"),
    ("IVR_ANNOUNCE_EVERY", "soon", "use a number of at least 0"),
    ("IVR_STREAM_RECHECK", "0", "use a number above 0"),
    ("IVR_TRANSCRIBER", "whisper", "use 'offline' or 'google'"),
    ("IVR_LOG_LEVEL", "loud", "use 'DEBUG', 'INFO'"),
    ("IVR_RETENTION_DAYS", "-1", "use a whole number of at least 0"),
])
def test_a_bad_value_is_one_line_naming_the_variable(variable, value, says):
    with pytest.raises(ConfigError) as refused:
        from_env({variable: value})
    assert str(refused.value).startswith(f"{variable}={value!r}: {says}")
    assert "\n" not in str(refused.value)


def test_an_override_is_checked_and_a_misspelt_one_refused():
    assert Config().with_overrides({"hold_pause": "8"}).hold_pause == 8
    with pytest.raises(ConfigError, match="^IVR_HOLD_PAUSE='x': use a whole number"):
        Config().with_overrides(hold_pause="x")
    with pytest.raises(ConfigError, match="unknown setting 'hold_paws'"):
        Config().with_overrides(hold_paws=8)


def test_config_alone_is_the_defaults_whatever_the_environment(monkeypatch):
    monkeypatch.setenv("IVR_HOLD_PAUSE", "9")
    assert Config().hold_pause == 15
    assert from_env().hold_pause == 9


@pytest.mark.parametrize("argv", [
    [sys.executable, "-m", "ivr.commands.cli", "worker", "--burst"],
    [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", "127.0.0.1:1",
     "ivr:create_app()"],
], ids=["ivr-worker", "gunicorn-conf"])
def test_a_server_with_a_bad_value_stops_at_start_in_one_line(argv, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "IVR_DEV_MODE": "1",
           "IVR_INSTANCE_DIR": str(tmp_path), "IVR_MAX_BODY_BYTES": "abc"}
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert lines == ["ivr: refusing to start: IVR_MAX_BODY_BYTES='abc': use a whole number "
                     "of at least 1024"], done.stderr


def test_ivr_settings_prints_values_with_secrets_hidden():
    result = CliRunner().invoke(
        main, ["settings"],
        env={"SECRET_KEY": "k" * 40, "REDIS_URL": "redis://:hunter2@127.0.0.1:6379/0"})
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY=(set)" in result.output
    assert "REDIS_URL=redis://:***@127.0.0.1:6379/0" in result.output
    assert "k" * 40 not in result.output
    assert "hunter2" not in result.output


def _environment_reads(path: Path) -> list[str]:
    """`os.environ.get(...)`, `os.getenv(...)`, `os.environ[...]` and `from os import environ`
    in `path` (a WSGI `environ` is a request, not the process environment). Writing a
    variable and copying the whole environment for a child process are not reads."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        text = ast.unparse(node)
        read = (isinstance(node, ast.Call) and text.startswith(("os.environ.get(", "os.getenv(")))
        read |= (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                 and ast.unparse(node.value) == "os.environ")
        read |= (isinstance(node, ast.ImportFrom) and node.module == "os"
                 and any(a.name in ("environ", "getenv") for a in node.names))
        if read:
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {text}")
    return found


def test_no_production_module_reads_the_environment_but_the_settings():
    files = [p for root in PRODUCTION for p in
             ([REPO / root] if root.endswith(".py") else sorted((REPO / root).rglob("*.py")))
             if p.exists() and p != READER]
    reads = [r for p in files for r in _environment_reads(p)]
    assert files
    assert not reads, "read these through ivr.config.settings.Config:\n" + "\n".join(reads)
