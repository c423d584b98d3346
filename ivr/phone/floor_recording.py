"""Recording agent calls (issue 14 item 4; docs/agent-floor.md): the caller's notice, the
dual-channel recording of the agent's leg, pause and resume from the console, and what the
recording status callback leaves behind.

`FloorRecording` is what the other floor parts call:
- `notice(queue, language)`: the sentence the caller hears before the bridge when the queue
  records (None when it does not); `speak_notice(r, ...)` puts it in a TwiML element, played
  from the prompt's audio when there is some.
- `start(call, agent_leg)`: the agent joined; when the caller's queue records, a job
  (`queue_worker/call_recording.py`, a webhook never waits on Twilio) starts the recording
  of the agent's leg through the REST API (`begin`). Dual channel: the agent on one channel,
  what the agent hears (the caller, the conference) on the other.
- `pause(call)` / `resume(call)`: the console's buttons, inline with the console's REST
  timeout (`Conflict` when nothing is recording or it is already so; `TwilioRefused` when
  Twilio said no). Twilio sends no callback for these, so the events are filed here.
- `status_callback(call, form, now)`: `/voice/floor/recording`, signed, under the caller's
  CallSid: files `recording` events (started, completed) and, when the queue says
  `transcribe: true`, queues the voicemail transcription job by recording SID.

A recording's URL is filed with the `completed` event, as a voicemail's is, and follows the
same rules: played only through `/recordings/<sid>` to the listening roles, fetched only from
the configured Twilio API (`ivr.outcomes.recording_media`), deleted by the retention job.
Where it stands now lives in `ivr/store/call_recordings.py`, and is shown in the floor state's
`recording` field (on, paused, off: the console's context.json). Must not import Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue

from ivr.config.queue_recording import announcement_prompt
from ivr.domain.errors import Conflict, IvrError
from ivr.domain.queueing import RecordingSettings
from ivr.phone.call_control import call_gone
from ivr.phone.twiml import SAY_VOICES, Urls
from ivr.store import events, jobs
from ivr.store.call_recordings import CallRecordingState, CallRecordingStore
from ivr.store.floor import FloorStore

log = logging.getLogger(__name__)
STATUS_PATH = "/voice/floor/recording"


class TwilioRefused(IvrError):
    """Twilio did not pause or resume the recording (or did not answer in time)."""


@dataclass
class FloorRecording:
    conn: redis.Redis
    config: Any  # ivr.config.settings.Config: public base URL, Twilio API, retention
    settings_of: Callable[[str], RecordingSettings | None]  # a queue's `recording:`
    queue_of: Callable[[str], str | None]  # the caller's queue now (the hand-off's visit)
    prompter: Any = None  # ivr.phone.queue_twiml.Prompter: the notice's text and audio
    control: Callable[[], Any] | None = None  # a TwilioCallControl for console moves
    # (call, recording sid, url): queue the transcription job (ivr/app/services.py checks the
    # URL's origin as for a voicemail, then queues it by SID)
    transcribe: Callable[[str, str, str], None] | None = None

    @property
    def store(self) -> CallRecordingStore:
        return CallRecordingStore(self.conn, int(self.config.call_state_ttl))

    # -- the caller's notice ----------------------------------------------------------------

    def notice(self, queue: str, language: str) -> str | None:
        """What the caller hears first when `queue` records its agent calls; None otherwise."""
        settings = self.settings_of(queue)
        if settings is None or not settings.on:
            return None
        said = announcement_prompt(settings)
        if self.prompter is not None and self.prompter.catalog.has(said, "en-US"):
            return str(self.prompter.text(said, language))
        return said

    def speak_notice(self, target: Any, queue: str, language: str) -> bool:
        """Add the notice to `target` (a TwiML element): the prompt's audio when built, else
        `<Say>`. False (nothing added) when the queue does not record."""
        text = self.notice(queue, language)
        if text is None:
            return False
        settings = self.settings_of(queue)
        said = announcement_prompt(settings) if settings is not None else ""
        if self.prompter is not None and self.prompter.catalog.has(said, "en-US"):
            self.prompter.speak(target, said, language)
        else:
            target.say(text, language=language, voice=SAY_VOICES.get(language))
        return True

    # -- starting ---------------------------------------------------------------------------

    def start(self, call: str, agent_leg: str) -> bool:
        """The agent's leg joined the caller: record it when the caller's queue records.
        Queues the job that asks Twilio; True when it did."""
        queue = self.queue_of(call) or ""
        settings = self.settings_of(queue) if queue else None
        if settings is None or not settings.on:
            return False
        self.store.begin(call, agent_leg, queue)
        jobs.enqueue_once(Queue(jobs.ROUTING_QUEUE, connection=self.conn),
                          f"record-{agent_leg}", jobs.START_CALL_RECORDING, call, agent_leg,
                          retry=jobs.RECORDING_RETRY)
        return True

    def begin(self, call: str, agent_leg: str, control: Any, last_try: bool = True) -> str:
        """The job's half: ask Twilio to record `agent_leg`; returns the RE sid, or "" when
        it was not started. The leg having ended meanwhile (Twilio 20404, 21220) ends the
        recording quietly. Twilio refusing otherwise (a 4xx: a retry cannot help), or still
        failing on the `last_try`, marks it `failed` (the console and the call record say
        so, rather than showing a recording that never started). Other errors (network,
        5xx) propagate while tries are left: the job is retried."""
        url = Urls(self.config.public_base_url).make(STATUS_PATH, call=call)
        try:
            sid = control.record_call(agent_leg, url)
        except Exception as exc:
            if call_gone(exc):  # retrying cannot help, and nothing is lost
                log.warning("call %s: agent leg %s ended before its recording: %s", call,
                            agent_leg, exc)
                self._end_unstarted(call, agent_leg, "completed")
                return ""
            status = getattr(exc, "status", None)
            refused = isinstance(status, int) and 400 <= status < 500 and status != 429
            if not refused and not last_try:
                raise  # network, 5xx: the job is retried
            log.warning("call %s: recording of agent leg %s failed to start: %s", call,
                        agent_leg, exc)
            if self._end_unstarted(call, agent_leg, "failed"):
                self._file(call, {"recording": agent_leg, "action": "failed"},
                           datetime.now(UTC), once=f"{agent_leg}:failed")
            return ""
        if self.store.settle(call, agent_leg, sid, "in-progress"):
            self._show(call)
        log.info("call %s: recording %s of agent leg %s started", call, sid, agent_leg)
        return str(sid)

    def _end_unstarted(self, call: str, agent_leg: str, status: str) -> bool:
        """The recording of `agent_leg` will not start: `status` when it is still the call's
        current one. True when changed."""
        current = self.store.load(call)
        if current is None or current.leg != agent_leg or not current.live:
            return False
        self.store.set_status(call, status)
        self._show(call)
        return True

    # -- the console's pause and resume ---------------------------------------------------

    def state(self, call: str) -> CallRecordingState | None:
        return self.store.load(call)

    def pause(self, call: str, now: datetime) -> CallRecordingState:
        return self._switch(call, "in-progress", "paused", "paused", now)

    def resume(self, call: str, now: datetime) -> CallRecordingState:
        return self._switch(call, "paused", "in-progress", "resumed", now)

    def _switch(self, call: str, before: str, after: str, action: str,
                now: datetime) -> CallRecordingState:
        current = self.store.load(call)
        if current is None or not current.live:
            raise Conflict(f"call {call} is not being recorded")
        if current.status != before:
            why = {"starting": "the recording has not started yet; try again in a moment",
                   "paused": "the recording is already paused",
                   "in-progress": "the recording is not paused"}
            raise Conflict(why.get(current.status, f"the recording is {current.status}"))
        if self.control is None:
            raise TwilioRefused("no Twilio client is configured for console moves")
        try:
            self.control().set_recording(current.leg, after)
        except Exception as exc:  # the REST client's errors and timeouts: told to the agent
            log.warning("call %s: recording %s not %s: %s", call, current.recording, action,
                        exc)
            raise TwilioRefused(f"Twilio did not {action.removesuffix('d')} the recording: "
                                f"{type(exc).__name__}") from exc
        self.store.set_status(call, after)
        self._show(call)
        self._file(call, {"recording": current.recording or current.leg, "action": action},
                   now)
        return self.store.load(call) or current

    # -- the status callback ----------------------------------------------------------------

    def status_callback(self, call: str, form: Mapping[str, str], now: datetime) -> None:
        """Twilio's recording status callback for the caller `call` (the form's CallSid is
        the agent's leg): file the event, keep the state, transcribe when asked."""
        sid = form.get("RecordingSid", "")[:64]
        status = form.get("RecordingStatus", "")[:20]
        leg = form.get("CallSid", "")[:64]
        if not sid or not call:
            log.warning("call %s: recording callback without RecordingSid ignored", call)
            return
        data: dict[str, Any] = {"recording": sid}
        channels = _number(form.get("RecordingChannels"))
        if channels is not None:
            data["channels"] = int(channels)
        if status == "in-progress":
            if self.store.settle(call, leg, sid, "in-progress"):
                self._show(call)
            self._file(call, {**data, "action": "started"}, now, once=f"{sid}:started")
            return
        duration = _number(form.get("RecordingDuration"))
        data.update(action="completed", duration=duration or 0.0)
        url = form.get("RecordingUrl", "")[:500]
        if status == "completed" and url:
            data["url"] = url
        elif status != "completed":
            data["status"] = status  # absent (silence) or failed: nothing stored to keep
        mine = self.store.settle(call, leg, sid, "completed")
        if mine:
            self._show(call)
        record = self._file(call, data, now, once=f"{sid}:completed")
        if "url" in data:
            self._transcribe(call, record, sid, url, mine)

    def _transcribe(self, call: str, record: str, sid: str, url: str, mine: bool) -> None:
        """Transcribe when the queue asks for it, under `record`: the call the recording's
        events were filed under (a callback's `cb:<id>` joins the call that asked for it)."""
        current = self.store.load(call) if mine else None
        queue = (current.queue if current else "") or self.queue_of(call) or ""
        settings = self.settings_of(queue) if queue else None
        if settings is not None and settings.transcribe and self.transcribe is not None:
            self.transcribe(record, sid, url)

    def _show(self, call: str) -> None:
        """The floor state's `recording` (on, paused, off), when the call has a floor."""
        current = self.store.load(call)
        floor = FloorStore(self.conn, int(self.config.call_state_ttl))
        if current is not None and floor.field(call, "queue"):
            floor.set(call, recording=current.console_state)

    def _file(self, call: str, data: dict[str, Any], now: datetime,
              once: str | None = None) -> str:
        """One `recording` event; `once` makes a repeated callback the same event. Returns
        the call it was filed under (a callback's: the call that asked for it)."""
        record = FloorStore(self.conn).record_of(call)
        events.publish_event(self.conn, "recording", record, data, now.timestamp(),
                             event_id=f"recording:{once}" if once else None)
        return record


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
