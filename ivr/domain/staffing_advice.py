"""The live staffing advisor's arithmetic: from a queue's arrivals per 15 minutes (today so far
and the same weekday of recent weeks), its mean handle time and its callers' patience, what the
agents working now give, how many the target needs, what a few more or fewer would change and
what the next hour needs. The queueing model is ivr/domain/staffing.py (Erlang A, Erlang C when
nobody has hung up yet); this module only forecasts the arrival rate and assembles the advice.

Why this forecast: a call centre's day has a shape (a morning peak, a lunch dip) that repeats
from one Monday to the next, while its level moves from week to week (a campaign, a storm).
So the shape comes from the same weekday of recent weeks and the level from today: today's
arrivals over the last hour divided by what the shape expected over the same hour, shrunk
towards 1 by PRIOR_ARRIVALS so that three early callers do not triple the forecast. Without any
history the last hour's own rate is the forecast, for now and for the next hour.

Pure: no I/O, no clock (the slots and the seconds into the current slot are arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.domain.staffing import Demand, Prediction, agents_needed, predict

SLOT = 900.0  # seconds: arrivals are counted per 15 minutes
SLOTS_PER_DAY = 96
LEVEL_WINDOW = 4  # slots (an hour) of today that set today's level against the pattern
PRIOR_ARRIVALS = 8.0  # calls' worth of belief that today runs at the pattern's level
MIN_EXPOSURE = 60.0  # seconds: the first minute of the day does not make a rate on its own
CHANGES = (-3, -2, -1, 1, 2, 3)  # agents more or fewer shown beside the agents working now


@dataclass(frozen=True)
class Arrivals:
    """Calls that joined a queue per 15-minute slot of the business day (local wall clock).

    `today`: slots 0..current, the last one still running for `elapsed` seconds. `past`: the
    same weekday of recent weeks, SLOTS_PER_DAY counts each (weeks without data may be left
    out: an empty `past` means no pattern)."""

    today: tuple[int, ...]
    past: tuple[tuple[int, ...], ...] = ()
    elapsed: float = 0.0


@dataclass(frozen=True)
class Forecast:
    """Calls per second now and, on average, over the next hour; `level`: today against the
    pattern (1.0 = as usual; None without a pattern)."""

    now: float
    next_hour: float
    level: float | None


def _recent(arrivals: Arrivals) -> tuple[int, float, range]:
    """Today's calls over the last LEVEL_WINDOW slots, the seconds they cover, the slots.

    The window starts no earlier than today's first call: a line that opened (or a system
    that started) ten minutes ago has had ten minutes of callers, not an hour's worth diluted
    by fifty empty minutes. After a quiet spell later in the day the full hour counts."""
    current = len(arrivals.today) - 1
    first = next((s for s, n in enumerate(arrivals.today) if n), current)
    slots = range(max(0, current - LEVEL_WINDOW + 1, first), current + 1)
    seconds = SLOT * (len(slots) - 1) + min(max(arrivals.elapsed, 0.0), SLOT)
    return sum(arrivals.today[s] for s in slots), max(seconds, MIN_EXPOSURE), slots


def forecast_arrivals(arrivals: Arrivals) -> Forecast:
    """The arrival rate now and over the next hour (see the module docstring)."""
    if not arrivals.today:
        raise ValueError("arrivals.today needs the current slot")
    calls, seconds, slots = _recent(arrivals)
    recent_rate = calls / seconds
    if not arrivals.past:
        return Forecast(recent_rate, recent_rate, None)
    weeks = len(arrivals.past)
    pattern = [sum(day[s] for day in arrivals.past) / weeks for s in range(SLOTS_PER_DAY)]
    current = slots[-1]
    expected = sum(pattern[s] for s in slots[:-1])
    expected += pattern[current] * max(seconds - SLOT * (len(slots) - 1), 0.0) / SLOT
    level = (calls + PRIOR_ARRIVALS) / (expected + PRIOR_ARRIVALS)
    now = level * pattern[current] / SLOT if pattern[current] > 0 else recent_rate
    ahead = [pattern[s] for s in range(current + 1, current + 1 + LEVEL_WINDOW)
             if s < SLOTS_PER_DAY]
    next_hour = level * sum(ahead) / (SLOT * len(ahead)) if sum(ahead) > 0 else now
    return Forecast(now, next_hour, level)


@dataclass(frozen=True)
class Advice:
    """What the advisor says for one queue. Rates in calls per hour, times in seconds.

    `current`: the figures with the agents working now (None when nobody works: no queue
    model has zero servers). `options`: the figures with a few agents more or fewer (CHANGES,
    at least one agent). `needed` and `next_hour`: the fewest agents reaching the target now
    and with the next hour's forecast (None when more than the model's limit)."""

    queue: str
    agents: int
    calls_per_hour: float
    next_hour_calls_per_hour: float
    aht: float
    patience: float | None
    target: float
    answer_within: float
    current: Prediction | None
    needed: Prediction | None
    next_hour: Prediction | None
    options: tuple[Prediction, ...]
    sentence: str


def _needed(demand: Demand) -> Prediction | None:
    try:
        return agents_needed(demand)
    except ValueError:  # beyond the model's agent limit: say so rather than fail the board
        return None


def advise(queue: str, agents: int, forecast: Forecast, aht: float, patience: float | None,
           target: float, answer_within: float) -> Advice:
    """The advice for `queue` with `agents` working (signed in and not on a break)."""
    now = Demand(forecast.now, aht, patience, target, answer_within)
    later = Demand(forecast.next_hour, aht, patience, target, answer_within)
    needed = _needed(now)
    options = tuple(predict(now, agents + d) for d in CHANGES if agents + d >= 1)
    return Advice(queue=queue, agents=agents, calls_per_hour=forecast.now * 3600,
                  next_hour_calls_per_hour=forecast.next_hour * 3600, aht=aht,
                  patience=patience, target=target, answer_within=answer_within,
                  current=predict(now, agents) if agents >= 1 else None, needed=needed,
                  next_hour=_needed(later), options=options,
                  sentence=advice_sentence(queue, agents, needed, target, answer_within))


def _agents(n: int) -> str:
    return f"{n} agent" if n == 1 else f"{n} agents"


def advice_sentence(queue: str, agents: int, needed: Prediction | None, target: float,
                    answer_within: float) -> str:
    """One line for a supervisor: "you need 2 more agents on support to reach 80 % in 20 s"."""
    goal = f"{target * 100:.0f} % in {answer_within:g} s"
    if needed is None:
        return f"{queue} cannot reach {goal} with any staffing the model covers"
    if needed.agents > agents:
        more = needed.agents - agents
        word = "more agent" if more == 1 else "more agents"
        return f"you need {more} {word} on {queue} to reach {goal}"
    if needed.agents == agents:
        return f"{queue} has the {_agents(agents)} it needs to reach {goal}"
    return f"{queue} reaches {goal} with {_agents(agents - needed.agents)} fewer"


def as_dict(advice: Advice) -> dict[str, object]:
    """The advice as JSON-ready data (/api/staffing, the wallboard, `ivr staffing --json`)."""
    def fig(p: Prediction | None) -> dict[str, float | int | None] | None:
        return p.as_dict() if p is not None else None

    return {"queue": advice.queue, "agents": advice.agents,
            "calls_per_hour": round(advice.calls_per_hour, 1),
            "next_hour_calls_per_hour": round(advice.next_hour_calls_per_hour, 1),
            "aht": round(advice.aht, 1),
            "patience": None if advice.patience is None else round(advice.patience, 1),
            "target": advice.target, "answer_within": advice.answer_within,
            "current": fig(advice.current),
            "agents_needed": advice.needed.agents if advice.needed else None,
            "needed": fig(advice.needed),
            "next_hour_agents_needed": advice.next_hour.agents if advice.next_hour else None,
            "next_hour": fig(advice.next_hour),
            "options": [p.as_dict() for p in advice.options], "sentence": advice.sentence}


def slots_of(counts: Sequence[int]) -> tuple[int, ...]:
    """A day's counts padded or cut to SLOTS_PER_DAY (a day with a clock change has more or
    fewer quarter hours; slots are by wall clock, so the extra hour folds into its slot)."""
    return tuple(list(counts[:SLOTS_PER_DAY]) + [0] * (SLOTS_PER_DAY - len(counts)))
