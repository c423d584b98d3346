"""`ivr demo`'s simulated agents on the agent floor (ivr/commands/demo_floor.py), in process
against the real app over HTTP, a real Redis and the Twilio stand-in: routed callers reach
agents whose phones the stand-in answers; the crew puts each caller on hold and resumes, then
transfers the call warm, cold to a free colleague, and cold to another queue, all through the
console's floor moves. The holds are heard in the conference (the HoldUrl), the transfers move
the caller between legs and queues, and both reach the outcome events, the call records and
the wallboard's JSON (today's hold and transfer rate per agent and queue)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq import Queue
from sqlalchemy.orm import sessionmaker

from devkit.twilio_standin.leg_steps import RemoteHangup
from ivr.commands.demo_floor import FloorCrew, FloorHabits
from ivr.phone.floor_moves import FloorMoves
from ivr.store.jobs import ROUTING_QUEUE, enqueue_once
from queue_worker.routing import route_all
from tests import signin
from tests.e2e.conftest import Live
from tests.e2e.test_queue_calls import events, kinds

# Every call: one hold of 2-6 s, then a transfer; the kind is chosen by the shares below.
HABITS = FloorHabits(hold_rate=1.0, hold_seconds=4.0, transfer_rate=1.0, threads=2,
                     first_move=(0.2, 0.5), consult_talk=(0.5, 1.0), answer_patience=120.0)
KINDS = {"warm": {"warm_share": 1.0}, "agent": {"warm_share": 0.0, "queue_share": 0.0},
         "queue": {"warm_share": 0.0, "queue_share": 1.0}}


# The agents' phones talk for hours (of the stand-in's clock; tests/e2e/conftest.py `live`):
# the test ends each call by hanging the caller up once the crew is done, so no move races
# the talk time.
STANDIN_TALK_SECONDS = 14400.0


@pytest.fixture
def crew(live: Live):
    """The simulated agents' floor crew on the app's own services, its moves the console's
    (FloorMoves.for_console: the REST client goes to the stand-in); every agent available,
    a short wrap-up so the next call finds colleagues free."""
    svc = live.app.extensions["ivr"]
    for name in list(live.queues.queues):
        live.configure_queue(name, wrap_up_seconds=1.0)
    live.available("alice", "bob", "carol", "dan")
    stop = threading.Event()
    made = FloorCrew(FloorMoves.for_console(svc.floor_legs, svc.config), HABITS,
                     random.Random(7), stop, svc.clock)
    try:
        yield made
    finally:
        made.close()


def tick(live: Live, crew: FloorCrew, last: list[float] = [0.0]) -> None:  # noqa: B006
    """What demo-traffic's loop does each tick for the floor: the softphones stay registered
    (as Agents.tick keeps them; its random breaks are left out here), the crew rolls for
    the calls answered since. Once a second, what `ivr worker`'s tick thread does
    (queue_worker/worker.py): a routing pass that also ends the wrap-ups whose time has
    passed, as a running worker would whatever its scheduler did."""
    agents = live.queues.agents.all()
    for agent in agents:
        live.queues.agents.device(agent.id, "registered", time.time())
    crew.tick(agents)
    if time.monotonic() - last[0] >= 1.0:
        last[0] = time.monotonic()
        enqueue_once(Queue(ROUTING_QUEUE, connection=live.redis), "route-all-tick", route_all,
                     "tick")


def transfers(live: Live, call: str) -> list[tuple[str, str, str]]:
    return [(d["mode"], d["result"], d["to_type"]) for k, d in events(live, call)
            if k == "transfer"]


def play(live: Live, crew: FloorCrew, kind: str) -> str:
    """One caller through the crew's hold and a transfer of `kind`; the caller hangs up
    once the call has a new agent. Returns the caller's CallSid."""
    crew.habits = replace(HABITS, **KINDS[kind])
    caller = live.call("hold 40")
    call = caller.call_sid

    def moved() -> bool:
        tick(live, crew)
        answers = kinds(live, call).count("agent_answered")
        done = ("completed" in [r for _, r, _ in transfers(live, call)])
        return done and (kind != "queue" or answers == 2) and _new_agent_in(live, call)

    live.run_until(moved, timeout=120)
    caller.interrupt(RemoteHangup("the caller hung up", own=True))
    live.run_until(lambda: caller.completed and "call_ended" in kinds(live, call), timeout=60)
    assert caller.transcript.ok, caller.transcript.render()
    return call


