"""Where a routed call's recording stands, in Redis: which recording of which agent leg, and
whether it is running, paused or done (issue 14 item 4; docs/agent-floor.md).

One hash per caller CallSid (`keys.call_recording`), kept for the call-state TTL: `recording`
(the RE sid, once Twilio named it), `leg` (the agent's CallSid the recording is on), `queue`,
`status` (`starting`, `in-progress`, `paused`, `completed`, `failed`: Twilio would not
start it) and `channels`. A transfer that
records the next agent's leg replaces it; a late callback of the earlier recording then no
longer matches and changes nothing (`settle`). The outcome database keeps the history (the
`recording` events); this is only what the console and the webhooks need now. Must not import
Flask, RQ or Twilio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from ivr.store import keys
from ivr.store.scripts import text

LIVE = ("starting", "in-progress", "paused")


@dataclass(frozen=True)
class CallRecordingState:
    call: str
    leg: str
    queue: str
    status: str
    recording: str = ""

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def console_state(self) -> str:
        """What the console shows: on, paused, failed (Twilio would not start it) or off
        (docs/agent-floor.md context.json)."""
        if self.status in ("paused", "failed"):
            return self.status
        return "on" if self.live else "off"


class CallRecordingStore:
    def __init__(self, conn: redis.Redis, ttl: int = 6 * 3600) -> None:
        self.conn = conn
        self.ttl = ttl

    def begin(self, call: str, leg: str, queue: str) -> None:
        """A recording of `leg` is being asked for (the previous one of this call is replaced)."""
        key = keys.call_recording(call)
        pipe = self.conn.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"leg": leg, "queue": queue, "status": "starting"})
        pipe.expire(key, self.ttl)
        pipe.execute()

    def load(self, call: str) -> CallRecordingState | None:
        raw = {text(k): text(v) for k, v in self.conn.hgetall(keys.call_recording(call)).items()}
        if not raw.get("leg"):
            return None
        return CallRecordingState(call, raw["leg"], raw.get("queue", ""),
                                  raw.get("status", ""), raw.get("recording", ""))

    def settle(self, call: str, leg: str, recording: str, status: str) -> bool:
        """Record what Twilio said of `recording` on `leg`; False (nothing changed) when the
        call's current recording is another one. A `paused` recording stays paused when an
        `in-progress` callback arrives late."""
        key = keys.call_recording(call)
        done: list[bool] = [False]

        def step(pipe: Any) -> None:
            raw = {text(k): text(v) for k, v in pipe.hgetall(key).items()}
            mine = raw.get("leg") == leg and raw.get("recording", "") in ("", recording)
            done[0] = mine
            if not mine:
                return
            if status == "in-progress" and raw.get("status") == "paused":
                status_now = "paused"
            else:
                status_now = status
            pipe.multi()
            pipe.hset(key, mapping={"recording": recording, "status": status_now})
            pipe.expire(key, self.ttl)

        self.conn.transaction(step, key)
        return done[0]

    def set_status(self, call: str, status: str) -> None:
        key = keys.call_recording(call)
        pipe = self.conn.pipeline(transaction=True)
        pipe.hset(key, "status", status)
        pipe.expire(key, self.ttl)
        pipe.execute()
