"""Report definitions on hand-made facts (pure); the end-to-end check against raw events is
tests/store/test_reports_day.py."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.domain.reports import (
    ALL,
    Bucket,
    CallbackFact,
    CallFact,
    Facts,
    ReportSettings,
    VisitFact,
    compute_report,
    day_buckets,
)

DAY = Bucket("d", 0.0, 86_400.0)
SETTINGS = ReportSettings(short_abandon_s=5, targets={"sales": 30})


def call(sid: str, at: float, caller: str | None = "+14155550100", queue: str | None = "sales",
         answered: bool = True, **kw: object) -> CallFact:
    return CallFact(sid, caller, at, queue, answered, kw.get("contained"),  # type: ignore[arg-type]
                    kw.get("score"), kw.get("resolved"))  # type: ignore[arg-type]


def test_hour_buckets_follow_the_business_timezone_and_daylight_saving() -> None:
    assert len(day_buckets(date(2026, 12, 1), "hour", "America/Los_Angeles")) == 24
    assert len(day_buckets(date(2026, 3, 8), "hour", "America/Los_Angeles")) == 23
    assert len(day_buckets(date(2026, 11, 1), "hour", "America/Los_Angeles")) == 25
    first = day_buckets(date(2026, 12, 1), "hour", "America/Los_Angeles")[0]
    assert first.label == "2026-12-01T00:00-08:00"
    (day,) = day_buckets(date(2026, 12, 1), "day", "UTC")
    assert day.end - day.start == 86_400
    with pytest.raises(ValueError, match="hour"):
        day_buckets(date(2026, 12, 1), "week", "UTC")


def test_short_abandons_are_left_out_and_service_level_counts_abandons() -> None:
    visits = [VisitFact("sales", 10, True, 25.0, 100.0, "bridged"),    # in the 30 s target
              VisitFact("sales", 20, True, 40.0, 200.0, "bridged"),    # late
              VisitFact("sales", 30, False, 60.0, None, "hangup"),     # abandoned
              VisitFact("sales", 40, False, 2.0, None, "hangup"),      # short: not counted
              VisitFact("sales", 50, False, 10.0, None, "callback")]   # offered, not in SL
    (row, total) = compute_report(Facts(visits, [], []), [DAY], SETTINGS, now=1e9)
    assert (row.queue, total.queue) == ("sales", ALL)
    assert (row.offered, row.answered, row.abandoned, row.short_abandoned) == (4, 2, 1, 1)
    assert row.service_level == round(1 / 3, 3)
    assert (row.asa, row.aht, row.service_level_target) == (32.5, 150.0, 30)


def test_first_contact_resolution_needs_no_repeat_and_no_not_solved() -> None:
    calls = [call("A", 100, score=5, resolved="yes"),
             call("B", 200, caller="+14155550111", resolved="no"),           # said not solved
             call("C", 300, caller="+14155550122"),                          # calls again:
             call("C2", 300 + 3600, caller="+14155550122", answered=False),  # not resolved
             call("D", 400, caller="+14155550133", queue=None, answered=False, contained=True),
             call("E", 500, caller="+14155550144", answered=False)]          # not handled
    rows = compute_report(Facts([], calls, []), [DAY], SETTINGS, now=1e9)
    total = rows[-1]
    assert (total.fcr_eligible, total.fcr_resolved) == (4, 2)  # A and D
    assert total.fcr_final is True
    assert (total.containment, total.self_service_attempted) == (1.0, 1)
    assert compute_report(Facts([], calls, []), [DAY], SETTINGS, now=1000)[-1].fcr_final is False


def test_callbacks_kept_among_those_that_finished() -> None:
    callbacks = [CallbackFact("sales", 10, s) for s in
                 ("completed", "completed", "gave_up", "pending", "cancelled")]
    row = compute_report(Facts([], [], callbacks), [DAY], SETTINGS, now=1e9, queue="sales")[0]
    assert (row.callbacks_promised, row.callbacks_kept, row.callbacks_failed,
            row.callbacks_pending) == (4, 2, 1, 1)
    assert row.callbacks_kept_rate == round(2 / 3, 3)