def _new_agent_in(live: Live, call: str) -> bool:
    """The caller talks to an agent again after the transfer (a joined `agent` leg)."""
    floor = live.app.extensions["ivr"].floor_legs.floor.load(call)
    return floor is not None and any(p.role == "agent" and p.status == "joined"
                                     for p in floor.legs)


def test_the_demo_agents_hold_and_transfer_through_the_floor_and_the_board_shows_it(
        live: Live, crew: FloorCrew):
    local = datetime.now(ZoneInfo("America/Los_Angeles"))  # queues.yaml's business day
    if local.hour * 60 + local.minute < 10 or local.hour * 60 + local.minute > 23 * 60 + 55:
        pytest.skip("the business day turns over during the test")
    calls = {kind: play(live, crew, kind) for kind in KINDS}

    for kind, call in calls.items():
        seen = events(live, call)
        holds = [d["seconds"] for k, d in seen if k == "hold_ended"]
        assert holds, f"{kind}: no hold ended"
        assert holds[0] >= 1.0  # the crew's hold: 2-6 s on the app's clock
        assert kinds(live, call).count("hold_started") == len(holds)
        lefts = [d["agent"] for k, d in seen if k == "agent_left"]
        assert len(lefts) == len(set(lefts)), f"{kind}: an agent left twice: {lefts}"
        heard = [r.url for r in live.standin.leg(call).transcript.requests()]
        assert any("/voice/floor/hold" in (u or "") for u in heard), kind  # the HoldUrl
    assert transfers(live, calls["warm"]) == [("warm", "started", "agent"),
                                              ("warm", "completed", "agent")]
    assert transfers(live, calls["agent"]) == [("cold", "started", "agent"),
                                               ("cold", "completed", "agent")]
    assert transfers(live, calls["queue"]) == [("cold", "completed", "queue")]
    requeued = [d["queue"] for k, d in events(live, calls["queue"]) if k == "queue_joined"]
    assert requeued[:1] == ["support"]
    assert requeued[1] in ("sales", "billing")
    assert crew.summary() == "3 holds, 1 warm and 2 cold transfers (1 to a queue)"

    board = _board_after_the_writer(live)
    support = next(q for q in board["queues"] if q["queue"] == "support")
    assert support["transfer_rate"] == 1.0  # every support visit was transferred on
    assert (support["hold"] or 0.0) >= 1.0
    senders = {d["agent"] for call in calls.values() for k, d in events(live, call)
               if k == "transfer"}
    rows = {a["id"]: a for a in board["agents"]}
    for agent in senders:
        assert rows[agent]["transfer_rate"] > 0, rows[agent]
        assert rows[agent]["hold"] > 0, rows[agent]
        assert rows[agent]["after_call"] is not None, rows[agent]


def _board_after_the_writer(live: Live) -> dict:
    """The outcome writer folds the events into the database; the wallboard's JSON as a
    signed-in supervisor sees it (today's figures are read from there)."""
    from dashboards.auth import user_engine
    from queue_worker.outcomes import drain_events

    with live.app.app_context():
        assert drain_events(live.redis, sessionmaker(user_engine())).failed == 0
    signin.add_users(live.app.config["IVR"].instance_dir, sue="supervisor")
    answer = signin.signed_in(live.app, "sue").get("/wallboard/board.json")
    assert answer.status_code == 200
    return answer.get_json()
