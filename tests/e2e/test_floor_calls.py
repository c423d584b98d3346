"""The agent floor end to end (docs/agent-floor.md): a routed caller in a conference, agents
at simulated softphones (the stand-in's /sim/clients devices) driving the console's control
API, a supervisor monitoring; the real twilio client makes every REST call against the
stand-in, which plays the conference and sends its signed callbacks. Every TwiML document is
validated by the stand-in (tests/twiml_validate.py)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from devkit.twilio_standin.leg_steps import RemoteHangup
from ivr.store.floor import FloorStore
from tests import signin
from tests.e2e.conftest import Live
from tests.e2e.test_queue_calls import events, kinds

RING_SECONDS = 600  # Twilio's longest participant Timeout: 20 s of real ringing at SPEED 30


@pytest.fixture(autouse=True)
def slow_rings(live: Live) -> None:
    """The tests decide each ring themselves (accept, reject): the queues' default 20 s rings
    for 0.7 s of real time, which a loaded machine could miss between two polls."""
    for name in list(live.queues.queues):
        live.configure_queue(name, ring_timeout=RING_SECONDS)


def sim(live: Live, path: str, body: dict | None = None, method: str = "POST") -> Any:
    base = live.app.config["IVR"].twilio_api_base
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def device(live: Live, identity: str) -> None:
    sim(live, f"/sim/clients/{identity}/register", {"mode": "manual"})


def accept(live: Live, identity: str) -> str:
    """Wait for the identity's device to ring, accept, return the leg's CallSid."""
    found: list[str] = []

    def ringing() -> bool:
        calls = [c for c in sim(live, f"/sim/clients/{identity}/calls", method="GET")
                 if c["ringing"]]
        found[:] = [c["sid"] for c in calls]
        return bool(calls)

    live.run_until(ringing)
    sim(live, f"/sim/clients/{identity}/calls/{found[0]}/accept")
    return found[0]


def console(live: Live, name: str) -> Callable[[str, dict], Any]:
    client = signin.signed_in(live.app, name)
    token = signin.login_token(client)

    def post(path: str, body: dict) -> Any:
        return client.post(path, json=body, headers={"X-CSRF-Token": token,
                                                     "Accept": "application/json"})
    return post


def floor_of(live: Live, call: str) -> Any:
    return FloorStore(live.redis).load(call)


def joined(live: Live, call: str, role: str, who: str) -> bool:
    """The leg answered and the conference says it is in the room (the moves wait for it)."""
    floor = floor_of(live, call)
    return floor is not None and any(p.role == role and p.who == who and p.status == "joined"
                                     and p.in_room for p in floor.legs)


def routed_call(live: Live, script: str = "hold 40; wait 900") -> Any:
    signin.add_users(live.app.config["IVR"].instance_dir, alice="agent", dan="agent",
                     sam="supervisor")
    for name in ("alice", "dan", "sam"):
        device(live, name)
    caller = live.call(script)
    live.run_until(lambda: live.queues.position(caller.call_sid) == 1)
    live.available("alice")
    accept(live, "alice")
    live.run_until(lambda: joined(live, caller.call_sid, "agent", "alice")
                   and floor_of(live, caller.call_sid).state() == "talking")
    return caller


def test_hold_warm_transfer_monitor_and_the_caller_hangs_up(live: Live):
    caller = routed_call(live)
    call = caller.call_sid
    alice, sam = console(live, "alice"), console(live, "sam")
    held = alice("/agent/call/hold", {"call": call})
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["floor"]["state"] == "held"
    live.run_until(lambda: any("/voice/floor/hold" in (r.url or "")
                               for r in caller.transcript.requests()))
    assert alice("/agent/call/hold", {"call": call}).status_code == 409  # already held
    consult = alice("/agent/call/consult", {"call": call, "to_type": "agent", "to": "dan"})
    assert consult.status_code == 200, consult.get_json()
    accept(live, "dan")
    live.run_until(lambda: joined(live, call, "consult", "dan"))
    done = alice("/agent/call/consult/complete", {"call": call})
    assert done.status_code == 200, done.get_json()
    live.run_until(lambda: joined(live, call, "agent", "dan")
                   and not joined(live, call, "agent", "alice"))
    live.run_until(lambda: live.queues.agents.get("alice").presence.value == "wrap_up")
    assert live.queues.agents.get("dan").presence.value == "on_call"
    dan = console(live, "dan")  # the call is dan's now: he may act on it
    assert dan("/agent/call/mute", {"call": call}).status_code == 200
    listen = sam("/supervisor/monitor", {"call": call, "mode": "listen"})
    assert listen.status_code == 200, listen.get_json()
    accept(live, "sam")
    live.run_until(lambda: joined(live, call, "monitor", "sam"))
    for mode in ("whisper", "barge"):
        changed = sam("/supervisor/monitor", {"call": call, "mode": mode})
        assert changed.status_code == 200, changed.get_json()
        assert [p["mode"] for p in changed.get_json()["floor"]["participants"]
                if p["role"] == "monitor"] == [mode]
    caller.interrupt(RemoteHangup("the caller hung up", own=True))
    live.run_until(lambda: caller.completed)
    live.run_until(lambda: "agent_left" in kinds(live, call)
                   and live.queues.agents.get("dan").presence.value == "wrap_up")
    assert caller.transcript.ok, caller.transcript.render()
    seen = events(live, call)
    assert [d["mode"] for k, d in seen if k == "monitor"] == ["listen", "whisper", "barge"]
    assert [d["supervisor"] for k, d in seen if k == "monitor"] == ["sam"] * 3
    transfers = [(d["mode"], d["result"], d["to"]) for k, d in seen if k == "transfer"]
    assert transfers == [("warm", "started", "dan"), ("warm", "completed", "dan")]
    assert [k for k, _ in seen if k in ("hold_started", "hold_ended")] == [
        "hold_started", "hold_ended"]
    lefts = [d["agent"] for k, d in seen if k == "agent_left"]
    assert lefts == ["alice", "dan"]
    assert [d for k, d in seen if k == "caller_hung_up"] == [{"agent": "dan"}]


def test_agent_hangs_up_from_the_console_and_the_survey_follows(live: Live):
    caller = routed_call(live, "hold 40; wait 900; press 5; press 1")
    alice = console(live, "alice")
    assert alice("/agent/call/hangup", {"call": caller.call_sid}).status_code == 200
    live.run_until(lambda: caller.completed)
    assert caller.transcript.ok, caller.transcript.render()
    assert "On a scale of 1 to 5" in " | ".join(caller.transcript.heard())
    assert "survey_answer" in kinds(live, caller.call_sid)
    assert "caller_hung_up" not in kinds(live, caller.call_sid)  # alice left them to the flow
    assert live.queues.agents.get("alice").presence.value == "wrap_up"


def test_a_ring_nobody_answers_puts_the_caller_back_in_line(live: Live):
    signin.add_users(live.app.config["IVR"].instance_dir, alice="agent")
    device(live, "alice")
    caller = live.call("hold 80; wait 900")
    live.run_until(lambda: live.queues.position(caller.call_sid) == 1)
    live.available("alice")
    live.run_until(lambda: bool(sim(live, "/sim/clients/alice/calls", method="GET")))
    (ring,) = sim(live, "/sim/clients/alice/calls", method="GET")
    sim(live, f"/sim/clients/alice/calls/{ring['sid']}/reject")
    live.run_until(lambda: "agent_missed" in kinds(live, caller.call_sid))
    live.run_until(lambda: live.queues.position(caller.call_sid) == 1
                   and any("/voice/floor/back" in (r.url or "")
                           for r in caller.transcript.requests()))
    assert live.queues.agents.missed_rings("alice") == 1
    assert caller.transcript.ok, caller.transcript.render()


def test_cold_transfer_to_a_queue_and_to_an_outside_number_refused(live: Live):
    caller = routed_call(live)
    alice = console(live, "alice")
    refused = alice("/agent/call/transfer", {"call": caller.call_sid, "to_type": "number",
                                             "to": "+19005550100"})
    assert refused.status_code == 409
    moved = alice("/agent/call/transfer", {"call": caller.call_sid, "to_type": "queue",
                                           "to": "sales"})
    assert moved.status_code == 200, moved.get_json()
    live.run_until(lambda: live.queues.place(caller.call_sid)[0] == "sales")
    transfer = [d for k, d in events(live, caller.call_sid) if k == "transfer"]
    assert transfer == [{"agent": "alice", "to_type": "queue", "to": "sales", "mode": "cold",
                         "result": "completed"}]
    live.run_until(lambda: live.queues.agents.get("alice").presence.value == "wrap_up")
    assert caller.transcript.ok, caller.transcript.render()


def test_cold_transfer_to_an_agent_and_a_third_party_added(live: Live):
    caller = routed_call(live)
    call = caller.call_sid
    alice = console(live, "alice")
    added = alice("/agent/call/add", {"call": call, "to_type": "number",
                                      "to": "+14155550177"})
    assert added.status_code == 200, added.get_json()
    live.run_until(lambda: joined(live, call, "third", "+14155550177"))  # the number answers
    moved = alice("/agent/call/transfer", {"call": call, "to_type": "agent", "to": "dan"})
    assert moved.status_code == 200, moved.get_json()
    accept(live, "dan")
    live.run_until(lambda: joined(live, call, "agent", "dan")
                   and live.queues.agents.get("alice").presence.value == "wrap_up")
    assert live.queues.agents.get("dan").presence.value == "on_call"
    seen = events(live, call)
    assert [d for k, d in seen if k == "party_added"] == [
        {"agent": "alice", "to_type": "number", "to": "+14155550177"}]
    assert [(d["agent"], d["mode"], d["result"]) for k, d in seen if k == "transfer"] == [
        ("alice", "cold", "started"), ("alice", "cold", "completed")]
    assert [d["agent"] for k, d in seen if k == "agent_left"] == ["alice"]
    assert caller.transcript.ok, caller.transcript.render()


def test_consult_cancelled_gives_the_caller_back(live: Live):
    caller = routed_call(live)
    call = caller.call_sid
    alice = console(live, "alice")
    live.queues.agent_presence("dan", "break", time.time())  # a colleague on a break helps
    assert alice("/agent/call/consult", {"call": call, "to_type": "agent",
                                         "to": "dan"}).status_code == 200
    accept(live, "dan")
    live.run_until(lambda: joined(live, call, "consult", "dan"))
    cancelled = alice("/agent/call/consult/cancel", {"call": call})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["floor"]["held"] is False
    live.run_until(lambda: live.queues.agents.get("dan").presence.value == "break")  # again
    assert joined(live, call, "agent", "alice")
    results = [d["result"] for k, d in events(live, call) if k == "transfer"]
    assert results == ["started", "cancelled"]
    assert [k for k, _ in events(live, call) if k.startswith("hold_")] == [
        "hold_started", "hold_ended"]
