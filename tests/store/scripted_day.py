"""A scripted business day of calls as raw outcome events, for the report tests.

Tuesday 2026-11-24 in America/Los_Angeles (UTC-8), three queues, several hours, and the edge
cases: answered inside and outside the target, an abandon and a short abandon, self-service
solved and failed, a callback kept and one given up, a voicemail, an overflow from one queue
to another, a menu hang-up, repeat callers (one calling back in a different number format),
a "not resolved" survey answer, calls just inside and just outside the local day, and a
repeat call the next day that is still inside the 24-hour window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis as redis_lib

from ivr.store.events import publish_event

TZ = ZoneInfo("America/Los_Angeles")
DAY = "2026-11-24"
Event = tuple[str, dict[str, Any], float]


def local(hour: int, minute: int, day: int = 24) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).timestamp()


def answered(queue: str, at: float, wait: float, talk: float, agent: str = "alice",
             ) -> list[Event]:
    return [("queue_joined", {"queue": queue}, at),
            ("agent_answered", {"queue": queue, "agent": agent}, at + wait),
            ("queue_left", {"queue": queue, "result": "bridged", "wait": wait}, at + wait),
            ("call_ended", {"duration": wait + talk + 30}, at + wait + talk)]


def left(queue: str, at: float, wait: float, result: str) -> list[Event]:
    return [("queue_joined", {"queue": queue}, at),
            ("queue_left", {"queue": queue, "result": result, "wait": wait}, at + wait)]


def survey(at: float, score: int | None, resolved: str | None = None) -> list[Event]:
    out: list[Event] = []
    if score is not None:
        out.append(("survey_answer", {"question": "satisfaction", "answer": str(score),
                                      "score": score}, at))
    if resolved is not None:
        out.append(("survey_answer", {"question": "resolved", "answer": resolved}, at + 1))
    return out


def self_service(at: float, solved: bool) -> list[Event]:
    return [("self_service", {"node": "say_balance", "task": "account_balance",
                              "solved": solved}, at)]


def callback(queue: str, at: float, cb: str, number: str, results: list[str],
             done: str) -> list[Event]:
    out: list[Event] = [("queue_joined", {"queue": queue}, at),
                        ("callback_requested", {"callback": cb, "queue": queue,
                                                "number": number}, at + 60),
                        ("queue_left", {"queue": queue, "result": "callback", "wait": 60.0},
                         at + 60),
                        ("call_ended", {"duration": 90.0}, at + 90)]
    for i, result in enumerate(results, start=1):
        out.append(("callback_attempt", {"callback": cb, "attempt": i, "result": result},
                    at + 600 * i))
    out.append(("callback_done", {"callback": cb, "result": done}, at + 600 * len(results) + 5))
    return out


A, B, C, D, E = "+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"
F, G, H, II, J = "+14155550106", "+14155550107", "+14155550108", "+14155550109", "+14155550110"


def calls() -> list[tuple[str, str, float, list[Event]]]:
    """(call_sid, caller as Twilio sent it, started_at, events after call_started)."""
    t = local
    return [
        ("CA01", A, t(9, 5), answered("support", t(9, 5) + 20, 12, 180)
         + survey(t(9, 9), 5, "yes")),
        ("CA02", B, t(9, 10), answered("support", t(9, 10) + 20, 35, 240, "dan")
         + survey(t(9, 16), 2, "no")),
        ("CA03", C, t(9, 20), left("support", t(9, 20) + 20, 45, "hangup")
         + [("call_ended", {}, t(9, 21) + 10)]),
        ("CA04", D, t(9, 30), left("support", t(9, 30) + 20, 3, "hangup")),  # ended by fold
        ("CA05", E, t(9, 40), self_service(t(9, 41), True) + [("call_ended", {}, t(9, 42))]),
        ("CA06", F, t(9, 50), self_service(t(9, 51), False)
         + answered("sales", t(9, 52), 10, 300, "carol") + survey(t(9, 58), 4)),
        ("CA07", G, t(10, 5), callback("sales", t(10, 5) + 30, "cb7", G, ["answered"],
                                       "completed")),
        ("CA08", H, t(10, 15), callback("sales", t(10, 15) + 30, "cb8", H,
                                        ["no-answer", "busy"], "gave_up")),
        ("CA09", II, t(10, 20), left("billing", t(10, 20) + 20, 50, "voicemail")
         + [("voicemail_recorded", {"recording": "RE9", "url": "https://r/9",
                                    "queue": "billing"}, t(10, 21) + 20),
            ("call_ended", {}, t(10, 23))]),
        ("CA10", C, t(10, 30), answered("support", t(10, 30) + 20, 5, 120) + survey(t(10, 34), 3)),
        ("CA11", "4155550101", t(14, 0), answered("billing", t(14, 0) + 20, 15, 200, "carol")
         + survey(t(14, 5), 5, "yes")),
        ("CA12", E, t(14, 30), self_service(t(14, 31), True) + [("call_ended", {}, t(14, 32))]),
        ("CA13", J, t(14, 45), left("support", t(14, 45) + 20, 40, "overflow")
         + answered("billing", t(14, 46), 10, 150, "alice") + survey(t(14, 50), 1)),
        ("CA14", A, t(23, 50), answered("support", t(23, 50) + 10, 8, 60)),  # 07:50 UTC next day
        ("CA15", B, t(23, 30, day=23), answered("support", t(23, 30, day=23) + 10, 5, 60)),
        ("CA16", F, t(11, 0), [("node_visited", {"node": "main_menu"}, t(11, 0) + 2),
                               ("call_ended", {}, t(11, 1))]),
        # The next day, 23 h 15 min after CA13: inside the repeat window, outside the day.
        ("CA17", J, t(14, 0, day=25), [("call_ended", {}, t(14, 1, day=25))]),
    ]


def publish_day(conn: redis_lib.Redis) -> list[tuple[str, str, float, list[Event]]]:
    """Publish every call's events to the real stream; returns the script."""
    script = calls()
    for sid, caller, started, events in script:
        publish_event(conn, "call_started", sid, {"caller": caller, "dialed": "+14155550100",
                                                  "flow": "shop"}, started)
        for kind, data, at in events:
            publish_event(conn, kind, sid, data, at)
    return script
