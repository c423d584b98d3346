"""The job that starts a recorded agent call's recording (ivr/phone/floor_recording.py).

`start_call_recording(call, agent_leg)` is queued by name (`ivr.store.jobs.START_CALL_RECORDING`)
when the agent of a recording queue joins: the webhook that saw them join answers at once, and
this job asks Twilio (`Calls/{leg}/Recordings.json`, dual channel, status callbacks to
`/voice/floor/recording?call=`). The REST client's errors propagate, so RQ retries it a few
times (`RECORDING_RETRY`); a leg that has ended meanwhile ends it quietly, and Twilio still
refusing on the last try marks it `failed` (FloorRecording.begin).
"""

from __future__ import annotations

from rq import get_current_job

from ivr.phone.floor_recording import FloorRecording
from queue_worker.context import current_context_for


def start_call_recording(call: str, agent_leg: str) -> str:
    """Run in an RQ worker; returns the recording's RE sid (RQ keeps it as the result)."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("start_call_recording runs inside an RQ job")
    ctx = current_context_for(job.connection)
    recorder = FloorRecording(job.connection, ctx.config, settings_of=lambda q: None,
                              queue_of=lambda c: None)
    # the last try marks a recording Twilio would not start as failed (not "on" for ever)
    return recorder.begin(call, agent_leg, ctx.control, last_try=not job.retries_left)
