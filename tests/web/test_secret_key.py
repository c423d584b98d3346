"""The session key (issue 12, item 1): outside IVR_DEV_MODE nothing that serves or works
starts with SECRET_KEY unset, a published default or shorter than 32 bytes, and says in one
line what to set; the demo and development mode make random keys their processes share."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from click.testing import CliRunner

from devkit.bench.webhook import free_port
from ivr import create_app
from ivr.commands.cli import main
from ivr.commands.demo import demo_env
from ivr.config.secret_key import secret_key_problem
from ivr.domain.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
WEAK = [None, "dev-secret-change-me", "x" * 31]
HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _env_without_key(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "IVR_DEV_MODE")}
    return {**env, **extra}


@pytest.mark.parametrize("key", WEAK)
def test_the_app_refuses_a_missing_default_or_short_key(monkeypatch, redis_url, tmp_path, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    overrides = {"redis_url": redis_url, "twilio_auth_token": "t",
                 "instance_dir": tmp_path / "i"}
    if key is not None:
        overrides["secret_key"] = key
    with pytest.raises(ConfigError, match="SECRET_KEY") as raised:
        create_app(overrides)
    assert HINT in str(raised.value)
    assert "\n" not in str(raised.value)


def test_development_mode_without_a_key_runs_on_a_random_one(monkeypatch, redis_url, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = {"redis_url": redis_url, "dev_mode": True, "instance_dir": tmp_path / "i"}
    first, second = create_app(settings), create_app(settings)
    assert secret_key_problem(first.config["SECRET_KEY"]) is None
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


@pytest.mark.parametrize("args", [["serve", "--port", "1"], ["worker", "--burst"]])
@pytest.mark.parametrize("key", WEAK)
def test_serve_and_worker_refuse_in_one_line(redis_url, args, key):
    env = {"SECRET_KEY": key, "IVR_DEV_MODE": None, "REDIS_URL": redis_url}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "refusing to start" in lines[0]
    assert HINT in lines[0]


def _refused(argv: list[str], env: dict[str, str]) -> str:
    """Run a server command that must stop at once; a server that starts fails the test."""
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail(f"{argv} started without a usable SECRET_KEY")
    assert proc.returncode == 1, err
    return err


@pytest.mark.parametrize("argv", [
    [sys.executable, "-m", "ivr.commands.cli", "serve", "--gunicorn", "--port", "{port}"],
    [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", "127.0.0.1:{port}",
     "ivr:create_app()"],
], ids=["ivr-serve-gunicorn", "gunicorn-conf"])
def test_gunicorn_refuses_before_forking_workers(redis_url, argv):
    port = str(free_port())
    err = _refused([a.replace("{port}", port) for a in argv],
                   _env_without_key(REDIS_URL=redis_url, TWILIO_AUTH_TOKEN="t",
                                    SECRET_KEY="dev-secret-change-me"))
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "SECRET_KEY is a published default" in lines[0]
    assert HINT in lines[0]


def test_the_demo_gives_all_its_processes_one_random_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = demo_env("redis://x", 5000, 8081, tmp_path)["SECRET_KEY"]
    again = demo_env("redis://x", 5000, 8081, tmp_path)["SECRET_KEY"]
    assert secret_key_problem(first) is None
    assert first != again  # made per run, never a fixed one


def _login_status(port: int) -> int:
    """GET the sign-in form, POST a wrong password with its CSRF token, each on a new
    connection (so either gunicorn worker may answer either): 401 when the POST's worker
    could read the session the GET's worker signed, 403 (CSRF) when it could not."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"http://127.0.0.1:{port}/login", timeout=30).read()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    body = urllib.parse.urlencode({"username": f"u{os.urandom(4).hex()}", "password": "no",
                                   "csrf_token": token}).encode()
    try:
        opener.open(f"http://127.0.0.1:{port}/login", data=body, timeout=30)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def test_development_mode_shares_one_key_across_gunicorn_workers(redis_url, tmp_path):
    from devkit.bench.webhook import Server, gunicorn_args
    from devkit.loadgen.stack import wait_ready

    server = Server("devkey", free_port(), workdir=tmp_path)
    env = _env_without_key(REDIS_URL=redis_url, IVR_DEV_MODE="1",
                           IVR_INSTANCE_DIR=str(tmp_path / "instance"))
    argv = [*gunicorn_args("ivr:create_app()", server.port, 2, 2),
            "-c", str(REPO / "gunicorn.conf.py")]
    server.start(argv, env)
    try:
        wait_ready(f"http://127.0.0.1:{server.port}/readyz", 2)
        assert [_login_status(server.port) for _ in range(12)] == [401] * 12
    finally:
        server.stop()
