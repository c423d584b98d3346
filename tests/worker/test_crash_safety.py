"""Crash safety: a real `rq worker` process is SIGKILLed in the middle of a bridge, and a Redis
server is restarted; no waiting caller or promised callback is lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib
import yaml
from rq import Queue, SimpleWorker

from ivr.config.queues import load_queues
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.store.jobs import ROUTING_QUEUE, RqTrigger
from ivr.store.redis_queue import QueueService
from queue_worker.context import build_context, install_context
from queue_worker.routing import route_queue

REPO = Path(__file__).resolve().parents[2]
QUEUES = {
    "queues": {"support": {"skill": "support", "ring_timeout": 1, "wrap_up_seconds": 1,
                           "callback": {"mode": "customer_first", "ring_timeout": 1}}},
    "agents": {"alice": {"address": "+14155550191", "skills": {"support": 5}},
               "bob": {"address": "+14155550192", "skills": {"support": 5}}},
    "engine": {"lease_seconds": 1, "bridge_grace": 1, "tick_seconds": 30},
}


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.slow
def test_killed_worker_mid_bridge_loses_and_duplicates_nothing(redis, redis_url, tmp_path,
                                                                fake_twilio, monkeypatch):
    queues_file = tmp_path / "queues.yaml"
    queues_file.write_text(yaml.safe_dump(QUEUES))
    env = {**os.environ, "REDIS_URL": redis_url, "IVR_QUEUES_FILE": str(queues_file),
           "TWILIO_API_BASE": fake_twilio.url, "PUBLIC_BASE_URL": "https://ivr.example.com",
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rq = Queue(ROUTING_QUEUE, connection=redis)
    svc = QueueService(redis, load_queues(queues_file).queues, trigger=RqTrigger(rq))
    setup = load_queues(queues_file)
    for agent in setup.agents:
        svc.agents.upsert(agent, time.time() - 60)
    now = time.time()
    svc.join("CA1", "support", now - 20)
    cb = svc.callbacks.request("support", "+14155550100", now - 10)
    svc.join("CA3", "support", now - 5)
    fake_twilio.hold_first = True
    svc.agent_presence("alice", "available", now)
    svc.agent_presence("bob", "available", now)

    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("rq")), "worker", "-u", redis_url, "-w",
         "rq.worker.SimpleWorker", ROUTING_QUEUE],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(fake_twilio.received) >= 1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    fake_twilio.release.set()
    served_before = list(fake_twilio.served)

    # after the leases end a fresh worker serves everybody exactly once
    time.sleep(2.2)
    ctx = install_context(redis, build_context(redis))
    fresh = SimpleWorker([ROUTING_QUEUE], connection=redis)
    deadline = time.monotonic() + 15
    member = f"cb:{cb.callback_id}"
    answered: set[str] = set()
    while time.monotonic() < deadline:
        rq.enqueue(route_queue, "support", "timer")
        fresh.work(burst=True)
        _answer_served(svc, fake_twilio.served, answered)  # what the web layer would report
        if {"CA1", "+14155550100"} <= set(_targets(fake_twilio.served)):
            break
        time.sleep(0.3)
    targets = _targets(fake_twilio.served)
    assert targets.count("CA1") == 1, (served_before, fake_twilio.served)
    assert targets.count("+14155550100") == 1
    assert "CA3" not in targets
    # both served entries are connected exactly once; CA3 is still first in line
    states = {m: redis.hget(f"ivr:{{queues}}:entry:{m}", "state") for m in ("CA1", member)}
    assert states == {"CA1": b"connected", member: b"connected"}
    assert svc.position("CA3") == 1
    assert {a.presence for a in ctx.service.agents.all()} == {"on_call"}


def _answer_served(svc, served, answered: set[str]) -> None:
    from urllib.parse import parse_qs, urlsplit

    for path, form in served:
        query = parse_qs(urlsplit(form["Url"]).query)
        token = query["reservation"][0]
        if token in answered:
            continue
        member = f"cb:{query['callback'][0]}" if "callback" in query else path.rsplit(
            "/", 1)[-1].removesuffix(".json")
        assert svc.bridge_answered(member, token, time.time()) is not None
        answered.add(token)


def _targets(served: list[tuple[str, dict[str, str]]]) -> list[str]:
    out = []
    for path, form in served:
        if path.endswith("/Calls.json"):
            out.append(form["To"])
        else:
            out.append(path.rsplit("/", 1)[-1].removesuffix(".json"))
    return out


def test_queue_and_callbacks_survive_a_redis_restart(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        conn = redis_lib.Redis.from_url(server.url)
        setup = load_queues(_write(tmp_path))
        svc = QueueService(conn, setup.queues)
        now = time.time()
        for i in range(5):
            svc.join(f"CA{i}", "support", now + i, priority=i % 2)
        cb = svc.callbacks.request("support", "+14155550100", now + 10, call_sid="CA2")
        before = [svc.position(m) for m in ("CA0", "CA1", "CA3", "CA4", f"cb:{cb.callback_id}")]
        conn.close()
        server.stop()
        server = EmbeddedRedis(tmp_path / "redis").start()
        conn = redis_lib.Redis.from_url(server.url)
        svc = QueueService(conn, setup.queues)
        after = [svc.position(m) for m in ("CA0", "CA1", "CA3", "CA4", f"cb:{cb.callback_id}")]
        assert after == before
        assert None not in after
        again = svc.callbacks.request("support", "+14155550100", now + 20)
        assert again.outcome == "merged"
        conn.close()
    finally:
        server.stop()


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "queues.yaml"
    path.write_text(yaml.safe_dump(QUEUES))
    return path
