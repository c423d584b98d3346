"""The retention job as the worker runs it: queued once per day, run by an RQ worker, deleting
the recording at Twilio (the stand-in, through the real twilio client) and on the record."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from rq import Queue, SimpleWorker

from ivr.commands.db import command as db_command
from ivr.store import models as m
from ivr.store.jobs import RETENTION_QUEUE
from queue_worker.outcomes import drain_events
from queue_worker.retention import run_retention, schedule_daily
from tests.e2e.conftest import Live
from tests.pg_schemas import same_database
from tests.privacy.conftest import leave_voicemail, outcome_db
from tests.signin import add_users, signed_in


def test_dry_run_then_the_daily_job_deletes_the_recording_at_twilio_and_on_the_record(live: Live,
                                                                    tmp_path: Path):
    leg = leave_voicemail(live)
    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory)
    with factory() as session:
        (vm,) = session.get(m.CallRow, leg.call_sid).voicemails
    wav = f"{live.standin.config.api_base}/sim/recordings/{vm.recording_sid}.wav"
    add_users(tmp_path, sue="supervisor")
    sue = signed_in(live.app, "sue")
    assert sue.get(f"/recordings/{vm.recording_sid}").status_code == 200

    env = {"IVR_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": same_database(),
           "IVR_RETENTION_DAYS": "1",
           "IVR_RECORDING_RETENTION_DAYS": "1", "TWILIO_API_BASE": live.standin.config.api_base}
    result = CliRunner().invoke(db_command, ["retention", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "(1 days personal data, 1 days recordings)" in result.output
    assert "would delete 0 recording(s)" in result.output             # all younger than a day
    later = live.app.config["IVR"].with_overrides({"retention_days": "1",
                                                   "recording_retention_days": "1"})
    dry = run_retention(dry_run=True, config=later, now=time.time() + 3 * 86_400)
    assert (dry["recordings_deleted"], dry["calls_redacted"]) == (1, 1)
    assert live.standin.deleted == []                                 # a dry run deletes nothing

    today = datetime.now(UTC)
    job = schedule_daily(live.redis, today)
    assert job is not None
    assert schedule_daily(live.redis, today) is None                  # once a day, all workers
    config = live.app.config["IVR"].with_overrides({"recording_retention_days": "1",
                                                    "retention_days": "0"})
    job.args = (False, config, time.time() + 2 * 86_400)              # two days later
    job.save()
    SimpleWorker([Queue(RETENTION_QUEUE, connection=live.redis)], connection=live.redis).work(
        burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.latest_result().exc_string
    assert job.return_value()["recordings_deleted"] == 1
    assert vm.recording_sid in live.standin.deleted
    import requests

    assert requests.get(wav, timeout=5).status_code == 404             # gone at Twilio
    with factory() as session:
        (after,) = session.get(m.CallRow, leg.call_sid).voicemails
        assert (after.recording_sid, after.url, after.duration_s) == (
            vm.recording_sid, None, vm.duration_s)
        assert session.get(m.CallRow, leg.call_sid).caller == "+14155550123"   # kept: 0 = forever
    assert sue.get(f"/recordings/{vm.recording_sid}").status_code == 410
    engine.dispose()
