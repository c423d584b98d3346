"""A scripted day through the real event stream and the real writer (SQLite and PostgreSQL),
reported by `day_report`, and compared with figures this test works out on its own from the
raw events (its own small calculation below, not the report code)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ivr.domain.reports import ReportSettings
from ivr.store.reports import day_report
from queue_worker.outcomes import drain_events
from tests.store import scripted_day

SETTINGS = ReportSettings(timezone="America/Los_Angeles", short_abandon_s=5,
                          targets={"support": 20, "sales": 30, "billing": 20})
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _number(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return "+1" + digits if len(digits) == 10 else "+" + digits


def _visits(events: list[scripted_day.Event]) -> list[dict[str, Any]]:
    visits: list[dict[str, Any]] = []
    for kind, data, at in sorted(events, key=lambda e: e[2]):
        if kind == "queue_joined":
            visits.append({"queue": data["queue"], "at": at, "answered": False, "wait": None,
                           "result": None, "answered_at": None})
        elif kind == "agent_answered":
            visits[-1].update(answered=True, answered_at=at)
        elif kind == "queue_left":
            visits[-1].update(result=data["result"], wait=data["wait"])
    ended = [at for kind, _, at in events if kind == "call_ended"]
    for i, v in enumerate(visits):
        if v["answered"]:
            until = visits[i + 1]["at"] if i + 1 < len(visits) else ended[0]
            v["talk"] = until - v["answered_at"]
    return visits


def _summary(sid: str, caller: str, started: float,
             events: list[scripted_day.Event]) -> dict[str, Any]:
    visits = _visits(events)
    kinds = [k for k, _, _ in events]
    tried = [d["solved"] for k, d, _ in events if k == "self_service"]
    survey = {d["question"]: d for k, d, _ in events if k == "survey_answer"}
    return {"sid": sid, "caller": _number(caller), "at": started, "visits": visits,
            "queue": visits[-1]["queue"] if visits else None,
            "answered": any(v["answered"] for v in visits),
            "contained": None if not tried else any(tried) and not visits and not (
                {"callback_requested", "voicemail_recorded"} & set(kinds)),
            "score": survey.get("satisfaction", {}).get("score"),
            "resolved": survey.get("resolved", {}).get("answer"),
            "callbacks": [(d["queue"], at) for k, d, at in events if k == "callback_requested"],
            "done": {d["callback"]: d["result"] for k, d, _ in events if k == "callback_done"}}


def _bucket(at: float, by: str) -> str:
    local = datetime.fromtimestamp(at, scripted_day.TZ)
    if by == "day":
        return local.date().isoformat()
    return local.replace(minute=0, second=0).isoformat(timespec="minutes")


def expected(by: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Figures per (bucket, queue) and (bucket, "*") from the raw script."""
    calls = [_summary(*c) for c in scripted_day.calls()]
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for c in calls:
        for v in c["visits"]:
            for key in ((_bucket(v["at"], by), v["queue"]), (_bucket(v["at"], by), "*")):
                rows[key]["visits"].append(v)
        for key in ((_bucket(c["at"], by), c["queue"]), (_bucket(c["at"], by), "*")):
            rows[key]["calls"].append(c)
        for queue, at in c["callbacks"]:
            for key in ((_bucket(at, by), queue), (_bucket(at, by), "*")):
                rows[key]["callbacks"].extend(c["done"].values())
    return {key: _figures(key[1], parts, calls) for key, parts in rows.items()
            if key[0].startswith(scripted_day.DAY) and key[1] is not None}


