"""A transcription that fails never drops the voicemail: the recording stays on the call's
record (sid, link, duration; no transcript) and its follow-up task is opened without text."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Queue, SimpleWorker

from ivr.store import models as m
from ivr.store.jobs import TRANSCRIPTION_QUEUE
from queue_worker import transcription
from queue_worker.outcomes import drain_events
from queue_worker.record_hooks import record_hooks
from tests.e2e.conftest import Live
from tests.privacy.conftest import leave_voicemail, outcome_db, stream_events


class Broken:
    name = "broken-engine"

    def transcribe(self, audio: bytes, language: str):
        raise RuntimeError("speech engine segfaulted")


def test_failed_transcriptions_keep_the_voicemail_and_open_its_task(
        live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(transcription, "current_transcriber", lambda: Broken())
    lost = leave_voicemail(live, caller="+14155550111", words="my order never came")
    crash = leave_voicemail(live, caller="+14155550122", words="please call me")
    (lost_rec,) = [d["recording"] for k, d in stream_events(live.redis, lost.call_sid)
                   if k == "voicemail_recorded"]
    assert live.standin.delete_recording(lost_rec)          # Twilio lost it: 404 on fetch
    SimpleWorker([Queue(TRANSCRIPTION_QUEUE, connection=live.redis)],
                 connection=live.redis).work(burst=True)
    failures = {sid: [d["code"] for k, d in stream_events(live.redis, sid)
                      if k == "transcript_failed"] for sid in (lost.call_sid, crash.call_sid)}
    assert failures == {lost.call_sid: ["recording_not_found"], crash.call_sid: ["internal"]}

    engine, factory = outcome_db(tmp_path)
    result = drain_events(live.redis, factory,
                          hooks=record_hooks(live.app.config["IVR"], live.redis, factory))
    assert (result.failed, result.rejected) == (0, 0)
    with factory() as session:
        for leg in (lost, crash):
            call = session.get(m.CallRow, leg.call_sid)
            (vm,) = call.voicemails
            assert vm.recording_sid.startswith("RE")
            assert vm.url
            assert vm.duration_s is not None
            assert vm.transcript is None
            assert call.outcome == "voicemail"
            (task,) = [t for t in session.query(m.FollowupTaskRow).filter_by(
                call_sid=leg.call_sid) if t.rule == "voicemail"]
            assert (task.recording_sid, task.transcript, task.transcript_status) == (
                vm.recording_sid, None, "failed")
    engine.dispose()
