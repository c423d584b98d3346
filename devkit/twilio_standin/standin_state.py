"""The stand-in's state: live and finished call legs, queues, messages and recordings, and the
threads that run the legs. The Flask routes in `standin.py` only translate HTTP to these
methods.

Each leg runs in its own daemon thread against the app at `app_url`, signing webhooks with
`auth_token`. REST updates reach a running leg through `CallLeg.interrupt()`.
"""

from __future__ import annotations

import io
import threading
import wave
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devkit.twilio_standin.call_recordings import CallRecordings
from devkit.twilio_standin.callbacks import CallbackSender
from devkit.twilio_standin.client_devices import Devices, Ring
from devkit.twilio_standin.clock import Clock, RealClock
from devkit.twilio_standin.conference import Conferences
from devkit.twilio_standin.leg import DEV_ACCOUNT_SID, CallLeg, LegOptions
from devkit.twilio_standin.leg_steps import Redirected, RemoteHangup
from devkit.twilio_standin.outbound import Answer, dial_out, plan_for
from devkit.twilio_standin.queues import Queues, new_sid
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.signing import compute_signature
from devkit.twilio_standin.transport import HttpTransport, Transport

TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}


class CallNotFoundError(LookupError):
    pass


class CallNotInProgressError(RuntimeError):
    pass


@dataclass
class StandInConfig:
    """`callees`: number (or client:NAME) -> answer | no-answer | busy | failed for outbound
    calls (default answer; a registered simulated device decides for its identity first).
    `callee_scripts`: what an answering callee does (e.g. an agent pressing 1); one without
    a script hangs up after `talk_seconds` in a conference."""

    app_url: str = "http://127.0.0.1:5000"
    auth_token: str | None = None
    account_sid: str = DEV_ACCOUNT_SID
    api_base: str = "http://127.0.0.1:8081"
    callees: Mapping[str, str] = field(default_factory=dict)
    callee_scripts: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], Clock] = RealClock
    transport: Callable[[], Transport] = HttpTransport
    max_hold_loops: int = 120
    talk_seconds: float = 30.0
    validate: Any = None  # (body, context) -> problems: tests check every TwiML document
    fallback_path: str | None = None  # the number's VoiceFallbackUrl on app_url (None: unset)
    max_conference_seconds: float = 14400.0  # a caller alone with no script steps left
    twiml_app_url: str | None = None  # the TwiML App's Voice URL (None: app_url/voice/client)
    twiml_app_sid: str = "AP" + "0" * 32