def _figures(queue: str, parts: dict[str, list[Any]],
             every_call: list[dict[str, Any]]) -> dict[str, Any]:
    visits = [v for v in parts["visits"] if not (
        v["result"] == "hangup" and not v["answered"] and v["wait"] < 5)]
    ans = [v for v in visits if v["answered"]]
    aband = [v for v in visits if v["result"] == "hangup" and not v["answered"]]
    target = SETTINGS.targets.get(queue, 20)
    in_target = [v for v in ans if v["wait"] <= (SETTINGS.targets[v["queue"]])]
    scores = [c["score"] for c in parts["calls"] if c["score"] is not None]
    handled = [c for c in parts["calls"] if c["answered"] or c["contained"]]
    resolved = [c for c in handled if c["resolved"] != "no" and not any(
        o["caller"] == c["caller"] and c["at"] < o["at"] <= c["at"] + 86400
        for o in every_call)]
    tried = [c for c in parts["calls"] if c["contained"] is not None]
    done = parts["callbacks"]

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    return {
        "offered": len(visits), "answered": len(ans), "abandoned": len(aband),
        "service_level": ratio(len(in_target), len(ans) + len(aband)),
        "service_level_target": None if queue == "*" else target,
        "asa": round(sum(v["wait"] for v in ans) / len(ans), 1) if ans else None,
        "aht": round(sum(v["talk"] for v in ans) / len(ans), 1) if ans else None,
        "calls": len(parts["calls"]),
        "containment": ratio(sum(1 for c in tried if c["contained"]), len(tried)),
        "satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
        "satisfied_share": ratio(sum(1 for s in scores if s >= 4), len(scores)),
        "fcr": ratio(len(resolved), len(handled)),
        "callbacks_promised": len(done), "callbacks_kept": done.count("completed"),
    }


@pytest.fixture
def written(redis, session_factory, db_engine):  # type: ignore[no-untyped-def]
    scripted_day.publish_day(redis)
    result = drain_events(redis, session_factory)
    assert (result.failed, result.rejected) == (0, 0)
    return db_engine


@pytest.mark.parametrize("by", ["hour", "day"])
def test_report_matches_figures_worked_out_from_the_raw_events(written, by: str) -> None:
    rows = day_report(written, date(2026, 11, 24), by, SETTINGS, NOW)
    want = expected(by)
    got = {(r.bucket, r.queue): r for r in rows}
    assert set(want) <= set(got)
    quiet = [got[k] for k in set(got) - set(want)]  # hours with no call: the ALL row only
    assert all(r.queue == "*" and not (r.offered or r.calls or r.callbacks_promised)
               for r in quiet)
    assert len({r.bucket for r in rows}) == (24 if by == "hour" else 1)
    for key, figures in want.items():
        shown = {name: getattr(got[key], name) for name in figures}
        assert shown == figures, key
    assert all(r.fcr_final for r in rows)


def test_the_day_in_numbers(written) -> None:
    """The same day, spelled out (what the report says for the business day)."""
    rows = {r.queue: r for r in day_report(written, date(2026, 11, 24), "day", SETTINGS, NOW)}
    support, sales, billing, total = rows["support"], rows["sales"], rows["billing"], rows["*"]
    assert (support.offered, support.answered, support.abandoned,
            support.short_abandoned) == (6, 4, 1, 1)
    assert (support.service_level, support.asa, support.aht) == (0.6, 15.0, 150.0)
    assert (sales.offered, sales.answered, sales.service_level) == (3, 1, 1.0)
    assert (sales.callbacks_promised, sales.callbacks_kept, sales.callbacks_kept_rate) == (
        2, 1, 0.5)
    assert (billing.offered, billing.answered, billing.asa, billing.aht) == (3, 2, 12.5, 175.0)
    assert (total.calls, total.containment) == (15, 0.667)  # the call of the day before: out
    assert (total.satisfaction, total.satisfied_share, total.surveys) == (3.33, 0.5, 6)
    assert (total.fcr_eligible, total.fcr_resolved, total.fcr) == (9, 3, 0.333)


def test_only_one_queue(written) -> None:
    rows = day_report(written, date(2026, 11, 24), "hour", SETTINGS, NOW, queue="sales")
    assert {r.queue for r in rows} == {"sales"}
    assert len(rows) == 24
    assert sum(r.offered for r in rows) == 3
