"""compose.yaml's Redis asks for a password (issue 12 item 7c): the redis service's own
command, run here with the real redis-server as the container's shell would run it (compose
turns `$$` into `$`, the shell expands REDIS_PASSWORD from the service's environment), refuses
a client without the password, and the REDIS_URL compose gives the other services gets in."""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from devkit.bench.webhook import free_port
from ivr.store.embedded_redis import redis_server_binary

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:?message}` and `${NAME}` from `env`, and `$$` as a literal `$`."""
    text = re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: env[m.group(1)], text)
    return text.replace("$$", "$")


@pytest.fixture
def composed_redis(tmp_path: Path) -> Iterator[tuple[int, str]]:
    password = secrets.token_hex(16)
    service = compose()["services"]["redis"]
    env = {name: interpolate(value, {"REDIS_PASSWORD": password})
           for name, value in service["environment"].items()}
    shell, flag, script = service["command"]
    assert (shell, flag) == ("sh", "-c")
    port = free_port()
    script = interpolate(script, {}).replace("redis-server", redis_server_binary(), 1)
    script += f" --port {port} --bind 127.0.0.1 --dir {tmp_path} --save ''"
    server = subprocess.Popen([shell, flag, script], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(port=port, password=password).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "compose's redis command did not start"
                time.sleep(0.1)
        yield port, password
    finally:
        server.terminate()
        server.wait(10)


def test_composed_redis_asks_for_the_password(composed_redis) -> None:  # noqa: ANN001
    port, password = composed_redis
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password="not-" + password).ping()
    url = interpolate(compose()["x-app"]["environment"]["REDIS_URL"],
                      {"REDIS_PASSWORD": password}).replace("@redis:6379", f"@127.0.0.1:{port}")
    assert redis.Redis.from_url(url).ping() is True
