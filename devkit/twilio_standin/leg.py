"""CallLeg: plays Twilio for one call against the app's webhooks.

It posts the incoming-call webhook, parses the TwiML and executes it verb by verb (the verbs
live in `verbs.py`, the hold loop in `queue_wait.py`), posting each action as Twilio would,
and ends with the status callback. Everything that happens goes into `self.transcript`.

Twilio behaviour kept here (WEBHOOKS.md 3.1): standard parameters on every request, at most 10
HTTP redirects, text/xml, application/xml and text/html read as TwiML, a non-2xx answer or
invalid TwiML is "an application error has occurred" and ends the call - unless the number has
a VoiceFallbackUrl (`LegOptions.fallback_url`): then, as Twilio does on "a fatal error while
executing your call", the leg requests that URL at once with the same parameters plus
`ErrorCode` and `ErrorUrl`, and goes on with its TwiML (docs: Availability and Reliability).

Another thread (the stand-in's REST handlers) may `interrupt()` a running leg: the leg notices
between verbs and during every wait, and leaves the queue or hangs up accordingly.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from devkit.twilio_standin.call_progress import progress_params
from devkit.twilio_standin.clock import Clock, SimClock
from devkit.twilio_standin.leg_steps import (
    Document,
    End,
    Goto,
    Inline,
    Interruption,
    LegInterrupted,
    Next,
    Nudge,
    Redirected,
    RemoteHangup,
)
from devkit.twilio_standin.queues import Queues, new_sid
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.signing import signature_header
from devkit.twilio_standin.transcript import APPLICATION_ERROR, Event, Transcript
from devkit.twilio_standin.transport import Transport, TransportError, WebResponse
from devkit.twilio_standin.verbs import geography, run_verb

DEV_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_API = "https://api.twilio.com"
MAX_HTTP_REDIRECTS = 10  # past that Twilio fails with error 11215 (WEBHOOKS.md 3.1)
# Twilio tries a webhook once more when its connection fails, before the fallback URL (the
# "rc" connection override, default 1: twilio.com/docs/usage/webhooks/webhooks-connection-overrides)
CONNECTION_RETRIES = 1
TWIML_TYPES = {"text/xml", "application/xml", "text/html"}
Validator = Callable[[bytes, str], list[str]]


@dataclass
class LegOptions:
    """Knobs with Twilio-like defaults; tests shrink the loop bounds."""

    account_sid: str = DEV_ACCOUNT_SID
    api_base: str = TWILIO_API
    voice_path: str = "/voice"
    status_path: str | None = "/voice/status"
    callees: Mapping[str, str] = field(default_factory=dict)
    talk_seconds: float = 30.0
    max_hold_loops: int = 30
    max_requests: int = 300
    check_audio: bool = True
    validate: Validator | None = None
    max_conference_seconds: float = 14400.0  # a caller left alone in a live conference
    fallback_url: str | None = None
    """The number's VoiceFallbackUrl (None: not configured, a failure ends the call)."""


