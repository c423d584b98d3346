"""Redis Cluster readiness: every Lua script and every MULTI/EXEC transaction the product runs
touches keys of one hash slot (Cluster refuses anything else with CROSSSLOT), checked on the
keys actually used while whole calls go through the queue, an agent and a callback.

Slots are computed as Redis Cluster does (CRC16 of the key or of its {hash tag}, mod 16384),
with redis-py's `key_slot`. The one known exception is listed, with its reason, in
CROSS_SLOT_BY_DESIGN; docs/deployment.md says what it means for a Cluster deployment.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis.client import Pipeline
from redis.commands.core import Script
from redis.crc import key_slot

from ivr.store import keys
from tests.e2e.conftest import Live
from tests.e2e.test_queue_calls import kinds

# The step commit (ivr/store/scripts/call_commit.lua) appends the step's outcome events to the
# one events stream in the same script as the call's state, so a step and its events are
# recorded together or not at all. The stream is one key for the whole system, so it cannot
# share every call's slot.
CROSS_SLOT_BY_DESIGN = {keys.events_stream()}


def _text(key: Any) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)


@pytest.fixture
def multi_key_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, list[str]]] = []
    script_call = Script.__call__
    execute = Pipeline.execute

    def record_script(self: Script, keys: Any = None, args: Any = None, client: Any = None):
        seen.append((self.script.split("\n", 1)[0][:80], [_text(k) for k in keys or []]))
        return script_call(self, keys=keys, args=args, client=client)

    def record_transaction(self: Pipeline, raise_on_error: bool = True):
        if self.transaction and self.command_stack:
            names = " ".join(_text(c[0][0]) for c in self.command_stack)
            seen.append((f"MULTI {names}"[:80], [_text(c[0][1]) for c in self.command_stack
                                                 if len(c[0]) > 1]))
        return execute(self, raise_on_error)

    monkeypatch.setattr(Script, "__call__", record_script)
    monkeypatch.setattr(Pipeline, "execute", record_transaction)
    return seen


def test_scripts_and_transactions_stay_in_one_slot(live: Live, multi_key_calls):
    first = live.call("hold 20; press 5; press 1", from_="+14155550101")
    live.run_until(lambda: live.queues.position(first.call_sid) == 1)
    second = live.call("hold 1; press 1; press 1", from_="+14155550102")
    live.run_until(lambda: second.completed)
    live.available("alice")
    live.run_until(lambda: first.completed)
    live.available("dan")
    live.run_until(lambda: "callback_done" in kinds(live, second.call_sid))
    assert first.transcript.ok, first.transcript.render()
    assert len(multi_key_calls) > 20
    crossing = []
    for what, used in multi_key_calls:
        if not all(k.startswith(keys.PREFIX) for k in used):
            continue  # RQ's own (rq:...): RQ needs a Redis it can use whole, see the docs
        slots = {key_slot(k.encode()) for k in used if k not in CROSS_SLOT_BY_DESIGN}
        if len(slots) > 1:
            crossing.append(f"{what}: {sorted(set(used))}")
    assert not crossing, "\n".join(sorted(set(crossing)))
