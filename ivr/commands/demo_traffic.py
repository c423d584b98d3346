"""`ivr demo-traffic`: simulated callers and agents for the demo, so the wallboard moves.

Callers arrive as a Poisson process (`--rate` per minute) and are placed through the Twilio
stand-in's simulator API (`POST /sim/calls`), so every webhook is signed and served by the real
app exactly as Twilio would. Each picks a realistic errand (see SCENARIOS): self-service that
solves it, a wrong order number, a queue for support or sales with a survey after the agent, a
callback request, a hang-up while holding, an outage check on the utility line.

Agents are the ones in queues.yaml: they go available at start, and now and then one takes a
short break. An agent a person is playing is left alone: a `client:` agent whose device is
registered on the stand-in in manual mode (the agent console's demo phone registers it so,
dashboards/standin_phone.py) keeps the presence that person clicks, and calls ring their
console rather than being answered by the stand-in. The stand-in answers the simulated
agents' phones and talks for its configured time; wrap-up ends by the routing worker's timer.
Presence goes through the queue engine (not the HTTP API), so it works whatever sign-in the
pages require. Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import click

from ivr.commands._devkit import require_devkit


def place_call(standin: str, to: str, from_: str, script: str) -> str:
    body = json.dumps({"from": from_, "to": to, "script": script}).encode()
    request = urllib.request.Request(f"{standin}/sim/calls", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.load(resp)["sid"])


def manual_device(standin: str) -> Callable[[Any], bool]:
    """`played(agent)`: is `agent` a `client:` agent whose device a person registered on the
    stand-in (manual mode: the console's demo phone)? An unreachable stand-in: no."""

    def played(agent: Any) -> bool:
        address = str(getattr(agent, "address", "") or "")
        if not address.startswith("client:"):
            return False
        identity = urllib.parse.quote(address[len("client:"):].partition("?")[0], safe="")
        try:
            with urllib.request.urlopen(f"{standin}/sim/clients/{identity}", timeout=5) as resp:
                state = json.load(resp)
        except (OSError, ValueError):
            return False
        return bool(state.get("registered")) and state.get("mode") == "manual"

    return played


class Agents:
    """The demo's agents: available at start, an occasional short break. Agents `played`
    says a person has (their console's demo phone) are left to that person."""

    def __init__(self, engine: Any, rng: random.Random,
                 played: Callable[[Any], bool] = lambda agent: False) -> None:
        self.engine = engine
        self.rng = rng
        self.played = played
        self.on_break: dict[str, float] = {}

    def simulated(self) -> list[Any]:
        """The agents nobody is signed in as (looked up again each tick)."""
        return [a for a in self.engine.agents.all() if not self.played(a)]

    def start(self) -> None:
        for agent in self.simulated():  # one still ringing from a last run stays so
            self.engine.agents.device(agent.id, "registered", time.time())
            self._set(agent.id, "available", time.time())

    def tick(self) -> None:
        now = time.time()
        crew = self.simulated()
        for agent in crew:
            # the simulated softphones stay registered, as an open console's poll keeps them
            # (routing offers a client: agent calls only while the device is fresh)
            self.engine.agents.device(agent.id, "registered", now)
        ids = {a.id for a in crew}
        for agent_id, until in list(self.on_break.items()):
            if now >= until:
                if agent_id in ids:
                    self._set(agent_id, "available", now)
                del self.on_break[agent_id]
        if self.rng.random() < 0.05 and not self.on_break:
            idle = [a.id for a in crew if a.presence.value == "available"]
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

    from ivr.app.services import connect_redis
    from ivr.config.queues import build_queue_service
    from ivr.config.settings import from_env
    from ivr.store.jobs import ROUTING_QUEUE, RqTrigger

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
    require_devkit()
    # The callers' errands are developer tooling (devkit/), left out of a production image.
    from devkit.loadgen.scenarios import SCENARIOS, caller_number, fill

    rng = random.Random(seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    crew = Agents(build_engine(), rng, manual_device(standin.rstrip("/"))) if agents else None
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
