"""The skill-queue engine on Redis: `QueueService`, the one object the web layer, the jobs
and the CLI use. Owns the line (sorted sets), entries, statistics and reservations; agent
records live in `agents.py`, callbacks in `callbacks.py`. Must not import Flask or RQ; routing
passes are asked for through a `RoutingTrigger` port, telephony happens in `queue_worker/`.

Service API (times are epoch seconds, floats; `member` is a CallSid or `cb:<id>`):

    svc = QueueService(conn, queues, trigger=RqTrigger(...))
    svc.join(call_sid, queue, now, skill=None, priority=0, caller=None) -> JoinResult
    svc.position(member) -> int | None                    # 1-based, None when not waiting
    svc.leave(call_sid, result, now) -> LeaveResult       # result: Twilio QueueResult
    svc.snapshot(queue, now, member=None) -> QueueSnapshot   # wallboard + hold-time estimator
    svc.snapshots(now=None) -> list[dict]                 # every queue (metrics)
    svc.route(queue, now) -> RouteResult                  # reserve agents, across queues
    svc.expire_leases(now) -> int                         # undo reservations nobody completed
    svc.begin_bridge(token, now) / bridge_sent(token)     # used by the bridge job
    svc.bridge_target(member, agent_id, token) -> Agent | None   # for the bridge TwiML
    svc.bridge_answered(member, token, now) -> float | None      # wait in seconds
    svc.bridge_failed(member, token, now, agent_presence="break")  # back in line, same place
    svc.dial_finished(member, token, dial_status, now)    # <Dial action> convenience
    svc.call_ended(member, now) -> float | None           # handle time; agent to wrap-up
    svc.agents / svc.agent_presence(agent_id, state, now) / svc.end_wrap_up(agent_id, now)
    svc.callbacks.request(...) (see callbacks.py)

Atomicity: every change touching several keys is one Lua script (`scripts/*.lua`). Two
webhooks or workers racing can at worst see a script refuse (caller already taken, agent no
longer available), never a lost or duplicated caller. Reservations carry a lease: one that is
neither answered nor failed before the lease ends (a worker died mid-bridge) is undone by the
next `expire_leases`, putting the caller back with the same score.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from ivr.domain import routing
from ivr.domain.errors import Conflict, NotFound
from ivr.domain.queue_ports import NoTrigger, RoutingTrigger
from ivr.domain.queueing import Agent, Presence, QueueConfig, Waiting, score
from ivr.store import keys
from ivr.store.agents import AgentStore, to_ms
from ivr.store.callbacks import CallbackStore
from ivr.store.queue_line import LineReader
from ivr.store.queue_stats import QueueSnapshot, read_snapshot
from ivr.store.reservations import Reservation, ReservationOps
from ivr.store.scripts import load_scripts, text
from ivr.store.wrap_up import WrapUpOps

ABANDON_RESULTS = {"hangup": "abandoned", "error": "abandoned", "system-error": "abandoned",
                   "leave": "left"}


@dataclass(frozen=True)
class JoinResult:
    accepted: bool
    position: int
    created: bool = False
    reason: str | None = None  # "queue-full" or "already-connected"
    overflow_action: str | None = None  # where a refused caller should go
    overflow_target: str | None = None


@dataclass(frozen=True)
class LeaveResult:
    state: str  # what the caller was: waiting, reserved, connected, or "" (unknown)
    wait: float


@dataclass
class RouteResult:
    reservations: list[Reservation] = field(default_factory=list)
    overflowed: list[tuple[str, str, str | None]] = field(default_factory=list)
    waiting: int = 0


class QueueService(ReservationOps, WrapUpOps):
    def __init__(self, conn: redis.Redis, queues: Mapping[str, QueueConfig], *,
                 trigger: RoutingTrigger | None = None, lease_seconds: float = 10.0,
                 bridge_grace: float = 15.0, head: int = 20, recent: int = 100,
                 is_open: Callable[[str | None, float], bool] | None = None,
                 away_after_missed: int = 2, device_stale_seconds: float = 30.0,
                 wrap_up_max_extend: float = 300.0) -> None:
        self.conn = conn
        self.queues = dict(queues)
        self.trigger = trigger or NoTrigger()
        self.lease_seconds = lease_seconds
        self.bridge_grace = bridge_grace
        self.head = head
        self.recent = recent
        self.device_stale_seconds = device_stale_seconds
        self.wrap_up_max_extend = wrap_up_max_extend
        self.is_open = is_open or (lambda hours, now: True)
        self.scripts = load_scripts(conn)
        self.agents = AgentStore(conn, self.scripts, away_after_missed=away_after_missed)
        self.callbacks = CallbackStore(self)
        self.lines = LineReader(conn, self.scripts,
                                lambda queue, now: self.is_open(self.config(queue).hours, now))

    # ------------------------------------------------------------------ callers
    def config(self, queue: str) -> QueueConfig:
        try:
            return self.queues[queue]
        except KeyError:
            raise NotFound(f"queue {queue!r} is not in queues.yaml; add it or fix the flow's "
                           f"queue name (known: {', '.join(sorted(self.queues))})") from None

    def join(self, call_sid: str, queue: str, now: float, *, skill: str | None = None,
             priority: int = 0, caller: Mapping[str, str] | None = None) -> JoinResult:
        """Put a caller in line. Retried webhooks get the same position (`created` False)."""
        cfg = self.config(queue)
        fields: dict[str, Any] = {"member": call_sid, "queue": queue, "kind": "call",
                  "skills": skill or cfg.skill, "priority": priority,
                  "score": score(priority, now), "vstart": to_ms(now), "joined_at": to_ms(now),
                  "state": "waiting", "caller": json.dumps(dict(caller or {}))}
        pos, created = self.scripts.join(
            keys=[keys.queue_waiting(queue), keys.queue_joined(queue), keys.queue_entry(call_sid),
                  keys.queue_parked(queue)],
            args=[call_sid, fields["score"], fields["joined_at"], cfg.max_size,
                  *[x for kv in fields.items() for x in kv]])
        if pos == -1:
            rule = cfg.overflow
            return JoinResult(False, 0, reason="queue-full",
                              overflow_action=rule.action if rule else "voicemail",
                              overflow_target=rule.target if rule else None)
        if pos == 0:
            return JoinResult(False, 0, reason="already-connected")
        if created:
            self.trigger.queue_changed(queue, "joined")
        return JoinResult(True, int(pos), bool(created))

    def position(self, member: str) -> int | None:
        """1-based place in line. A parked entry (queue_line.py) keeps its place: it is
        counted after everyone routable with a better score, where it will go back."""
        return self.place(member)[1]

    def place(self, member: str) -> tuple[str, int | None]:
        """The queue the entry is in ("" when none) and its place (`position`), from the
        same read: the hold loop needs both on every answer."""
        state, queue, sc = (text(v) for v in self.conn.hmget(keys.queue_entry(member),
                                                              ["state", "queue", "score"]))
        if state != "waiting":
            return queue, None
        rank = self.conn.zrank(keys.queue_waiting(queue), member)
        if rank is not None:
            return queue, int(rank) + 1  # type: ignore[arg-type]
        if self.conn.zscore(keys.queue_parked(queue), member) is None:
            return queue, None
        return queue, int(self.conn.zcount(keys.queue_waiting(queue), "-inf", f"({sc}")) + 1

    def leave(self, member: str, result: str, now: float) -> LeaveResult:
        """The caller left Twilio's queue with QueueResult `result`. `redirected` and
        `bridged` after our own bridge are not departures: the reservation decides."""
        queue = text(self.conn.hget(keys.queue_entry(member), "queue"))
        if not queue:
            return LeaveResult("", 0.0)
        counter = ABANDON_RESULTS.get(result, "")
        hung_up = counter == "abandoned"
        if not counter and result not in ("queue-full",):
            return LeaveResult(text(self.conn.hget(keys.queue_entry(member), "state")), 0.0)
        state, wait, token = self._leave(queue, member, now, counter, drop_reserved=hung_up)
        if state == "reserved" and token:
            self.release(token, now, agent_presence=Presence.AVAILABLE)
        return LeaveResult(state, wait)

    def _leave(self, queue: str, member: str, now: float, counter: str,
               drop_reserved: bool) -> tuple[str, float, str]:
        state, wait, token = self.scripts.leave(
            keys=[keys.queue_waiting(queue), keys.queue_joined(queue), keys.queue_entry(member),
                  keys.queue_stats(queue), keys.callbacks_by_number(queue),
                  keys.queue_parked(queue)],
            args=[member, to_ms(now), counter, "1" if drop_reserved else "0"])
        return text(state), int(wait) / 1000.0, text(token)

    def snapshot(self, queue: str, now: float, member: str | None = None) -> QueueSnapshot:
        cfg = self.config(queue)
        position = self.position(member) if member else None
        return read_snapshot(self.conn, cfg, self.agents.all(), now, position, self.recent)

    def snapshots(self, now: float | None = None) -> list[dict[str, object]]:
        import time

        at = time.time() if now is None else now
        return [self.snapshot(q, at).as_dict() for q in sorted(self.queues)]

    # ------------------------------------------------------------------ routing
    def route(self, queue: str, now: float) -> RouteResult:
        """One routing pass: apply overflow, then match the head of this line, and of every
        other line the available agents also serve, with those agents
        (domain/routing.match_across) and reserve each pair atomically (reserve.lua). The
        agents for the queue's own skills are read with the line: three round trips in all
        when one caller meets one agent."""
        cfg = self.config(queue)
        result = RouteResult()
        read = self.lines.head(queue, now, self.head, self._skills_of(cfg))
        line = self._overflow(cfg, read.callers, now, result)
        lines = [routing.QueueLine(queue, tuple(line), cfg.relax)]
        agents = self._reachable(self._available(lines, read.agents, read.skills), now) \
            if line else []
        if agents:
            lines += self._competing_lines(queue, agents, now)
            agents = self._reachable(self._available(lines, agents, read.skills), now)
        for owner, caller, agent in routing.match_across(lines, agents, now):
            res = self._reserve(owner, caller, agent, now)
            if res is not None:
                result.reservations.append(res)
        result.waiting = read.size - sum(1 for r in result.reservations if r.queue == queue)
        return result

    def _reachable(self, agents: list[Agent], now: float) -> list[Agent]:
        """Routing rule 0 (domain/routing.reachable): softphone agents whose device is
        unregistered or stale are not offered callers, and leave the available index (one
        extra round trip, only when there are such agents) so they hide nobody behind them."""
        ok, gone = routing.reachable(agents, now - self.device_stale_seconds)
        if gone:
            self.agents.drop_from_index(gone)
        return ok

    @staticmethod
    def _skills_of(cfg: QueueConfig) -> set[str]:
        """The skills a queue's callers need: its own and any its overflow widens to."""
        return {cfg.skill, *(cfg.overflow.skills if cfg.overflow else ())}

    def _available(self, lines: list[routing.QueueLine], known: list[Agent],
                   fetched: frozenset[str]) -> list[Agent]:
        """The available agents (up to `head` per skill) for every skill the lines need;
        skills in `fetched` were read already (their agents are in `known`)."""
        skills = {s for ln in lines for w in ln.callers for s in w.skills} - fetched
        if not skills:
            return known
        have = {a.id for a in known}
        ids = [a for a in self.agents.available_ids(skills, self.head) if a not in have]
        return known + self.agents.many(ids) if ids else known

    def _competing_lines(self, queue: str, agents: list[Agent],
                         now: float) -> list[routing.QueueLine]:
        """The heads of the other queues these agents serve (their skill, or a skill their
        overflow widens to): an agent goes to whoever should go first among all of them
        (issue 12 item 11), whichever queue's pass runs first. Overflow is left to each
        queue's own pass."""
        skills = {s for a in agents for s, level in a.skills.items() if level > 0}
        out = []
        for other in sorted(self.queues):
            cfg = self.queues[other]
            if other != queue and self._skills_of(cfg) & skills:
                callers = self.lines.head(other, now, self.head).callers
                if callers:
                    out.append(routing.QueueLine(other, tuple(callers), cfg.relax))
        return out

    def _reserve(self, queue: str, caller: Waiting, agent: Agent,
                 now: float) -> Reservation | None:
        """reserve.lua: the caller and the agent both still free, or nothing."""
        token = uuid.uuid4().hex
        kind = "callback" if caller.is_callback else "call"
        ok = self.scripts.reserve(
            keys=[keys.queue_waiting(queue), keys.queue_joined(queue),
                  keys.queue_entry(caller.member), keys.agent(agent.id),
                  keys.reservation(token), keys.reservation_leases(),
                  *[keys.agents_available(s) for s in sorted(agent.skills)]],
            args=[caller.member, agent.id, token, to_ms(now),
                  to_ms(now + self.lease_seconds), queue, kind,
                  to_ms(now - self.device_stale_seconds)])
        return Reservation(token, caller.member, agent, queue, kind) if ok == 1 else None

    def _overflow(self, cfg: QueueConfig, line: list[Waiting], now: float,
                  result: RouteResult) -> list[Waiting]:
        rule = cfg.overflow
        kept = []
        for caller in line:
            if rule is None or not routing.overflow_due(rule, caller, now):
                kept.append(caller)
            elif rule.action == "widen":
                widened = tuple(dict.fromkeys([*caller.skills, *rule.skills]))
                self.conn.hset(keys.queue_entry(caller.member), "skills", ",".join(widened))
                kept.append(Waiting(caller.member, widened, caller.priority, caller.vstart,
                                    caller.joined_at, caller.not_before))
                result.overflowed.append((caller.member, "widen", None))
            elif rule.action == "queue" and rule.target:
                if self.move(caller.member, cfg.name, rule.target):
                    result.overflowed.append((caller.member, "queue", rule.target))
            else:
                state, _, _ = self._leave(cfg.name, caller.member, now, "overflowed", False)
                if state == "waiting":
                    result.overflowed.append((caller.member, "voicemail", None))
        return kept

    def move(self, member: str, source: str, target: str) -> bool:
        """Move a waiting caller to another queue, keeping priority and virtual start."""
        self.config(target)
        entry = keys.queue_entry(member)
        with self.conn.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(entry)
                if text(pipe.hget(entry, "state")) != "waiting":
                    return False
                sc, joined = pipe.zscore(keys.queue_waiting(source), member), pipe.hget(
                    entry, "joined_at")
                if sc is None:
                    return False
                pipe.multi()
                pipe.zrem(keys.queue_waiting(source), member)
                pipe.zrem(keys.queue_joined(source), member)
                pipe.zadd(keys.queue_waiting(target), {member: sc})
                pipe.zadd(keys.queue_joined(target), {member: int(text(joined))})
                pipe.hset(entry, "queue", target)
                pipe.execute()
            except redis.WatchError:
                return False
        self.trigger.queue_changed(target, "overflow")
        return True

    # ------------------------------------------------------------------ agents
    def agent_presence(self, agent_id: str, state: str, now: float) -> str:
        """Set presence by hand; routing is asked to run when the agent becomes available.
        Leaving wrap-up by hand ends it early (the `wrap_up` event is filed), and is refused
        while the queue's required disposition is missing."""
        wrap = self.wrap_up(agent_id)
        if wrap is not None and state != Presence.WRAP_UP:
            if wrap.disposition_required:
                raise Conflict("this queue needs a disposition for the call before wrap-up "
                               "ends: file it first")
            self.end_wrap_up(agent_id, now, "early")
        old = self.agents.set_presence(agent_id, state, now)
        if state == Presence.AVAILABLE:
            self.agent_ready(agent_id)
        return Presence.WRAP_UP.value if wrap is not None else old

    def agent_ready(self, agent_id: str) -> None:
        skills = set(self.agents.get(agent_id).skills)
        for cfg in self.queues.values():
            if cfg.skill in skills or (cfg.overflow and set(cfg.overflow.skills) & skills):
                self.trigger.queue_changed(cfg.name, "agent")
