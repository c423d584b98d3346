"""The agent floor's part of a call's record (issue 14, docs/agent-floor.md): holds,
transfers, parties added, monitoring, recordings, missed rings, after-call work, and the work
each agent did on the call. Its dataclasses are in ivr/domain/outcome_record.py; its
appliers below are listed in the fold's one dispatch table (ivr/domain/outcome.py, `APPLY`),
and `finish_floor` derives the figures once every event is in.

Definitions (docs/reports.md says them for readers):
- an agent's talk_s: their time in the conference (`agent_left` `talk`: joined to left)
  minus the time the caller was on hold meanwhile (the `hold_ended` intervals, whoever
  held; on a call with no `hold_ended` at all, the `hold` `agent_left` reports); for an
  agent with no `agent_left` (a call bridged without a conference), the talk of the queue
  visit they answered (answer to the next queue or the end).
- an agent's hold_s: the sum of `hold_ended` `seconds` of the holds they started; on a call
  with no `hold_ended` at all, the `hold` their `agent_left` reports (a hold still on when
  they left). holds: `hold_started` events (or `hold_ended` ones when a start is missing).
- an agent's after_call_s: the sum of their `wrap_up` `seconds`.
- handled: the agent answered a queue visit or talked on the call (talk > 0).
- transferred: a transfer whose last result for its (agent, target, mode) is `completed`, or
  a cold transfer `started` and never reported `failed`/`cancelled`/`caller_hung_up`.
Pure: no I/O, times are epoch seconds from the events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.domain.outcome_record import (
    AgentRecording,
    AgentWork,
    CallerHungUp,
    CallRecord,
    MissedRing,
    Monitoring,
    PartyAdded,
    Transfer,
    found_or_added,
    optional_float,
)


def work_of(r: CallRecord, agent: str, at: float) -> AgentWork:
    return found_or_added(r.floor.work, lambda w: w.agent == agent,
                          lambda: AgentWork(agent=agent, first_at=at))


def agent_left(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    w = work_of(r, d["agent"], at)
    talk = optional_float(d.get("talk"))
    if talk is not None:
        w.left_talk = (w.left_talk or 0.0) + talk
        w.legs.append((at - talk, at))
    w.left_hold += optional_float(d.get("hold")) or 0.0


def hold_started(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    work_of(r, d["agent"], at).started_holds += 1


def hold_ended(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    w = work_of(r, d["agent"], at)
    w.ended_holds += 1
    w.ended_hold_s += float(d["seconds"])
    r.floor.holds.append((at - float(d["seconds"]), at))


def wrap_up(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    w = work_of(r, d["agent"], at)
    w.after_call_s = (w.after_call_s or 0.0) + float(d["seconds"])


def transfer(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    work_of(r, d["agent"], at)
    r.floor.transfers.append(Transfer(d["agent"], d["to_type"], str(d["to"]), d["mode"],
                                      d["result"], at))


def party_added(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.floor.parties_added.append(PartyAdded(d["agent"], d["to_type"], str(d["to"]), at))


def monitor(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.floor.monitoring.append(Monitoring(d["supervisor"], d["mode"], d.get("agent"), at))


def recording(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    sid = d["recording"]
    rec = found_or_added(r.floor.recordings, lambda x: x.recording_sid == sid,
                         lambda: AgentRecording(sid, d["action"], at))
    rec.status = d["action"]
    rec.pauses += d["action"] == "paused"
    if d.get("duration") is not None:
        rec.duration_s = float(d["duration"])
    if d.get("channels") is not None:
        rec.channels = int(d["channels"])


def agent_missed(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.floor.missed_rings.append(MissedRing(d["agent"], d["result"], at))


def caller_hung_up(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.floor.caller_hung_up = CallerHungUp(d.get("agent") or None, at)


UNFINISHED = ("failed", "cancelled", "caller_hung_up")


def transfer_done(transfers: list[Transfer]) -> list[Transfer]:
    """The transfers that moved the caller (see the module docstring)."""
    last: dict[tuple[str, str, str, str], Transfer] = {}
    for t in transfers:
        last[(t.agent, t.to_type, t.to, t.mode)] = t
    return [t for t in last.values()
            if t.result == "completed" or (t.mode == "cold" and t.result == "started")]


def _overlap(legs: list[tuple[float, float]], holds: list[tuple[float, float]]) -> float:
    """Seconds of `holds` that fall inside `legs` (an agent's time in the conference)."""
    return sum(max(0.0, min(b, d) - max(a, c)) for a, b in legs for c, d in holds)


def finish_floor(r: CallRecord) -> None:
    """Per-agent figures, the call's totals, and each answered visit's share (after
    outcome._close_visits has set the visits' talk)."""
    f = r.floor
    done = transfer_done(f.transfers)
    for visit in r.queue_visits:  # agents who answered a visit, in the work list too
        if visit.agent and visit.answered_at is not None:
            w = work_of(r, visit.agent, visit.answered_at)
            w.queue, w.answered_at, w.handled = visit.queue, visit.answered_at, True
    f.work.sort(key=lambda w: w.first_at if w.answered_at is None else
                min(w.first_at, w.answered_at))
    for w in f.work:
        w.holds = max(w.started_holds, w.ended_holds)
        w.hold_s = w.ended_hold_s if f.holds else w.left_hold
        w.transfers = sum(1 for t in done if t.agent == w.agent)
        if w.left_talk is not None:
            held = _overlap(w.legs, f.holds) if f.holds else w.left_hold
            w.talk_s = round(max(0.0, w.left_talk - held), 3)
        else:
            talks = [v.talk_s for v in r.queue_visits
                     if v.agent == w.agent and v.talk_s is not None]
            w.talk_s = sum(talks) if talks else None
        w.handled = w.handled or bool(w.left_talk)
        w.queue = w.queue or r.queue
    f.hold_count = sum(w.holds for w in f.work)
    f.hold_s = sum(w.hold_s for w in f.work) if f.work else None
    acw = [w.after_call_s for w in f.work if w.after_call_s is not None]
    f.after_call_s = sum(acw) if acw else None
    f.transferred = bool(done)
    if any(w.left_talk is not None for w in f.work):
        r.talk_s = sum(w.talk_s or 0.0 for w in f.work)
    by_agent = {w.agent: w for w in f.work}
    for visit in r.queue_visits:
        mine = by_agent.get(visit.agent or "")
        if mine is None or visit.answered_at is None:
            continue
        last = [v for v in r.queue_visits if v.agent == mine.agent and v.answered_at is not None]
        if last[-1] is not visit:
            continue  # an agent's work counts once, on the last visit they answered
        if mine.left_talk is not None:
            visit.talk_s = mine.talk_s
        visit.hold_s, visit.hold_count = mine.hold_s, mine.holds
        visit.after_call_s, visit.transferred = mine.after_call_s, mine.transfers > 0
