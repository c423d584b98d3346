"""`ivr demo`'s simulated agents on the agent floor (issue 14): now and then they put the
caller on hold and resume, or transfer the call (warm: consult a free colleague while the
caller holds, then complete; cold: to a free colleague or to another queue), so the wallboard,
the call records and the reports show holds and transfers as a working floor's would.

They act through the console's own moves (`FloorMoves.for_console`, what
`POST /agent/call/<action>` runs): the rules of ivr/domain/floor.py decide, the REST calls go
to the Twilio stand-in, which plays the conference (hold audio from `/voice/floor/hold`, the
colleague's leg ringing and joining) and sends its signed callbacks, and the outcome events
are filed on the way. Only the clicking is simulated. The stand-in still answers their rings
and hangs up after its talk time; a move planned for a call that has ended meanwhile is
refused by the rules and dropped.

Each call gets one roll of the dice (`plan_call`), by the first simulated agent seen on it:
the colleague a call is transferred to, or the agent who takes it from the queue it was
transferred to, does not move it again. The rates are named settings (IVR_DEMO_HOLD_RATE,
IVR_DEMO_HOLD_SECONDS, IVR_DEMO_TRANSFER_RATE, IVR_DEMO_WARM_SHARE, IVR_DEMO_QUEUE_SHARE) and
the moves run on at most IVR_DEMO_FLOOR_THREADS threads; a call answered while all of them
are busy gets no move. Developer tooling: imported by `ivr demo-traffic` only.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.domain.floor import Refused
from ivr.phone.floor_moves import FloorFailed, FloorMoves

log = logging.getLogger(__name__)
REMEMBERED_CALLS = 2000  # calls already rolled for, newest kept (the demo runs for hours)
POLL = 0.25  # seconds between looks at the floor while a consulted colleague's phone rings


@dataclass(frozen=True)
class FloorHabits:
    """How often the simulated agents hold and transfer, and how long things take (seconds).
    The rates and the thread budget come from the settings; the pacing fits a call inside
    the stand-in's 30 s of talk."""

    hold_rate: float = 0.25
    hold_seconds: float = 6.0
    transfer_rate: float = 0.12
    warm_share: float = 0.5
    queue_share: float = 0.4
    threads: int = 4
    first_move: tuple[float, float] = (2.0, 5.0)  # after the agent joined the conference
    consult_talk: tuple[float, float] = (2.0, 4.0)  # with the colleague before completing
    answer_patience: float = 30.0  # a consulted colleague not in by then: cancel

    @classmethod
    def from_config(cls, config: Any) -> FloorHabits:
        return cls(hold_rate=config.demo_hold_rate, hold_seconds=config.demo_hold_seconds,
                   transfer_rate=config.demo_transfer_rate, warm_share=config.demo_warm_share,
                   queue_share=config.demo_queue_share, threads=config.demo_floor_threads)


@dataclass(frozen=True)
class CallPlan:
    start: float  # seconds after answering before the first move
    hold: float | None = None  # seconds on hold; None: no hold
    transfer: str | None = None  # warm, agent (cold), queue (cold) or None

    @property
    def idle(self) -> bool:
        return self.hold is None and self.transfer is None


def plan_call(habits: FloorHabits, rng: random.Random) -> CallPlan:
    """One answered call's moves: maybe a hold, maybe a transfer after it."""
    hold = habits.hold_seconds * rng.uniform(0.5, 1.5) if rng.random() < habits.hold_rate \
        else None
    transfer = None
    if rng.random() < habits.transfer_rate:
        if rng.random() < habits.warm_share:
            transfer = "warm"
        else:
            transfer = "queue" if rng.random() < habits.queue_share else "agent"
    return CallPlan(rng.uniform(*habits.first_move), hold, transfer)


