"""`TwilioCallControl`: the `CallControl` port (ivr/domain/queue_ports.py) on Twilio's REST API.

Used by the queue jobs to bridge a waiting caller (update the live call's `url`), to place a
callback (create a call) and to hang up. The twilio `Client` is built from the `Config`: real
credentials talk to Twilio; with none set, or with `TWILIO_API_BASE` set, it talks to the local
Twilio stand-in (`devkit/twilio_standin/`) at that address, with the development account SID. The
REST client's errors (`TwilioRestException`, connection errors) propagate: the RQ job that
called us fails and is retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twilio.rest import Client

from ivr.config.settings import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, Config

STANDIN_DEFAULT = "http://127.0.0.1:8081"  # `ivr demo --standin-port` default
TEST_CALLER_ID = "+15005550006"  # Twilio's documented test "From" number
NOT_IN_PROGRESS = 21220  # "Call is not in-progress. Cannot redirect." (HTTP 400)


def call_gone(exc: BaseException) -> bool:
    """True when Twilio refused a change to a call because the call has ended already:
    404 (20404, no such call any more) or 400 with 21220 (the call is not in progress: it
    hung up between our read and the request). Ending or redirecting such a call has
    nothing left to do, so the floor treats it as done rather than as Twilio failing."""
    status = getattr(exc, "status", None)
    return status == 404 or (status == 400 and getattr(exc, "code", None) == NOT_IN_PROGRESS)


def build_client(config: Config, timeout: float = 10.0) -> Client:
    """A twilio Client for `config`, pointed at the stand-in when there are no credentials."""
    from twilio.http.http_client import TwilioHttpClient

    sid = config.twilio_account_sid or DEV_ACCOUNT_SID
    token = config.twilio_auth_token or DEV_AUTH_TOKEN
    client = Client(sid, token, http_client=TwilioHttpClient(timeout=timeout))
    if config.uses_standin:
        client.api.base_url = (config.twilio_api_base or STANDIN_DEFAULT).rstrip("/")
    return client


@dataclass
class TwilioCallControl:
    client: Client
    caller_id: str = TEST_CALLER_ID
    status_callback: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> TwilioCallControl:
        caller_id = config.caller_id or TEST_CALLER_ID
        status = f"{config.public_base_url}/voice/status"
        return cls(build_client(config), caller_id=caller_id, status_callback=status)

    def redirect(self, call_sid: str, url: str) -> None:
        """Point the live call at `url` (POST). Twilio leaves `<Enqueue>` with
        QueueResult=redirected and fetches the new TwiML."""
        self.client.calls(call_sid).update(url=url, method="POST")

    def place_call(self, to: str, url: str, timeout: int,
                   status_callback: str | None = None) -> str:
        kwargs: dict[str, Any] = {"to": to, "from_": self.caller_id, "url": url,
                                  "method": "POST", "timeout": timeout}
        if status_callback or self.status_callback:
            kwargs["status_callback"] = status_callback or self.status_callback
        call = self.client.calls.create(**kwargs)
        return str(call.sid)

    def hang_up(self, call_sid: str) -> None:
        self.client.calls(call_sid).update(status="completed")

    # The agent floor (docs/agent-floor.md, "Twilio REST API subset").
    def ring(self, to: str, url: str, timeout: int, status_callback: str,
             events: tuple[str, ...] = ("answered", "completed")) -> str:
        """Dial a leg that runs our TwiML at `url` when answered; its status callback says
        how the ring ended. Returns the new CallSid."""
        call = self.client.calls.create(
            to=to, from_=self.caller_id, url=url, method="POST", timeout=timeout,
            status_callback=status_callback, status_callback_method="POST",
            status_callback_event=list(events))
        return str(call.sid)

    def find_conference(self, name: str) -> str | None:
        """The SID of the in-progress conference named `name`, or None."""
        found = self.client.conferences.list(friendly_name=name, status="in-progress", limit=1)
        return str(found[0].sid) if found else None

    def update_participant(self, conference: str, call_sid: str, **changes: Any) -> None:
        """Hold / HoldUrl / Muted / Coaching / CallSidToCoach of one participant."""
        self.client.conferences(conference).participants(call_sid).update(**changes)

    def remove_participant(self, conference: str, call_sid: str) -> None:
        self.client.conferences(conference).participants(call_sid).delete()

    def end_conference(self, conference: str) -> None:
        self.client.conferences(conference).update(status="completed")

    # Agent-call recordings (ivr/phone/floor_recording.py; docs/agent-floor.md REST subset).
    def record_call(self, call_sid: str, status_callback: str) -> str:
        """Start a dual-channel recording of the live call; returns its RE sid."""
        recording = self.client.calls(call_sid).recordings.create(
            recording_channels="dual", recording_status_callback=status_callback,
            recording_status_callback_method="POST",
            recording_status_callback_event=["in-progress", "completed", "absent"])
        return str(recording.sid)

    def set_recording(self, call_sid: str, status: str) -> None:
        """Pause (`paused`, the gap skipped in the audio) or resume (`in-progress`) the
        call's current recording."""
        extra = {"pause_behavior": "skip"} if status == "paused" else {}
        self.client.calls(call_sid).recordings("Twilio.CURRENT").update(status=status, **extra)
