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
pages require. On their calls the simulated agents now and then hold the caller and
transfer the call, through the console's floor moves (ivr/commands/demo_floor.py; rates:
IVR_DEMO_*). Stops cleanly on SIGINT/SIGTERM.
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
from typing import TYPE_CHECKING, Any

import click

from ivr.commands._devkit import require_devkit

if TYPE_CHECKING:
    from ivr.commands.demo_floor import FloorCrew


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

    def tick(self) -> list[Any]:
        """Keep devices fresh, end breaks, now and then start one; returns the simulated
        agents as looked up this tick (the floor crew acts for them)."""
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
        return crew

    def _set(self, agent_id: str, presence: str, now: float) -> bool:
        """Set presence as an agent would click it. Routing may have rung the agent since we
        looked (Conflict): then the click does nothing, as on the agent page."""
        from ivr.domain.errors import Conflict

        try:
            self.engine.agent_presence(agent_id, presence, now)
        except Conflict:
            return False
        return True


def build_floor(rng: random.Random, stop: threading.Event,
                floor: bool = True) -> tuple[Any, FloorCrew | None]:
    """The queue engine and the simulated agents' floor crew, on the services a web process
    builds (the crew's moves are the console's: FloorMoves.for_console); no crew when
    `floor` is off or without queue routing."""
    from ivr.app.services import build_services
    from ivr.commands.demo_floor import FloorCrew, FloorHabits
    from ivr.config.settings import from_env
    from ivr.phone.floor_moves import FloorMoves

    config = from_env()
    svc = build_services(config, role="demo")
    if svc.floor_legs is None or not floor:
        return svc.queue_engine, None
    moves = FloorMoves.for_console(svc.floor_legs, config)
    return svc.queue_engine, FloorCrew(moves, FloorHabits.from_config(config), rng, stop,
                                       svc.clock, say=click.echo)


@click.command("demo-traffic")
@click.option("--standin", envvar="TWILIO_API_BASE", default="http://127.0.0.1:8081",
              show_default=True, help="Twilio stand-in base URL.")
@click.option("--rate", default=6.0, show_default=True, help="Callers per minute (mean).")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until stopped).")
@click.option("--max-calls", default=0, help="Stop after this many callers (0: no limit).")
@click.option("--seed", default=None, type=int, help="Random seed, for a repeatable demo.")
@click.option("--agents/--no-agents", default=True, help="Drive the agents' presence.")
@click.option("--floor/--no-floor", default=True,
              help="The simulated agents hold and transfer some calls (IVR_DEMO_* rates).")
def command(standin: str, rate: float, duration: float, max_calls: int, seed: int | None,
            agents: bool, floor: bool) -> None:
    """Simulated callers (through the Twilio stand-in) and agents for the demo."""
    require_devkit()
    rng = random.Random(seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    crew, floor_crew = None, None
    if agents:
        engine, floor_crew = build_floor(rng, stop, floor)
        crew = Agents(engine, rng, manual_device(standin.rstrip("/")))
        crew.start()
    try:
        placed = play_callers(standin, rate, (duration, max_calls), rng, stop,
                              (crew, floor_crew))
    finally:
        if floor_crew is not None:
            floor_crew.close()
    click.echo(f"demo traffic stopped after {placed} callers" + (
        f"; the agents made {floor_crew.summary()}" if floor_crew is not None else ""))


def play_callers(standin: str, rate: float, limits: tuple[float, int], rng: random.Random,
                 stop: threading.Event, crews: tuple[Agents | None, FloorCrew | None]) -> int:
    """Place callers (a Poisson process of `rate` per minute) until stopped or a limit
    (seconds, callers; 0: none) is reached, ticking the agents; returns how many."""
    # The callers' errands are developer tooling (devkit/), left out of a production image.
    from devkit.loadgen.scenarios import SCENARIOS, caller_number, fill

    duration, max_calls = limits
    crew, floor_crew = crews
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
            simulated = crew.tick()
            if floor_crew is not None:
                floor_crew.tick(simulated)
        stop.wait(0.5)
    return placed
