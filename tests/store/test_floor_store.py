"""The floor state in a real Redis (ivr/store/floor.py): a console move's write lays only
what the move changed over the legs as stored when it writes, so a leg a webhook marked
`left` while the move's REST calls ran stays left (consult/complete and hangup drop the
agent's own leg; putting it back `joined` made it leave twice, two `agent_left` events)."""

from __future__ import annotations

from dataclasses import replace

from ivr.domain.floor import Leg, plan
from ivr.store.floor import FloorStore

CALL, ALICE, DAN = "CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32


def consulting(store: FloorStore) -> None:
    """Alice has the caller on hold and has consulted Dan, who answered."""
    store.create(CALL, "support", conference="CF1")
    for leg in (Leg(CALL, "caller", "caller", "joined", held=True, since=10.0),
                Leg(ALICE, "agent", "alice", "joined", since=11.0),
                Leg(DAN, "consult", "dan", "joined", since=20.0)):
        store.add_leg(CALL, replace(leg, in_room=True))  # their participant-joins came
    store.set(CALL, held_since="15.0", hold_count="1")


def test_a_leg_that_left_during_the_move_stays_left(redis):
    store = FloorStore(redis)
    consulting(store)
    before = store.load(CALL)
    move = plan(before, "alice", "consult/complete", {}, 30.0)
    # the Drop of alice's leg reached the stand-in; its webhook is handled before the write
    store.update_leg(CALL, ALICE, lambda b: replace(b, status="left") if b else None)
    store.save_move(before, move.floor)
    after = store.load(CALL)
    assert after.leg(ALICE).status == "left"  # not put back
    assert (after.leg(DAN).role, after.leg(DAN).status) == ("agent", "joined")
    assert after.leg(CALL).held is False
    assert (after.held_since, after.hold_seconds) == (None, 15.0)


def test_a_move_writes_only_the_legs_it_changed(redis):
    store = FloorStore(redis)
    consulting(store)
    before = store.load(CALL)
    move = plan(before, "alice", "mute", {}, 30.0)
    store.update_leg(CALL, DAN, lambda b: replace(b, muted=True) if b else None)  # a webhook
    store.save_move(before, move.floor)
    after = store.load(CALL)
    assert after.leg(ALICE).muted is True
    assert after.leg(DAN).muted is True  # the webhook's change is kept
    assert after.leg(CALL).held is True
