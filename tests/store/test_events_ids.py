"""Event ids: unique, uuid4-shaped, and different in a forked child (gunicorn workers fork)."""

from __future__ import annotations

import os
import uuid

from ivr.store.events import new_event_id


def test_ids_are_uuid4_hex_and_unique() -> None:
    ids = {new_event_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(uuid.UUID(hex=i).version == 4 for i in list(ids)[:100])


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: send its next ids, exit without running pytest's teardown
        os.write(write, " ".join(new_event_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = set(os.read(read, 4096).decode().split())
    parent = {new_event_id() for _ in range(5)}
    assert len(child) == 5
    assert not child & parent


def test_an_id_is_exactly_uuid4_hex_of_the_same_bits(monkeypatch) -> None:
    """new_event_id skips building the UUID object: same text for the same random bits."""
    import random

    from ivr.store import events

    for seed in range(3):
        mine, reference = random.Random(seed), random.Random(seed)
        monkeypatch.setattr(events, "_random", mine)
        for _ in range(2000):
            bits = reference.getrandbits(128)
            assert new_event_id() == uuid.UUID(int=bits, version=4).hex
