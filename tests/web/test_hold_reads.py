"""A hold answer's Redis reads: at 50,000 held callers round trips are what limits the line
(issue 12, docs/performance.md), so the call hash is read once per answer."""

from __future__ import annotations

from pathlib import Path

from ivr.phone.holding import HoldService
from ivr.store.call_state import CallStateStore
from tests.prompts.test_hold_music import hold_loop, shop_app


def test_a_hold_answer_reads_the_call_once(tmp_path: Path, redis_url: str, redis,
                                           monkeypatch) -> None:
    reads: list[int] = []
    inside: list[bool] = [False]
    real_wait, real_fields, real_field = HoldService.wait, CallStateStore.fields, \
        CallStateStore.field

    def wait(self, *args, **kwargs):
        reads.append(0)
        inside[0] = True
        try:
            return real_wait(self, *args, **kwargs)
        finally:
            inside[0] = False

    def fields(self, *args):
        if inside[0]:
            reads[-1] += 1
        return real_fields(self, *args)

    def field(self, *args):
        if inside[0]:
            reads[-1] += 1
        return real_field(self, *args)

    monkeypatch.setattr(HoldService, "wait", wait)
    monkeypatch.setattr(CallStateStore, "fields", fields)
    monkeypatch.setattr(CallStateStore, "field", field)
    events = hold_loop(shop_app(tmp_path, redis_url, tmp_path / "no-audio"))
    assert [e.kind for e in events].count("pause") >= 2  # two hold loops were answered
    assert len(reads) >= 2
    assert set(reads) == {1}, reads  # the visit and when the caller last heard the wait
