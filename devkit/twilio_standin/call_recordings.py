"""Recordings of a live call started through the REST API (Calls/{CA}/Recordings.json), as
Twilio keeps them: `RecordingChannels` mono or dual, pause (PauseBehavior skip: the pause is
left out of the audio) and resume through Recordings/{RE or Twilio.CURRENT}.json, stopped
through the API or when the call ends. Then the recording is `completed`: a small silent WAV
(2 channels when dual) is served at its RecordingUrl on the stand-in's own origin, like the
<Record> voicemails.

Recording status callbacks (RecordingStatusCallback, RecordingStatusCallbackEvent: in-progress,
completed (the default), absent) go out signed through the stand-in's `CallbackSender` with
AccountSid, CallSid, RecordingSid, RecordingUrl, RecordingStatus, RecordingDuration,
RecordingChannels, RecordingStartTime, RecordingSource=StartCallRecordingAPI and
RecordingTrack. A recording with nothing in it (0 s) ends `absent`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from devkit.twilio_standin import rest_json
from devkit.twilio_standin.callbacks import Callback, CallbackSender
from devkit.twilio_standin.queues import new_sid

API = "/2010-04-01/Accounts"
UPDATES = ("paused", "in-progress", "stopped")


@dataclass
class CallRecording:
    sid: str
    leg: Any
    channels: int
    callback: tuple[str, str, frozenset[str]] | None
    track: str = "both"
    status: str = "in-progress"
    seconds: float = 0.0  # recorded so far (paused time skipped)
    since: float | None = None  # the leg clock's time the running stretch began
    created_at: float = field(default_factory=time.time)

    @property
    def call_sid(self) -> str:
        return str(self.leg.call_sid)

    def duration(self) -> float:
        running = self.leg.clock.now() - self.since if self.since is not None else 0.0
        return self.seconds + running


class RecordingStateError(Exception):
    """The recording (or the call) is not in a state that allows the change."""


class CallRecordings:
    def __init__(self, sender: CallbackSender, config: Any) -> None:
        self.sender = sender
        self.config = config  # StandInConfig: api_base is known only once the server runs
        self._lock = threading.Lock()
        self._by_sid: dict[str, CallRecording] = {}

    def start(self, leg: Any, channels: int, track: str,
              callback: tuple[str, str, frozenset[str]] | None) -> CallRecording:
        if leg.status != "in-progress":
            raise RecordingStateError(f"Call {leg.call_sid} is not in-progress")
        rec = CallRecording(new_sid("RE"), leg, channels, callback, track,
                            since=leg.clock.now())
        with self._lock:
            self._by_sid[rec.sid] = rec
        leg.note("twilio", "recording", f"recording {rec.sid} started "
                 f"({'dual' if channels == 2 else 'mono'})")
        self._callback(rec, "in-progress")
        return rec

    def find(self, call_sid: str, key: str) -> CallRecording | None:
        with self._lock:
            if key != "Twilio.CURRENT":
                rec = self._by_sid.get(key)
                return rec if rec is not None and rec.call_sid == call_sid else None
            live = [r for r in self._by_sid.values() if r.call_sid == call_sid
                    and r.status in ("in-progress", "paused")]
        return live[-1] if live else None

    def of_call(self, call_sid: str) -> list[CallRecording]:
        with self._lock:
            return [r for r in self._by_sid.values() if r.call_sid == call_sid]

    def update(self, rec: CallRecording, status: str) -> CallRecording:
        with self._lock:
            if rec.status not in ("in-progress", "paused"):
                raise RecordingStateError(f"Recording {rec.sid} is {rec.status}")
            now = rec.leg.clock.now()
            if status == "paused" and rec.status == "in-progress":
                rec.seconds += now - (rec.since or now)
                rec.since, rec.status = None, "paused"
                rec.leg.note("twilio", "recording", f"recording {rec.sid} paused")
            elif status == "in-progress" and rec.status == "paused":
                rec.since, rec.status = now, "in-progress"
                rec.leg.note("twilio", "recording", f"recording {rec.sid} resumed")
        if status == "stopped":
            self.finish(rec, "stopped through the REST API")
        return rec

    def call_ended(self, leg: Any) -> None:
        for rec in self.of_call(leg.call_sid):
            self.finish(rec, "the call ended")

    def finish(self, rec: CallRecording, why: str) -> None:
        with self._lock:
            if rec.status not in ("in-progress", "paused"):
                return
            rec.seconds = rec.duration()
            rec.since = None
            rec.status = "completed" if rec.seconds >= 1 else "absent"
        rec.leg.note("twilio", "recording", f"recording {rec.sid} {rec.status} after "
                     f"{rec.seconds:.0f}s ({why})", url=self.url(rec))
        self._callback(rec, rec.status)

    def url(self, rec: CallRecording) -> str:
        return f"{self.config.api_base}{API}/{self.config.account_sid}/Recordings/{rec.sid}"

    def media_seconds(self, sid: str) -> tuple[float, int] | None:
        with self._lock:
            rec = self._by_sid.get(sid)
        if rec is None or rec.status != "completed":
            return None
        return rec.seconds, rec.channels

    def forget(self, call_sids: set[str]) -> None:
        """Drop the recordings of forgotten calls (their media is then 404, as deleted)."""
        with self._lock:
            for sid, rec in list(self._by_sid.items()):
                if rec.call_sid in call_sids:
                    del self._by_sid[sid]

    def delete(self, sid: str) -> bool:
        with self._lock:
            return self._by_sid.pop(sid, None) is not None

    def _callback(self, rec: CallRecording, status: str) -> None:
        if rec.callback is None or status not in rec.callback[2]:
            return
        url, method, _ = rec.callback
        params = (("AccountSid", self.config.account_sid), ("CallSid", rec.call_sid),
                  ("RecordingSid", rec.sid), ("RecordingUrl", self.url(rec)),
                  ("RecordingStatus", status),
                  ("RecordingDuration", f"{rec.seconds:.0f}" if status != "in-progress"
                   else "0"),
                  ("RecordingChannels", str(rec.channels)),
                  ("RecordingStartTime", formatdate(rec.created_at, usegmt=True)),
                  ("RecordingSource", "StartCallRecordingAPI"), ("RecordingTrack", rec.track))
        self.sender.post(Callback(url, method, params, f"recording status callback ({status})",
                                  rec.leg))


def recording_json(rec: CallRecording, account_sid: str) -> dict[str, Any]:
    done = rec.status in ("completed", "absent")
    return {
        "sid": rec.sid, "account_sid": account_sid, "call_sid": rec.call_sid,
        "conference_sid": None, "api_version": "2010-04-01", "status": rec.status,
        "channels": rec.channels, "source": "StartCallRecordingAPI", "track": rec.track,
        "duration": str(int(rec.seconds)) if done else "-1", "price": None,
        "price_unit": "USD", "error_code": None, "encryption_details": None,
        "date_created": formatdate(rec.created_at, usegmt=True),
        "date_updated": rest_json.date(), "start_time": formatdate(rec.created_at, usegmt=True),
        "uri": f"{API}/{account_sid}/Calls/{rec.call_sid}/Recordings/{rec.sid}.json",
    }


def state() -> Any:
    return current_app.extensions["standin"]


def error(status: int, code: int, message: str) -> Response:
    response = jsonify(rest_json.error(status, code, message))
    response.status_code = status
    return response


def status_callback() -> tuple[str, str, frozenset[str]] | None:
    if not request.form.get("RecordingStatusCallback"):
        return None
    events = frozenset(word for value in request.form.getlist("RecordingStatusCallbackEvent")
                       for word in value.split()) or frozenset({"completed"})
    return (request.form["RecordingStatusCallback"],
            request.form.get("RecordingStatusCallbackMethod") or "POST", events)


def call_recordings(account_sid: str, sid: str) -> Any:
    standin = state()
    leg = standin.leg(sid)
    if request.method == "GET":
        items = [recording_json(r, account_sid) for r in standin.call_recordings.of_call(sid)]
        return jsonify(rest_json.page("recordings", items, request.path))
    channels = 2 if (request.form.get("RecordingChannels") or "mono") == "dual" else 1
    try:
        rec = standin.call_recordings.start(
            leg, channels, request.form.get("RecordingTrack") or "both", status_callback())
    except RecordingStateError as exc:
        return error(400, 21220, str(exc))
    return jsonify(recording_json(rec, account_sid)), 201


def call_recording(account_sid: str, sid: str, key: str) -> Any:
    recordings = state().call_recordings
    rec = recordings.find(sid, key)
    if rec is None:
        return error(404, 20404, f"The requested resource {request.path} was not found")
    if request.method == "POST":
        status = request.form.get("Status", "")
        if status not in UPDATES:
            return error(400, 21218, f"Status must be one of {', '.join(UPDATES)}")
        try:
            recordings.update(rec, status)
        except RecordingStateError as exc:
            return error(400, 21220, str(exc))
    return jsonify(recording_json(rec, account_sid))


def add_routes(rest: Blueprint) -> None:
    """Calls/{CA}/Recordings.json (POST start, GET list) and Recordings/{RE or
    Twilio.CURRENT}.json (GET, POST Status=paused|in-progress|stopped)."""
    rest.add_url_rule("/Calls/<sid>/Recordings.json", "call_recordings", call_recordings,
                      methods=["GET", "POST"])
    rest.add_url_rule("/Calls/<sid>/Recordings/<key>.json", "call_recording", call_recording,
                      methods=["GET", "POST"])
