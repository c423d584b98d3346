"""Asking the workers for work: the RQ queue names, and jobs queued by their import path.

Whatever queues a job (the queue engine's routing trigger, the SMS survey offered when a call
ends, voicemail transcription) does it through this module and names the job function by its
import path ("queue_worker.routing.route_queue") instead of importing it. RQ stores that
path either way, so a job queued by name is the same job; and the product's lower layers
never import the workers, which import them (issue 13: one-way layers).
`tests/worker/test_job_names.py` checks that every name resolves to the function.
Must not import Flask, the workers or anything above the store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

# Queue names, shared by the producers here and the worker that listens (queue_worker/worker.py).
ROUTING_QUEUE = "ivr-routing"
TRANSCRIPTION_QUEUE = "ivr-transcription"
FOLLOWUP_QUEUE = "ivr-followup"
MESSAGING_QUEUE = "ivr-messaging"
RETENTION_QUEUE = "ivr-maintenance"
# Every RQ queue the product uses, most urgent first: an RQ worker takes jobs in this order.
WORKER_QUEUES: tuple[str, ...] = (ROUTING_QUEUE, FOLLOWUP_QUEUE, MESSAGING_QUEUE,
                                  TRANSCRIPTION_QUEUE, RETENTION_QUEUE)

# Job functions queued from below the workers, by import path.
ROUTE_QUEUE = "queue_worker.routing.route_queue"
END_WRAP_UP = "queue_worker.routing.end_wrap_up"
TRANSCRIBE_VOICEMAIL = "queue_worker.transcription.transcribe_voicemail"
SEND_SMS_SURVEY = "queue_worker.sms_survey.send_sms_survey"
# The agent floor's REST calls caused by webhooks (queue_worker/floor.py; a webhook never
# waits on Twilio, docs/agent-floor.md).
FLOOR_RING_AGENT = "queue_worker.floor.ring_agent"
FLOOR_END = "queue_worker.floor.end_conference"
FLOOR_REDIRECT = "queue_worker.floor.redirect_caller"
FLOOR_DROP = "queue_worker.floor.drop_leg"
# agent_first callbacks: the agent waits in the room while the customer is rung
FLOOR_RING_CUSTOMER = "queue_worker.callbacks.ring_customer"
JOB_NAMES: tuple[str, ...] = (ROUTE_QUEUE, END_WRAP_UP, TRANSCRIBE_VOICEMAIL, SEND_SMS_SURVEY,
                              FLOOR_RING_AGENT, FLOOR_END, FLOOR_REDIRECT, FLOOR_DROP,
                              FLOOR_RING_CUSTOMER)
FLOOR_RETRY = Retry(max=3, interval=[1, 3, 10])

TRANSCRIBE_RETRY = Retry(max=3, interval=[30, 120, 600])  # network trouble: back off

# Agent-call recordings (ivr/phone/floor_recording.py): the agent joined, a job asks Twilio to
# record their leg (a webhook never waits on Twilio); soon, or the call is over.
START_CALL_RECORDING = "queue_worker.call_recording.start_call_recording"
JOB_NAMES += (START_CALL_RECORDING,)
RECORDING_RETRY = Retry(max=2, interval=[1, 3])


def enqueue_once(rq: Queue, job_id: str, func: Any, *args: Any, at: datetime | None = None,
                 retry: Retry | None = None) -> Job | None:
    """Enqueue (or schedule at `at`) unless a job with this id is really waiting to run.

    "Really": the job's own record can say queued or scheduled while the queue or the
    scheduled registry no longer holds it (Redis restarted between the two writes, or a
    worker died holding it). Trusting the record alone would skip this routing pass forever
    and strand the callers it was for, so the queue itself is checked."""
    try:
        existing = Job.fetch(job_id, connection=rq.connection)
        if _really_pending(rq, existing):
            return None
    except Exception:  # noqa: BLE001 - NoSuchJobError or an unreadable old record: replace it
        pass
    if at is not None:
        return rq.enqueue_at(whole_second_after(at), func, *args, job_id=job_id, retry=retry)
    return rq.enqueue(func, *args, job_id=job_id, retry=retry)


def whole_second_after(at: datetime) -> datetime:
    """`at`, or the next whole second when it has a fraction. RQ scores a scheduled job in
    whole seconds, cut down (`calendar.timegm`), so a job for 12:00:00.9 could run at
    12:00:00.0: a timer that checks its time first (a wrap-up's end, wrap_end.lua) then did
    nothing, and the agent sat in wrap-up until the worker's next tick swept it."""
    whole = at.replace(microsecond=0)
    return whole if whole == at else whole + timedelta(seconds=1)


def _really_pending(rq: Queue, job: Job) -> bool:
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return rq.get_job_position(job.id) is not None
    if status == JobStatus.SCHEDULED:
        return job.id in ScheduledJobRegistry(queue=rq)
    return False


class RqTrigger:
    """The RoutingTrigger port on RQ: asks for routing passes as jobs."""

    def __init__(self, rq: Queue) -> None:
        self.rq = rq

    def queue_changed(self, queue: str, reason: str) -> None:
        enqueue_once(self.rq, f"route-{queue}-{reason}", ROUTE_QUEUE, queue, reason)

    def queue_due(self, queue: str, at: float) -> None:
        enqueue_once(self.rq, f"route-{queue}-at-{int(at)}", ROUTE_QUEUE, queue, "due",
                     at=datetime.fromtimestamp(at, UTC))

    def agent_free_at(self, agent_id: str, at: float) -> None:
        enqueue_once(self.rq, f"wrap-{agent_id}-{int(at * 1000)}", END_WRAP_UP, agent_id,
                     at=datetime.fromtimestamp(at, UTC))


def enqueue_transcription(rq: Queue, call_sid: str, recording_sid: str, language: str,
                          *, mailbox: str, failure_ttl: int | None,
                          source: str = "voicemail") -> Job:
    """Queue the job once per recording (job id `transcribe-<sid>`), with retry and backoff;
    a job that fails for good is kept `failure_ttl` seconds (None: RQ's default, a year).
    `source` `agent_call`: a recorded agent call, whose transcript is not a voicemail's."""
    extra = {"source": source} if source != "voicemail" else {}
    return rq.enqueue(TRANSCRIBE_VOICEMAIL, call_sid, recording_sid, language,
                      mailbox=mailbox, job_id=f"transcribe-{recording_sid}",
                      retry=TRANSCRIBE_RETRY, job_timeout=600, failure_ttl=failure_ttl,
                      **extra)


def enqueue_sms_survey(rq: Queue, call_sid: str, number: str, survey: dict[str, Any]) -> Job:
    """One survey text per call (job id `sms-survey-<CallSid>`)."""
    return rq.enqueue(SEND_SMS_SURVEY, call_sid, number, survey,
                      job_id=f"sms-survey-{call_sid}", result_ttl=3_600)


class FloorJobs:
    """The floor's REST calls as routing-queue jobs, once each (job ids name the call)."""

    def __init__(self, rq: Queue) -> None:
        self.rq = rq

    def ring_agent(self, call: str, agent_id: str, token: str) -> None:
        enqueue_once(self.rq, f"floor-ring-{token}", FLOOR_RING_AGENT, call, agent_id, token,
                     retry=FLOOR_RETRY)

    def ring_customer(self, member: str, agent_id: str, token: str) -> None:
        """agent_first callbacks: ring the customer for the agent waiting in the room."""
        enqueue_once(self.rq, f"callback-ring-{token}", FLOOR_RING_CUSTOMER, member, agent_id,
                     token, retry=FLOOR_RETRY)

    def end_conference(self, call: str) -> None:
        # a callback's floor is `cb:<id>`; RQ's job ids take letters, digits, _ and - only
        enqueue_once(self.rq, f"floor-end-{call.replace(':', '_')}", FLOOR_END, call,
                     retry=FLOOR_RETRY)

    def redirect_caller(self, call: str, url: str, why: str) -> None:
        enqueue_once(self.rq, f"floor-redirect-{call}-{why}", FLOOR_REDIRECT, call, url,
                     retry=FLOOR_RETRY)

    def drop_leg(self, leg: str) -> None:
        enqueue_once(self.rq, f"floor-drop-{leg}", FLOOR_DROP, leg, retry=FLOOR_RETRY)