class FloorCrew:
    """Rolls for each call a simulated agent answers (`tick`) and plays the moves on a
    bounded pool. `stop` ends every plan at its next pause (a hold is still resumed)."""

    def __init__(self, moves: FloorMoves, habits: FloorHabits, rng: random.Random,
                 stop: threading.Event, clock: Callable[[], datetime],
                 say: Callable[[str], None] = log.info) -> None:
        self.moves, self.habits, self.rng, self.stop = moves, habits, rng, stop
        self.clock, self.say = clock, say
        self.engine = moves.legs.service
        self.pool = ThreadPoolExecutor(habits.threads, thread_name_prefix="demo-floor")
        self.slots = threading.BoundedSemaphore(habits.threads)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.crew: frozenset[str] = frozenset()
        self.done: Counter[str] = Counter()
        self._lock = threading.Lock()

    def tick(self, crew: Iterable[Any]) -> int:
        """`crew`: the simulated agents (demo_traffic.Agents.simulated). Starts the plans of
        the calls they answered since the last tick; returns how many started."""
        agents = list(crew)
        self.crew = frozenset(a.id for a in agents)
        started = 0
        for agent in agents:
            call = self._answered(agent) if agent.presence.value == "on_call" else None
            if call is None or call in self.seen:
                continue
            self._remember(call)
            plan = plan_call(self.habits, self.rng)
            if plan.idle or not self.slots.acquire(blocking=False):
                continue
            self.pool.submit(self._run, agent.id, call, plan, random.Random(self.rng.random()))
            started += 1
        return started

    def close(self) -> None:
        self.stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def summary(self) -> str:
        with self._lock:
            d = self.done
            return (f"{d['hold']} holds, {d['consult/complete']} warm and "
                    f"{d['transfer:agent'] + d['transfer:queue']} cold transfers "
                    f"({d['transfer:queue']} to a queue)")

    def _answered(self, agent: Any) -> str | None:
        """The caller's CallSid when `agent` has the call (role `agent`) and both are in the
        conference room (before that the rules refuse moves: the call is `connecting`)."""
        call = self.engine.agents.detail(agent.id).get("member") or ""
        floor = self.moves.legs.floor.load(call) if call else None
        leg = floor.mine(agent.id) if floor is not None else None
        if floor is None or leg is None or leg.role != "agent":
            return None
        return call if floor.state() not in ("ringing", "connecting", "ended") else None

    def _remember(self, call: str) -> None:
        self.seen[call] = None
        while len(self.seen) > REMEMBERED_CALLS:
            self.seen.popitem(last=False)

    def _run(self, agent: str, call: str, plan: CallPlan, rng: random.Random) -> None:
        try:
            if not self._pause(plan.start):
                return
            if plan.hold is not None and self._act(agent, call, "hold"):
                self.say(f"{agent} holds {call} for {plan.hold:.0f} s")
                self._pause(plan.hold)
                self._act(agent, call, "resume")  # even when stopping: nobody left on hold
            if plan.transfer is not None and self._pause(1.0):
                self._transfer(agent, call, plan.transfer, rng)
        except Exception:
            log.exception("call %s: %s's simulated moves failed", call, agent)
            raise
        finally:
            self.slots.release()

    def _transfer(self, agent: str, call: str, kind: str, rng: random.Random) -> None:
        colleague = self._free_colleague(agent, rng) if kind != "queue" else None
        if colleague is None:  # nobody free: the caller goes to another queue instead
            queue = self._other_queue(call, rng)
            if queue and self._act(agent, call, "transfer", to_type="queue", to=queue):
                self.say(f"{agent} transfers {call} to the {queue} queue")
        elif kind == "agent":
            if self._act(agent, call, "transfer", to_type="agent", to=colleague):
                self.say(f"{agent} transfers {call} to {colleague} (cold)")
        elif self._act(agent, call, "consult", to_type="agent", to=colleague):
            self.say(f"{agent} consults {colleague} about {call}")
            if self._colleague_in(call, colleague) and self._pause(
                    rng.uniform(*self.habits.consult_talk)) and self._act(
                    agent, call, "consult/complete"):
                self.say(f"{agent} hands {call} to {colleague} (warm)")
                return
            self._act(agent, call, "consult/cancel")
            self._act(agent, call, "resume")  # a consult whose ring failed leaves a hold

    def _act(self, agent: str, call: str, action: str, **body: str) -> bool:
        """One console move; False when the rules refuse it now or Twilio failed."""
        kind = f"{action}:{body['to_type']}" if action == "transfer" else action
        try:
            self.moves.act(call, agent, action, {"call": call, **body}, self.clock())
        except Refused as exc:
            log.info("call %s: %s's %s not possible now: %s", call, agent, action, exc)
            return False
        except FloorFailed as exc:
            self.say(f"{agent}'s {action} on {call} failed: {exc}")
            return False
        with self._lock:
            self.done[kind] += 1
        return True

    def _pause(self, seconds: float) -> bool:
        """Wait `seconds`; False when the crew is stopping."""
        return not self.stop.wait(seconds)

    def _free_colleague(self, agent: str, rng: random.Random) -> str | None:
        free = sorted(a.id for a in self.engine.agents.all() if a.id != agent
                      and a.id in self.crew and a.presence.value == "available")
        return rng.choice(free) if free else None

    def _other_queue(self, call: str, rng: random.Random) -> str | None:
        floor = self.moves.legs.floor.load(call)
        others = sorted(q for q in self.engine.queues if floor is None or q != floor.queue)
        return rng.choice(others) if others else None

    def _colleague_in(self, call: str, colleague: str) -> bool:
        """Wait for the consulted colleague's leg to be in the room (consult/complete waits
        for that); False when it left (a ring nobody took), the patience ran out or the crew
        is stopping."""
        waited = 0.0
        while waited < self.habits.answer_patience:
            floor = self.moves.legs.floor.load(call)
            legs = [p for p in floor.legs if p.role == "consult" and p.who == colleague] \
                if floor is not None else []
            if any(p.status == "joined" and p.in_room for p in legs):
                return True
            if floor is None or floor.caller_gone or (legs and all(p.status == "left"
                                                                  for p in legs)):
                return False
            if not self._pause(POLL):
                return False
            waited += POLL
        return False
