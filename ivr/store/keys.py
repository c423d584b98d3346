"""Every Redis key the product uses, built under one prefix (as rq does with `rq:job:`).

Keys that a Lua script or transaction touches together share a hash tag (`{queues}` for the
queue engine, `{<CallSid>}` for one call's keys) so the same scripts run on Redis Cluster;
tests/e2e/test_cluster_slots.py checks the keys really used. Nothing else in the code base
writes a key literal.
"""

from __future__ import annotations

PREFIX = "ivr:"


def call(call_sid: str) -> str:
    """Per-call interpreter state and cached webhook answers (hash, with a TTL). The CallSid
    is the hash tag: a step's scripts touch this hash, its answers and its lock together
    (ivr/store/scripts/call_begin.lua, call_commit.lua), so on Redis Cluster they share a slot
    and calls spread over every shard."""
    return f"{PREFIX}call:{{{call_sid}}}"


def call_responses(call_sid: str) -> str:
    """TwiML already sent for each step of a call, so a retried webhook gets the same answer."""
    return f"{PREFIX}call:{{{call_sid}}}:responses"


def call_recording(call_sid: str) -> str:
    """HASH: the recording of the agent's leg of a routed call (ivr/store/call_recordings.py),
    keyed by the caller's CallSid, with a TTL."""
    return f"{PREFIX}call:{{{call_sid}}}:recording"


def events_stream() -> str:
    """Outcome events (call started, node visited, queue joined, ...) for the database writer."""
    return f"{PREFIX}events"


# Skill-queue engine (ivr/store/redis_queue.py, agents.py, callbacks.py). Every key shares the
# hash tag `{queues}`: a reservation touches a caller, an agent and several skill indexes that
# belong to different queues, so the whole engine lives in one slot on Redis Cluster. A call
# centre's routing load is far below one shard's capacity; atomicity is worth more.
QUEUES_TAG = "{queues}"
_Q = f"{PREFIX}{QUEUES_TAG}"


def queue_waiting(queue: str) -> str:
    """ZSET member -> score(priority, virtual start): the line itself (see domain/queueing)."""
    return f"{_Q}:waiting:{queue}"


def queue_parked(queue: str) -> str:
    """ZSET member -> ms from which an entry that may not be routed yet is looked at again
    (`inf`: a callback held until the queue opens). A parked entry is still in line (entry
    state `waiting`, its place score kept in the entry hash) but out of `queue_waiting`, so
    it never blocks the callers behind it; routing puts it back with the same score when due
    (issue 12 item 10; scripts/park.lua, promote.lua)."""
    return f"{_Q}:parked:{queue}"


def queue_joined(queue: str) -> str:
    """ZSET member -> joined-at ms: head-of-line wait and total waiting time."""
    return f"{_Q}:joined:{queue}"


def queue_entry(member: str) -> str:
    """HASH for one caller or callback in line (queue, skills, priority, vstart, state, ...)."""
    return f"{_Q}:entry:{member}"


def queue_stats(queue: str) -> str:
    """HASH of counters: answered, answered_wait_ms, abandoned, abandoned_wait_ms, ..."""
    return f"{_Q}:stats:{queue}"


def queue_recent_waits(queue: str) -> str:
    """LIST of recent answered waits in ms, newest first, capped."""
    return f"{_Q}:recent-waits:{queue}"


def queue_recent_handles(queue: str) -> str:
    """LIST of recent handle times in ms, newest first, capped."""
    return f"{_Q}:recent-handles:{queue}"


def agent(agent_id: str) -> str:
    """HASH: name, address, skills (json), presence, since, idle_since, member, token, ..."""
    return f"{_Q}:agent:{agent_id}"


def agents_index() -> str:
    """SET of every agent id."""
    return f"{_Q}:agents"


def agents_available(skill: str) -> str:
    """ZSET agent id -> idle-since ms, for available agents with `skill` (longest idle first)."""
    return f"{_Q}:available:{skill}"


def reservation(token: str) -> str:
    """HASH: member, agent, queue, kind, state (reserved|bridging|bridged), created."""
    return f"{_Q}:reservation:{token}"


def reservation_leases() -> str:
    """ZSET token -> lease expiry ms; expired, uncompleted reservations are undone."""
    return f"{_Q}:leases"


def callbacks_by_number(queue: str) -> str:
    """HASH number -> callback id: one pending callback per number per queue."""
    return f"{_Q}:callback-numbers:{queue}"


def queue_hold_stats(queue: str) -> str:
    """HASH: the hold-time estimator's learned statistics for a queue (`stats`, JSON of
    ivr.domain.holdtime.HoldStats) and the staffing it last saw (`agents`)."""
    return f"{_Q}:hold-stats:{queue}"


def queue_hold_events(queue: str) -> str:
    """LIST of JSON events (answered, abandoned, talk time, staffing, range outcome) not yet
    folded into `queue_hold_stats` (ivr/store/hold_stats.py, scripts/hold_fold.lua)."""
    return f"{_Q}:hold-events:{queue}"


def operator_flags() -> str:
    """HASH of operator switches (emergency_closed, always_open, storm_mode, ...)."""
    return f"{PREFIX}flags"


def queue_estimate_accuracy(queue: str, day: str) -> str:
    """HASH per queue and UTC day: answered callers whose announced wait is known (`n`), the
    sums of announced-minus-actual (`sum`) and of its absolute value (`abs`), in seconds."""
    return f"{_Q}:estimate-accuracy:{queue}:{day}"


def caller_summary(number: str) -> str:
    """HASH per caller number (normalised, ivr.domain.phone_numbers.canonical_number): what a
    flow may know at call start (ivr/domain/caller_history.py FIELDS), kept by the worker."""
    return f"{PREFIX}caller:{number}"


def callback_quota(number: str) -> str:
    """ZSET token -> ms of the callbacks one number took part in (asked for, or was the number
    called) in the last 24 hours: the toll-fraud daily limit (ivr/store/callback_limits.py).
    Under `{queues}` because one script counts the caller's and the called number together."""
    return f"{_Q}:callback-quota:{number}"


def login_attempts(client: str, username: str | None = None) -> str:
    """Counter (with the window as TTL) of sign-in attempts from one client, or from one
    client for one user name (dashboards/login_limits.py). The client is the hash tag: one
    script counts both on Redis Cluster too."""
    base = f"{PREFIX}login:{{{client}}}"
    return base if username is None else f"{base}:user:{username}"


def floor(call_sid: str) -> str:
    """HASH: the agent floor's state of one caller's conference (ivr/store/floor.py), with a
    TTL. The caller's CallSid is the hash tag, as for the call's own keys."""
    return f"{PREFIX}floor:{{{call_sid}}}"
