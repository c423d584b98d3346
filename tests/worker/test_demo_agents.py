"""The demo's simulated agents (ivr/commands/demo_traffic.py) on the real queue engine: a
break clicked just as routing rings the agent does nothing instead of stopping the demo."""

from __future__ import annotations

import random

import pytest

from ivr.commands.demo_traffic import Agents
from tests.store.queue_fixtures import NOW, go_available, make_service


@pytest.fixture
def ringing_alice(redis):  # noqa: ANN001
    svc = make_service(redis)
    go_available(svc, "alice", "bob")
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 1).reservations
    assert res.agent.id == "alice"
    assert svc.agents.get("alice").presence == "ringing"
    return svc


def test_a_break_clicked_while_routing_rings_the_agent_does_nothing(ringing_alice):
    agents = Agents(ringing_alice, random.Random(1))
    assert agents._set("alice", "break", NOW + 2) is False
    assert ringing_alice.agents.get("alice").presence == "ringing"
    assert agents._set("bob", "break", NOW + 2) is True


def test_a_break_that_ends_while_the_agent_is_ringing_is_dropped(ringing_alice):
    agents = Agents(ringing_alice, random.Random(1))
    agents.on_break["alice"] = 0.0  # over long ago
    agents.tick()
    assert agents.on_break == {}
    assert ringing_alice.agents.get("alice").presence == "ringing"


def test_starting_again_while_an_agent_still_rings_from_the_last_run(ringing_alice):
    agents = Agents(ringing_alice, random.Random(1))
    agents.start()  # the demo restarted on the same Redis: alice's last call is still ringing
    assert ringing_alice.agents.get("alice").presence == "ringing"
    assert ringing_alice.agents.get("carol").presence == "available"