class CallLeg:
    """One call. `base_url` is the app's public base (webhook URLs are built on it and signed
    as such); `transport` carries the requests (HttpTransport or FlaskTransport)."""

    def __init__(self, base_url: str, transport: Transport, script: Script | None = None, *,
                 auth_token: str | None = None, from_: str = "+15555550100",
                 to: str = "+15555550199", call_sid: str | None = None,
                 direction: str = "inbound", clock: Clock | None = None,
                 queues: Queues | None = None, options: LegOptions | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.script = script or Script()
        self.auth_token = auth_token
        self.from_, self.to, self.direction = from_, to, direction
        self.call_sid = call_sid or new_sid("CA")
        self.clock = clock or SimClock()
        self.queues = queues or Queues()
        self.options = options or LegOptions()
        self.transcript = Transcript(self.call_sid)
        self.status = "queued"
        self.queue_name: str | None = None
        self.recordings: dict[str, float] = {}
        self.status_callback: str | None = None
        self.status_callback_method = "POST"
        self.status_events: frozenset[str] = frozenset({"completed"})
        self.hangup_after: float | None = None  # an answering callee talks this long
        self.conferences: Any = None  # the stand-in's rooms (conference.Conferences)
        self.cancelled_ringing = False  # REST canceled it before it was answered
        self.in_conference = False  # while True, a Nudge wakes the leg's conference loop
        self._started = self.clock.now()
        self._requests = 0
        self._wake = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._pending: Interruption | None = None
        self._failures: list[tuple[str, str | None, int | None]] | None = None

    # -- running -----------------------------------------------------------------------------

    def run(self, url: str | None = None, method: str = "POST", twiml: str | None = None,
            params: tuple[tuple[str, str], ...] = ()) -> Transcript:
        """Play the whole call and return its transcript. Inbound calls start with the
        incoming-call webhook; outbound legs (the stand-in) pass `url` or `twiml`; `params`
        go with the first request (a TwiML App's ApplicationSid and custom parameters)."""
        if twiml is not None:
            nxt: Next = Inline(twiml)
        else:
            nxt = Goto(url or self.base_url + self.options.voice_path, method, params,
                       label="incoming call" if self.direction == "inbound" else "answered")
        self.status = "ringing" if self.direction == "inbound" else "in-progress"
        self.note("twilio", "call", f"{self.direction} call {self.from_} -> {self.to}")
        self._loop(nxt)
        self.finish()
        return self.transcript

    def _loop(self, nxt: Next) -> None:
        while isinstance(nxt, Goto | Inline):
            try:
                doc = self.load(nxt)
                self.status = "in-progress"
                if doc is None:
                    return
                nxt = self.execute(doc)
            except LegInterrupted as exc:
                nxt = self.on_interrupt(exc.cause)
        if nxt is None:
            self.note("twilio", "hangup", "end of TwiML: Twilio hangs up")
        elif isinstance(nxt, End):
            self.note("twilio", "hangup", nxt.reason)

    def load(self, nxt: Goto | Inline) -> Document | None:
        if isinstance(nxt, Inline):
            self.note("twilio", "twiml", "inline TwiML")
            return self.parse(nxt.twiml.encode("utf-8"), None, nxt.context, "text/xml")
        return self.webhook(nxt.url, nxt.method, nxt.params, nxt.context, nxt.label)

    def execute(self, doc: Document) -> Next:
        """Run the verbs of `doc` in order; return what comes next (None: the document ran
        out of verbs)."""
        for element in doc.root:
            self.checkpoint()
            nxt = run_verb(self, element, doc)
            if nxt is not None:
                return nxt
        return None

    def on_interrupt(self, cause: Interruption) -> Next:
        if isinstance(cause, Redirected):
            self.note("twilio", "redirect", "call updated through the REST API",
                      url=cause.url)
            if cause.twiml is not None:
                return Inline(cause.twiml)
            return Goto(cause.url or "", cause.method, label="REST redirect")
        if isinstance(cause, RemoteHangup):
            return End(cause.reason)
        if isinstance(cause, Nudge):  # stale: the conference it was for is behind us
            return None
        self.note("twilio", "ignored", f"bridge from {cause.partner_sid} while not queued")
        return None

    def finish(self) -> None:
        self.status = "completed"
        duration = str(int(self.clock.now() - self._started))
        url = self.status_callback
        if url is None and self.options.status_path and self.direction == "inbound":
            url = self.base_url + self.options.status_path
        if url:
            extra: tuple[tuple[str, str], ...] = (("CallDuration", duration),)
            if self.status_callback:
                extra += progress_params(self, "completed")
            self.notify(url, self.status_callback_method, extra, label="status callback")
        self.note("twilio", "ended", f"call completed after {duration}s")

    @property
    def ended(self) -> bool:
        """The leg is over and its status callback has had its answer. `status` turns
        terminal a moment earlier (the callback carries it), so a test that reads what the
        callback recorded waits for this instead."""
        return self._ended.is_set()

    @property
    def completed(self) -> bool:
        """Ended as an answered call that hung up normally."""
        return self.ended and self.status == "completed"

    def mark_ended(self) -> None:
        """Called by the thread that played the leg once it has nothing left to send
        (`StandIn._start`), whichever way the leg ended."""
        self._ended.set()

    # -- interruption from other threads -----------------------------------------------------

    def interrupt(self, cause: Interruption) -> None:
        with self._lock:
            if not (isinstance(cause, Nudge) and self._pending is not None):
                self._pending = cause
        self._wake.set()

    def drop_nudge(self) -> None:
        """Forget a pending Nudge (the leg has left what it was about)."""
        with self._lock:
            if isinstance(self._pending, Nudge):
                self._pending = None

    def checkpoint(self) -> None:
        with self._lock:
            cause, self._pending = self._pending, None
            self._wake.clear()
        if isinstance(cause, Nudge) and not self.in_conference:
            return  # late news of a room the leg has left: nothing to look at
        if cause is not None:
            raise LegInterrupted(cause)

    def wait(self, seconds: float) -> None:
        """Let simulated (or real) time pass; a REST update cuts it short."""
        self.clock.sleep(seconds, self._wake)
        self.checkpoint()

    def elapsed(self) -> float:
        return self.clock.now() - self._started

    # -- transcript --------------------------------------------------------------------------

    def note(self, who: str, kind: str, text: str, url: str | None = None,
             status: int | None = None) -> None:
        self.transcript.add(Event(round(self.elapsed(), 1), who, kind, text, url, status))

    def error(self, text: str, url: str | None = None, status: int | None = None) -> None:
        if self._failures is not None:  # a fallback URL may still save the call
            self._failures.append((text, url, status))
            return
        self.note("twilio", "error", f"{APPLICATION_ERROR}: {text}", url, status)

    # -- webhooks ----------------------------------------------------------------------------

    def params(self, extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
        """The standard parameters Twilio always sends (WEBHOOKS.md 3.1), then `extra`."""
        base = [
            ("AccountSid", self.options.account_sid), ("ApiVersion", "2010-04-01"),
            ("CallSid", self.call_sid), ("CallStatus", self.status),
            ("Called", self.to), ("Caller", self.from_), ("Direction", self.direction),
            ("From", self.from_), ("To", self.to),
        ]
        base += geography("From", self.from_) + geography("To", self.to)
        base += geography("Caller", self.from_) + geography("Called", self.to)
        return base + list(extra)

    def send(self, method: str, url: str, extra: tuple[tuple[str, str], ...] = (),
             label: str = "webhook") -> WebResponse | None:
        """One signed request; the transcript records it. None when unreachable."""
        self._requests += 1
        if self._requests > self.options.max_requests:
            self.error(f"more than {self.options.max_requests} webhook requests: a loop?", url)
            return None
        form: list[tuple[str, str]] | None = self.params(extra)
        target = url
        if method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(form or [])
            form = None
        headers = signature_header(self.auth_token, target, form)
        for attempt in range(CONNECTION_RETRIES + 1):
            try:
                resp = self.transport.request(method, target, form, headers)
                break
            except TransportError as exc:
                if attempt == CONNECTION_RETRIES:
                    self.error(f"{label}: app unreachable ({exc})", url)
                    return None
                self.note("twilio", "retry", f"{label}: connection failed, trying again "
                          f"({exc})", url=url)
        self.note("twilio", "request", f"{method} {label}", url=url, status=resp.status)
        return resp

    def fetch(self, url: str, method: str, extra: tuple[tuple[str, str], ...],
              label: str) -> tuple[WebResponse, str] | None:
        """Send and follow up to 10 HTTP redirects; return the final answer and its URL."""
        for _hop in range(MAX_HTTP_REDIRECTS + 1):
            resp = self.send(method, url, extra, label)
            if resp is None:
                return None
            location = resp.headers.get("location")
            if not (300 <= resp.status < 400 and location):
                return resp, url
            url = urljoin(url, location)
            method = "GET" if resp.status == 303 else method
        self.error(f"{label}: more than {MAX_HTTP_REDIRECTS} HTTP redirects (error 11215)", url)
        return None

    def webhook(self, url: str, method: str = "POST", extra: tuple[tuple[str, str], ...] = (),
                context: str = "document", label: str = "webhook") -> Document | None:
        """Request TwiML. Errors are recorded and give None (Twilio ends the call), unless the
        number's VoiceFallbackUrl answers instead (inbound calls: call-level documents and the hold
        loop's, whose fallback answer then runs in the hold loop)."""
        fallback = self.options.fallback_url
        if (not fallback or self.direction != "inbound" or context not in ("document", "wait")
                or url == fallback):
            return self._webhook(url, method, extra, context, label)
        self._failures = []
        try:
            doc = self._webhook(url, method, extra, context, label)
        finally:
            failures, self._failures = self._failures, None
        if doc is not None or not failures:
            return doc
        text, failed_url, status = failures[0]
        self.note("twilio", "failover", f"{label} failed ({text}): requesting the "
                  "VoiceFallbackUrl", failed_url, status)
        # 11200: HTTP retrieval failure (connection or status); 12100: document parse failure.
        code = "12100" if "TwiML" in text or "not TwiML" in text else "11200"
        params = (*extra, ("ErrorCode", code), ("ErrorUrl", url))
        return self._webhook(fallback, "POST", params, context, "fallback")

    def _webhook(self, url: str, method: str, extra: tuple[tuple[str, str], ...],
                 context: str, label: str) -> Document | None:
        if not url.startswith(("http://", "https://")):
            self.error(f"{label}: URL {url!r} is not absolute")
            return None
        answer = self.fetch(url, method, extra, label)
        if answer is None:
            return None
        resp, final_url = answer
        if not 200 <= resp.status < 300:
            self.error(f"{label} answered HTTP {resp.status}", final_url, resp.status)
            return None
        return self.parse(resp.body, final_url, context, resp.content_type)

    def notify(self, url: str, method: str, extra: tuple[tuple[str, str], ...],
               label: str) -> None:
        """A callback whose answer Twilio ignores (status, recording status, the action after
        a hang-up); a non-2xx answer is still an error Twilio logs."""
        answer = self.fetch(url, method, extra, label)
        if answer is not None and not 200 <= answer[0].status < 300:
            self.error(f"{label} answered HTTP {answer[0].status}", answer[1], answer[0].status)

    def parse(self, body: bytes, url: str | None, context: str,
              content_type: str) -> Document | None:
        if content_type and content_type not in TWIML_TYPES | {"text/plain"}:
            self.error(f"answer is {content_type}, not TwiML", url)
            return None
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            self.error(f"invalid TwiML ({exc})", url)
            return None
        problems = [] if root.tag == "Response" else [f"root is <{root.tag}>, not <Response>"]
        if self.options.validate is not None:
            problems += self.options.validate(body, context)
        for problem in problems:
            self.error(f"invalid TwiML: {problem}", url)
        return None if problems else Document(root, url, context)

    def resolve(self, url: str | None, doc: Document) -> str | None:
        """An absolute URL for `url` (relative to the document's URL); None (and an error) for
        a relative URL in inline TwiML, which Twilio rejects (WEBHOOKS.md 3.2)."""
        if url and urlsplit(url).scheme:
            return url
        if doc.url is None:
            self.error(f"relative URL {url!r} in inline TwiML: it must be absolute")
            return None
        return urljoin(doc.url, url or "")

    def hear(self, kind: str, text: str, seconds: float) -> None:
        self.note("app", kind, text)
        self.wait(seconds)

    def describe(self) -> dict[str, Any]:
        return {"sid": self.call_sid, "from": self.from_, "to": self.to,
                "direction": self.direction, "status": self.status, "queue": self.queue_name,
                "ended": self.ended, "ok": self.transcript.ok, "duration": int(self.elapsed()),
                "transcript": self.transcript.to_json()}
