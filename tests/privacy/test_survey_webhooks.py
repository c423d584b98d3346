"""The voice survey through signed webhooks: out-of-range keys and unrecognised speech are asked
again once, then recorded as no answer (answer "" and no score) on the call's record."""

from __future__ import annotations

from flask import Flask

from ivr.store import models as m
from ivr.store.db import make_engine, make_session_factory, upgrade_database
from queue_worker.outcomes import drain_events
from tests.privacy.conftest import SURVEY_LINE, stream_events
from tests.web.test_demo_flows import heard, walk


def survey_rows(app: Flask, tmp_path, call_sid: str) -> list[tuple[str, str, int | None]]:
    url = f"sqlite:///{tmp_path}/survey.sqlite3"
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    drain_events(app.extensions["ivr"].redis, factory)
    with factory() as session:
        call = session.get(m.CallRow, call_sid)
        assert call is not None
        rows = [(a.question, a.answer, a.score) for a in call.survey_answers]
    engine.dispose()
    return rows


def test_out_of_range_and_unrecognised_answers_are_re_asked_then_no_answer(
        survey_app: Flask, redis, tmp_path):
    leg = walk(survey_app, SURVEY_LINE,
               'press 7; press 9; say "purple"; say "banana bread"')
    words = heard(leg)
    assert words.count("On a scale of 1 to 5") == 2          # asked, re-asked, then moved on
    assert words.count("Was your problem solved") == 2
    answers = [d for k, d in stream_events(redis, leg.call_sid) if k == "survey_answer"]
    assert answers == [{"question": "satisfaction", "answer": ""},
                       {"question": "resolved", "answer": ""}]
    assert sorted(survey_rows(survey_app, tmp_path, leg.call_sid)) == [
        ("resolved", "", None), ("satisfaction", "", None)]


def test_a_valid_answer_after_the_re_ask_is_kept(survey_app: Flask, redis, tmp_path):
    leg = walk(survey_app, SURVEY_LINE, 'press 7; press 4; say "no"')
    assert sorted(survey_rows(survey_app, tmp_path, leg.call_sid)) == [
        ("resolved", "no", None), ("satisfaction", "4", 4)]


def test_silence_is_asked_again_then_no_answer(survey_app: Flask, redis, tmp_path):
    leg = walk(survey_app, SURVEY_LINE, "wait 7; wait 7; press 1")
    assert heard(leg).count("On a scale of 1 to 5") == 2
    assert sorted(survey_rows(survey_app, tmp_path, leg.call_sid)) == [
        ("resolved", "yes", None), ("satisfaction", "", None)]
