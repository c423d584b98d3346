"""`ivr demo-traffic`: simulated callers and agents for the demo, so the wallboard moves.

Callers arrive as a Poisson process (`--rate` per minute) and are placed through the Twilio
stand-in's simulator API (`POST /sim/calls`), so every webhook is signed and served by the real
app exactly as Twilio would. Each picks a realistic errand (see SCENARIOS): self-service that
solves it, a wrong order number, a queue for support or sales with a survey after the agent, a
callback request, a hang-up while holding, an outage check on the utility line.

Agents are the ones in queues.yaml: they go available at start, and now and then one takes a
short break. The stand-in answers their phones and talks for its configured time; wrap-up ends
by the routing worker's timer. Presence goes through the queue engine (not the HTTP API), so it
works whatever sign-in the pages require. Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import click

SHOP, UTILITY = "+14155550100", "+14155550199"
ORDERS = ("10000008", "10079192", "10158384", "10237576", "10316768", "12345674")  # last: unknown
ACCOUNTS = ("55000004", "55001317", "55002620")
POSTCODES = ("94107", "94110", "10001")


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float
    to: str
    script: str  # str.format fields: order, account, postcode, hold, score, solved


THEN_AGENT = "hold {hold}; press {score}; press {solved}"  # hold, then the survey's answers

SCENARIOS = (
    Scenario("order status", 4, SHOP, "press 1; press 1; press {order}#; press 1"),
    Scenario("balance", 2, SHOP, "press 1; press 2; press {account}#; press 1"),
    Scenario("opening hours", 1, SHOP, "press 1; press 3; press 1"),
    Scenario("order then agent", 2, SHOP,
             "press 1; press 1; press {order}#; press 2; " + THEN_AGENT),
    Scenario("support", 3, SHOP, "press 1; press 0; " + THEN_AGENT),
    Scenario("sales", 2, SHOP, "press 1; press 4; " + THEN_AGENT),
    Scenario("spanish support", 1, SHOP,
             "press 2; press 0; " + THEN_AGENT),
    Scenario("callback", 1.5, SHOP, "press 1; press 0; hold 1; press 1; press 1"),
    Scenario("gives up", 1.5, SHOP, "press 1; press 0; hold {short}; hangup"),
    Scenario("outage", 2, UTILITY, "press 1; press 1; press {postcode}#; press 1"),
    Scenario("billing", 1, UTILITY, "press 1; press 3; " + THEN_AGENT),
)


def fill(scenario: Scenario, rng: random.Random) -> str:
    return scenario.script.format(
        order=rng.choice(ORDERS), account=rng.choice(ACCOUNTS), postcode=rng.choice(POSTCODES),
        hold=rng.randint(6, 30), short=rng.randint(1, 3),
        score=rng.choices("12345", weights=(1, 1, 2, 4, 6))[0],
        solved=rng.choices("12", weights=(5, 1))[0])


def caller_number(rng: random.Random) -> str:
    """Mostly new callers; a few regulars call again (repeat-caller detection has work)."""
    if rng.random() < 0.2:
        return f"+1415555{rng.randint(100, 104):04d}"
    return f"+1415555{rng.randint(1000, 9999):04d}"


def place_call(standin: str, to: str, from_: str, script: str) -> str:
    body = json.dumps({"from": from_, "to": to, "script": script}).encode()
    request = urllib.request.Request(f"{standin}/sim/calls", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.load(resp)["sid"])


class Agents:
    """The demo's agents: available at start, an occasional short break."""

    def __init__(self, engine: Any, rng: random.Random) -> None:
        self.engine = engine
        self.rng = rng
        self.on_break: dict[str, float] = {}

    def start(self) -> None:
        for agent in self.engine.agents.all():  # one still ringing from a last run stays so
            self._set(agent.id, "available", time.time())

    def tick(self) -> None:
        now = time.time()
        for agent_id, until in list(self.on_break.items()):
            if now >= until:
                self._set(agent_id, "available", now)
                del self.on_break[agent_id]
        if self.rng.random() < 0.05 and not self.on_break:
            idle = [a.id for a in self.engine.agents.all() if a.presence.value == "available"]
            if len(idle) > 1:
                agent_id = self.rng.choice(idle)
                if self._set(agent_id, "break", now):
                    self.on_break[agent_id] = now + self.rng.uniform(45, 120)

    def _set(self, agent_id: str, presence: str, now: float) -> bool:
        """Set presence as an agent would click it. Routing may have rung the agent since we
        looked (Conflict): then the click does nothing, as on the agent page."""
        from ivr.domain.errors import Conflict

        try:
            self.engine.agent_presence(agent_id, presence, now)
        except Conflict:
            return False
        return True


def build_engine() -> Any:
    from rq import Queue

    from ivr.app.config import from_env
    from ivr.app.queues_config import build_queue_service
    from ivr.app.services import connect_redis
    from queue_worker.context import ROUTING_QUEUE
    from queue_worker.routing import RqTrigger

    config = from_env()
    conn, _ = connect_redis(config)
    return build_queue_service(config, conn, RqTrigger(Queue(ROUTING_QUEUE, connection=conn)))


@click.command("demo-traffic")
@click.option("--standin", envvar="TWILIO_API_BASE", default="http://127.0.0.1:8081",
              show_default=True, help="Twilio stand-in base URL.")
@click.option("--rate", default=6.0, show_default=True, help="Callers per minute (mean).")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until stopped).")
@click.option("--max-calls", default=0, help="Stop after this many callers (0: no limit).")
@click.option("--seed", default=None, type=int, help="Random seed, for a repeatable demo.")
@click.option("--agents/--no-agents", default=True, help="Drive the agents' presence.")
def command(standin: str, rate: float, duration: float, max_calls: int, seed: int | None,
            agents: bool) -> None:
    """Simulated callers (through the Twilio stand-in) and agents for the demo."""
    rng = random.Random(seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    crew = Agents(build_engine(), rng) if agents else None
    if crew:
        crew.start()
    started, placed = time.monotonic(), 0
    next_call = started
    while not stop.is_set():
        now = time.monotonic()
        if (duration and now - started >= duration) or (max_calls and placed >= max_calls):
            break
        if now >= next_call:
            scenario = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
            try:
                sid = place_call(standin, scenario.to, caller_number(rng), fill(scenario, rng))
                placed += 1
                click.echo(f"caller {placed}: {scenario.name} ({sid})")
            except OSError as exc:
                click.echo(f"stand-in not reachable ({exc}); retrying", err=True)
            next_call = now + rng.expovariate(rate / 60.0)
        if crew:
            crew.tick()
        stop.wait(0.5)
    click.echo(f"demo traffic stopped after {placed} callers")