class StandIn:
    def __init__(self, config: StandInConfig) -> None:
        self.config = config
        self.queues = Queues()
        self.legs: dict[str, CallLeg] = {}
        self.threads: dict[str, threading.Thread] = {}
        self.messages: list[dict[str, str]] = []
        self.inbound: list[dict[str, str]] = []  # customers' SMS sent to the app
        self.deleted: list[str] = []  # recording and message sids deleted through the API
        self.media_requests: list[tuple[str, str | None]] = []  # (file, basic-auth user)
        self.callbacks = CallbackSender(config.transport, config.auth_token)
        self.conferences = Conferences(self.callbacks)
        self.call_recordings = CallRecordings(self.callbacks, config)
        self.devices = Devices()
        self._lock = threading.Lock()

    def new_leg(self, from_: str, to: str, script: Script, direction: str) -> CallLeg:
        cfg = self.config
        options = LegOptions(account_sid=cfg.account_sid, api_base=cfg.api_base,
                             callees=cfg.callees, talk_seconds=cfg.talk_seconds,
                             max_hold_loops=cfg.max_hold_loops, validate=cfg.validate,
                             max_conference_seconds=cfg.max_conference_seconds,
                             fallback_url=cfg.fallback_path and cfg.app_url.rstrip("/")
                             + cfg.fallback_path)
        leg = CallLeg(cfg.app_url, cfg.transport(), script, auth_token=cfg.auth_token,
                      from_=from_, to=to, direction=direction, clock=cfg.clock(),
                      queues=self.queues, options=options)
        leg.conferences = self.conferences
        with self._lock:
            self.legs[leg.call_sid] = leg
        return leg

    def _start(self, leg: CallLeg, target: Callable[[], Any]) -> None:
        def play() -> None:
            try:
                target()
            except Exception as exc:  # a stand-in bug: the call shows it, nobody waits forever
                leg.note("twilio", "error", f"stand-in failed: {exc!r}")
                raise
            finally:
                if leg.status not in TERMINAL:
                    leg.status = "failed"
                self.call_recordings.call_ended(leg)
                leg.mark_ended()

        thread = threading.Thread(target=play, name=f"leg-{leg.call_sid}", daemon=True)
        with self._lock:
            self.threads[leg.call_sid] = thread
        thread.start()

    def start_inbound(self, from_: str, to: str, script: str = "") -> CallLeg:
        """A caller rings the app's number: POST /voice, then the script."""
        leg = self.new_leg(from_, to, Script.parse(script), "inbound")
        self._start(leg, leg.run)
        return leg

    def start_outbound(self, to: str, from_: str, url: str | None, twiml: str | None,
                       method: str = "POST", status_callback: str | None = None, *,
                       timeout: float = 60, events: frozenset[str] = frozenset({"completed"}),
                       callback_method: str = "POST") -> CallLeg:
        """Calls.json create: the callee (a number, or a client device) answers and runs
        `url` or `twiml`, or does not (outbound.py)."""
        script = self.config.callee_scripts.get(to)
        leg = self.new_leg(from_, to.partition("?")[0], Script.parse(script or ""),
                           "outbound-api")
        leg.status_callback, leg.status_events = status_callback, events
        leg.status_callback_method = callback_method
        behaviour = plan_for(to, self.devices, self.config.callees)
        answer = Answer(url, method, twiml, timeout)
        talk = self.config.talk_seconds
        self._start(leg, lambda: dial_out(leg, behaviour, answer, self.devices, talk,
                                          script is not None))
        return leg

    def start_from_device(self, identity: str, to: str,
                          params: Mapping[str, str]) -> CallLeg:
        """A simulated device places a call (`device.connect({params})`): Twilio posts the
        TwiML App's Voice URL with From=client:<identity>, To, ApplicationSid and the custom
        parameters, and the call runs the answer. The device hangs up through /sim/clients."""
        cfg = self.config
        leg = self.new_leg(f"client:{identity}", to, Script(), "inbound")
        leg.options.status_path = None  # the TwiML App's StatusCallback is not configured
        ring = self.devices.add(Ring(leg, identity, dict(params)))
        ring.decide("accept")
        leg.script.ask = ring.ask
        url = cfg.twiml_app_url or cfg.app_url.rstrip("/") + "/voice/client"
        extra = (("ApplicationSid", cfg.twiml_app_sid),
                 *((k, str(v)) for k, v in params.items() if k not in ("To", "From")))
        leg.note("twilio", "device", f"client:{identity} calls {to} through TwiML App "
                 f"{cfg.twiml_app_sid}")
        self._start(leg, lambda: leg.run(url=url, params=extra))
        return leg

    def leg(self, sid: str) -> CallLeg:
        with self._lock:
            leg = self.legs.get(sid)
        if leg is None:
            raise CallNotFoundError(sid)
        return leg

    def update_call(self, sid: str, url: str | None = None, method: str = "POST",
                    twiml: str | None = None, status: str | None = None) -> CallLeg:
        """Calls/{sid}.json update: redirect the live leg (it leaves any queue with
        QueueResult=redirected) or hang it up with status=completed|canceled."""
        leg = self.leg(sid)
        if leg.status in TERMINAL:
            raise CallNotInProgressError(sid)
        if status in ("completed", "canceled") and leg.status in ("queued", "ringing"):
            ring = self.devices.ring_of(sid)
            if ring is not None:
                ring.decide("canceled")
            leg.cancelled_ringing = True
        elif status in ("completed", "canceled"):
            leg.interrupt(RemoteHangup())
        elif url or twiml:
            leg.interrupt(Redirected(url=url, method=method or "POST", twiml=twiml))
        return leg

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str = "POST") -> Any:
        """Queues/{sid}/Members/{CallSid|Front}.json POST: redirect that member to `url`."""
        queue = self.queues.by_sid(queue_sid)
        if queue is None:
            raise CallNotFoundError(queue_sid)
        members = list(queue.members)
        member = members[0] if call_sid == "Front" and members else next(
            (m for m in members if m.call_sid == call_sid), None)
        if member is None:
            raise CallNotFoundError(call_sid)
        member.leg.interrupt(Redirected(url=url, method=method or "POST"))
        return member

    def send_message(self, to: str, from_: str, body: str,
                     service: str | None = None) -> dict[str, str]:
        message = {"sid": new_sid("SM"), "to": to, "from": from_, "body": body,
                   "messaging_service_sid": service or ""}
        with self._lock:
            self.messages.append(message)
        return message

    def delete_message(self, sid: str) -> bool:
        with self._lock:
            kept = [m for m in self.messages if m["sid"] != sid]
            found, self.messages[:] = len(kept) != len(self.messages), kept
            if found:
                self.deleted.append(sid)
        return found

    def receive_message(self, from_: str, to: str, body: str) -> tuple[int, str]:
        """A customer's SMS to one of our numbers: POST it, signed, to the app's /sms (as
        Twilio does for the number's Messaging webhook); returns the status and TwiML reply."""
        params = [("MessageSid", new_sid("SM")), ("SmsSid", ""), ("AccountSid",
                  self.config.account_sid), ("From", from_), ("To", to), ("Body", body),
                  ("NumMedia", "0"), ("NumSegments", "1"), ("ApiVersion", "2010-04-01")]
        params[1] = ("SmsSid", params[0][1])
        url = self.config.app_url.rstrip("/") + "/sms"
        headers = {}
        if self.config.auth_token:
            headers["X-Twilio-Signature"] = compute_signature(self.config.auth_token, url,
                                                              params)
        with self._lock:
            self.inbound.append({"sid": params[0][1], "from": from_, "to": to, "body": body})
        response = self.config.transport().request("POST", url, params, headers)
        return response.status, response.body.decode("utf-8", "replace")

    def delete_recording(self, sid: str) -> bool:
        if self.call_recordings.delete(sid):
            with self._lock:
                self.deleted.append(sid)
            return True
        with self._lock:
            for leg in self.legs.values():
                if leg.recordings.pop(sid, None) is not None:
                    self.deleted.append(sid)
                    return True
        return False

    def recording_wav(self, sid: str) -> bytes | None:
        call_recording = self.call_recordings.media_seconds(sid)
        if call_recording is not None:
            return silent_wav(*call_recording)
        with self._lock:
            legs = list(self.legs.values())
        for leg in legs:
            if sid in leg.recordings:
                return silent_wav(leg.recordings[sid])
        return None

    def hang_up(self, legs: list[CallLeg] | None = None) -> int:
        """Hang up the given legs (default: every leg) that are still live, as their callers
        would; returns how many were. Legs that ended meanwhile are skipped."""
        live = 0
        for leg in self.all_legs() if legs is None else legs:
            try:
                self.update_call(leg.call_sid, status="completed")
                live += 1
            except (CallNotFoundError, CallNotInProgressError):
                pass
        return live

    def forget(self, sids: list[str]) -> None:
        """Drop ended legs (a long soak run would otherwise keep every call, and the socket
        of its HTTP session, for ever). Their sids are unknown to the REST API afterwards."""
        with self._lock:
            for sid in sids:
                self.legs.pop(sid, None)
                self.threads.pop(sid, None)
        self.conferences.forget(set(sids))
        self.devices.forget(set(sids))
        self.call_recordings.forget(set(sids))

    def all_legs(self) -> list[CallLeg]:
        with self._lock:
            return list(self.legs.values())

    def join(self, timeout: float = 10.0) -> None:
        """Wait for every leg thread to end, then for the queued callbacks (tests)."""
        with self._lock:
            threads = list(self.threads.values())
        for thread in threads:
            thread.join(timeout)
        self.callbacks.drain(timeout)


def silent_wav(seconds: float, channels: int = 1, rate: int = 8000) -> bytes:
    """A small 8 kHz, 8-bit WAV of silence (mono, or 2 channels for a dual recording),
    capped at 10 s: enough for players."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * channels * int(rate * min(max(seconds, 0.1), 10.0)))
    return buffer.getvalue()
