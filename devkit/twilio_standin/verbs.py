"""The TwiML verbs a CallLeg executes, one function each, with Twilio's defaults and
fall-through rules from WEBHOOKS.md (3.2 Gather, 3.6 Record, 3.7 Dial). Enqueue and
<Dial><Queue> live in `queue_wait.py`, <Dial><Conference> in `conference_leg.py`.

Each verb takes (leg, element, document) and returns what comes next: None to go on with the
next verb, a `Goto` (an action URL), `End` or `LeaveQueue`.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from devkit.twilio_standin.conference_leg import dial_conference
from devkit.twilio_standin.leg_steps import (
    Document,
    End,
    Goto,
    LeaveQueue,
    Next,
    dial_action,
    int_attr,
    text_of,
)
from devkit.twilio_standin.queue_wait import dial_queue, enqueue
from devkit.twilio_standin.queues import new_sid
from devkit.twilio_standin.transport import TransportError
from ivr.phone.hold_audio import BadAudio, wav_header_seconds

WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
RECORD_FINISH_KEYS = "1234567890*#"
WORDS_PER_SECOND = 2.5
GEOGRAPHY = {"+1": ("US", "CA", "SAN FRANCISCO", "94107"), "+44": ("GB", "", "", "")}


def geography(prefix: str, number: str) -> list[tuple[str, str]]:
    """FromCountry, FromState, ... as Twilio adds them for a phone number (none for
    `client:` identities)."""
    for code, (country, state, city, zip_code) in GEOGRAPHY.items():
        if number.startswith(code):
            return [(prefix + "City", city), (prefix + "Country", country),
                    (prefix + "State", state), (prefix + "Zip", zip_code)]
    return []


def run_verb(leg: Any, el: ET.Element, doc: Document) -> Next:
    handler = HANDLERS.get(el.tag)
    if handler is None:
        leg.error(f"<{el.tag}> is not a verb this simulator knows", doc.url)
        return End("application error")
    if doc.context == "wait" and el.tag not in WAIT_VERBS:
        leg.error(f"<{el.tag}> is not allowed in a waitUrl document", doc.url)
        return End("application error")
    return handler(leg, el, doc)


def speech_seconds(text: str) -> float:
    return max(1.0, round(len(text.split()) / WORDS_PER_SECOND, 1))


def say(leg: Any, el: ET.Element, doc: Document) -> Next:
    text = text_of(el)
    leg.hear("say", text, speech_seconds(text) * max(1, int_attr(el, "loop", 1)))
    return None


def play(leg: Any, el: ET.Element, doc: Document) -> Next:
    if el.get("digits"):
        leg.hear("play", f"DTMF {el.get('digits')}", 1.0)
        return None
    url = leg.resolve(text_of(el), doc)
    if url is None:
        return End("application error")
    seconds = None
    if leg.options.check_audio and same_origin(url, leg.base_url):
        seconds = check_audio(leg, url)
    leg.hear("play", url, (seconds or 3.0) * max(1, int_attr(el, "loop", 1)))
    return None


def same_origin(url: str, base: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc


def check_audio(leg: Any, url: str) -> float | None:
    """GET the audio the app asked to play: a missing prompt is a silent bug for callers.
    Returns how long a fetched telephone WAV plays (hold music fills a whole hold loop), or
    None when that is not known (the caller then hears it for a nominal 3 s)."""
    try:
        resp = leg.transport.request("GET", url)
    except TransportError as exc:
        leg.error(f"<Play> audio unreachable ({exc})", url)
        return None
    leg.note("twilio", "fetch", "GET audio", url=url, status=resp.status)
    if resp.status != 200:
        leg.error(f"<Play> audio answered HTTP {resp.status}", url, resp.status)
        return None
    try:
        return wav_header_seconds(resp.body[:4096], len(resp.body))
    except (BadAudio, struct.error):
        return None


def pause(leg: Any, el: ET.Element, doc: Document) -> Next:
    seconds = int_attr(el, "length", 1)
    leg.note("app", "pause", f"{seconds}s of silence")
    leg.wait(seconds)
    return None


def redirect(leg: Any, el: ET.Element, doc: Document) -> Next:
    url = leg.resolve(text_of(el), doc)
    if url is None:
        return End("application error")
    return Goto(url, el.get("method", "POST"), context=doc.context, label="redirect")


def hangup(leg: Any, el: ET.Element, doc: Document) -> Next:
    return End("the app hung up (<Hangup>)")


def reject(leg: Any, el: ET.Element, doc: Document) -> Next:
    return End(f"the app rejected the call ({el.get('reason', 'rejected')})")


def leave(leg: Any, el: ET.Element, doc: Document) -> Next:
    if doc.context == "wait":
        return LeaveQueue()
    leg.note("twilio", "ignored", "<Leave> outside a queue does nothing")
    return None


@dataclass(frozen=True)
class GatherInput:
    kind: str  # digits, speech, timeout, hangup
    value: str = ""
    finished_on: str = ""

    def params(self) -> tuple[tuple[str, str], ...]:
        if self.kind == "digits":
            return (("Digits", self.value), ("FinishedOnKey", self.finished_on))
        if self.kind == "speech":
            return (("SpeechResult", self.value), ("Confidence", "0.92"))
        return ()


def gather(leg: Any, el: ET.Element, doc: Document) -> Next:
    for child in el:
        leg.checkpoint()
        run_verb(leg, child, doc)
    got = collect_input(leg, el, on_hold=doc.context == "wait")
    if got.kind == "hangup":
        return End("the caller hung up during <Gather>")
    empty = got.kind == "timeout" or (got.kind == "digits" and not got.value)
    if empty and el.get("actionOnEmptyResult") != "true":
        leg.note("twilio", "timeout", "no input: falls through to the next verb")
        return None
    url = leg.resolve(el.get("action"), doc)
    if url is None:
        return End("application error")
    params = () if empty else got.params()
    return Goto(url, el.get("method", "POST"), params, doc.context, "gather action")


def collect_input(leg: Any, el: ET.Element, on_hold: bool = False) -> GatherInput:
    """Consume script steps until the Gather has its input, times out, or the caller hangs
    up. Keys or speech the Gather does not accept are ignored, as on a real line. A caller
    with no steps left hangs up at a menu but keeps holding at a Gather in a waitUrl."""
    modes = el.get("input", "dtmf").split()
    timeout = int_attr(el, "timeout", 5)
    silence = 0
    while True:
        step = leg.script.peek(f"gather {' or '.join(modes)}")
        if step is None and on_hold:
            leg.wait(timeout)
            return GatherInput("timeout")
        if step is None:
            leg.note("caller", "hangup", "script exhausted: the caller hangs up")
            return GatherInput("hangup")
        if step.kind == "hold":  # not for this Gather: stay silent, keep it for the queue
            leg.wait(timeout)
            return GatherInput("timeout")
        leg.script.pop()
        if step.kind == "hangup":
            leg.note("caller", "hangup", "hangs up")
            return GatherInput("hangup")
        if step.kind == "wait":
            leg.note("caller", "silence", f"{step.count}s")
            leg.wait(min(step.count, timeout - silence))
            silence += step.count
            if silence >= timeout:
                return GatherInput("timeout")
            continue
        accepted = (step.kind == "press" and "dtmf" in modes) or (
            step.kind == "say" and "speech" in modes)
        leg.note("caller", step.kind, step.value if accepted else f"{step.value} (ignored)")
        if accepted:
            return press_keys(leg, el, step.value) if step.kind == "press" else \
                GatherInput("speech", step.value)


def press_keys(leg: Any, el: ET.Element, keys: str) -> GatherInput:
    finish = el.get("finishOnKey", "#")
    wanted = int_attr(el, "numDigits", 0)
    digits = ""
    for key in keys:
        if finish and key == finish:
            return GatherInput("digits", digits, key)
        digits += key
        if wanted and len(digits) >= wanted:
            return GatherInput("digits", digits)
    leg.wait(int_attr(el, "timeout", 5))  # no finishing key: Twilio waits out the timeout
    return GatherInput("digits", digits)


def record(leg: Any, el: ET.Element, doc: Document) -> Next:
    leg.note("app", "record", "beep, recording" if el.get("playBeep") != "false" else "recording")
    step = leg.script.peek("record: say something")
    if step is None or step.kind == "hangup":
        leg.script.pop()
        return End("the caller hung up before speaking")
    if step.kind != "say":  # silence or keys before speech: nothing recorded, fall through
        if step.kind != "hold":
            leg.script.pop()
        leg.wait(int_attr(el, "timeout", 5))
        leg.note("twilio", "timeout", "no audio recorded: falls through to the next verb")
        return None
    leg.script.pop()
    seconds = min(speech_seconds(step.value), int_attr(el, "maxLength", 3600))
    leg.note("caller", "say", step.value)
    leg.wait(seconds)
    digits = record_ending(leg, el)
    params = save_recording(leg, el, step.value, seconds, digits, doc)
    url = leg.resolve(el.get("action"), doc)
    if url is None:
        return End("application error")
    if digits == "hangup":
        leg.notify(url, el.get("method", "POST"), params, "record action")
        return End("the caller hung up after recording")
    return Goto(url, el.get("method", "POST"), params, label="record action")


def record_ending(leg: Any, el: ET.Element) -> str:
    """The key that ended the recording, `hangup`, or '' when silence (timeout) ended it."""
    finish = el.get("finishOnKey", RECORD_FINISH_KEYS)
    step = leg.script.peek()
    if step is not None and step.kind == "press" and step.value[0] in finish:
        leg.script.pop()
        leg.note("caller", "press", step.value[0])
        return step.value[0]
    if step is not None and step.kind == "hangup":
        leg.script.pop()
        leg.note("caller", "hangup", "hangs up")
        return "hangup"
    leg.wait(int_attr(el, "timeout", 5))
    return ""


def save_recording(leg: Any, el: ET.Element, text: str, seconds: float, digits: str,
                   doc: Document) -> tuple[tuple[str, str], ...]:
    sid = new_sid("RE")
    leg.recordings[sid] = seconds
    opts = leg.options
    url = f"{opts.api_base}/2010-04-01/Accounts/{opts.account_sid}/Recordings/{sid}"
    leg.note("twilio", "recorded", f"{seconds:g}s", url=url)
    rec = (("RecordingUrl", url), ("RecordingSid", sid), ("RecordingDuration", f"{seconds:.0f}"))
    status_url = el.get("recordingStatusCallback")
    if status_url and (target := leg.resolve(status_url, doc)):
        leg.notify(target, el.get("recordingStatusCallbackMethod", "POST"), rec + (
            ("RecordingStatus", "completed"), ("RecordingChannels", "1"),
            ("RecordingSource", "RecordVerb")), "recording status callback")
    transcribe_url = el.get("transcribeCallback")
    if el.get("transcribe") == "true" and transcribe_url and (
            target := leg.resolve(transcribe_url, doc)):
        leg.notify(target, "POST", rec + (
            ("TranscriptionSid", new_sid("TR")), ("TranscriptionText", text),
            ("TranscriptionStatus", "completed")), "transcribe callback")
    return rec + ((("Digits", digits),) if digits else ())


def dial(leg: Any, el: ET.Element, doc: Document) -> Next:
    nouns = [c for c in el if c.tag in ("Number", "Client", "Sip", "Queue", "Conference")]
    if nouns and nouns[0].tag == "Queue":
        return dial_queue(leg, el, doc, text_of(nouns[0]))
    if nouns and nouns[0].tag == "Conference":
        return dial_conference(leg, el, doc, nouns[0])
    target = text_of(nouns[0]) if nouns else text_of(el)
    if nouns and nouns[0].tag == "Client":
        target = "client:" + target
    status, seconds = ring(leg, el, target, nouns[0] if nouns else None)
    params = (("DialCallStatus", status), ("DialCallSid", new_sid("CA")),
              ("DialCallDuration", str(int(seconds))),
              ("DialBridged", "true" if status == "completed" else "false"))
    return dial_action(leg, el, doc, params)


def ring(leg: Any, el: ET.Element, target: str,
         noun: ET.Element | None = None) -> tuple[str, float]:
    """The simulated callee: answer (talks `talk_seconds`, capped by timeLimit), no-answer
    (rings out the Dial timeout), busy or failed. An answering callee first runs the noun's
    `url` (a whisper to the callee, before the parties are connected)."""
    behaviour = leg.options.callees.get(target, "answer")
    leg.note("twilio", "dial", f"dialling {target}")
    if behaviour == "answer":
        seconds = min(leg.options.talk_seconds, int_attr(el, "timeLimit", 14400))
        if noun is not None and noun.get("url"):
            whisper(leg, noun, target)
        leg.note("callee", "answer", f"{target} answers and talks {seconds:g}s")
        leg.wait(seconds)
        return "completed", seconds
    if behaviour == "no-answer":
        leg.wait(int_attr(el, "timeout", 30))
    leg.note("callee", behaviour, target)
    return behaviour, 0.0


def whisper(leg: Any, noun: ET.Element, target: str) -> None:
    """Fetch the noun's `url` for the callee's leg and note what the callee hears."""
    url = noun.get("url") or ""
    doc = leg.webhook(url, noun.get("method", "POST"), (("ParentCallSid", leg.call_sid),),
                      label="whisper")
    if doc is None:
        return
    for verb in doc.root:
        if verb.tag == "Say":
            leg.note("callee", "hears", f"{target}: {text_of(verb)}")


HANDLERS: dict[str, Callable[[Any, ET.Element, Document], Next]] = {
    "Say": say, "Play": play, "Pause": pause, "Redirect": redirect, "Hangup": hangup,
    "Reject": reject, "Leave": leave, "Gather": gather, "Record": record, "Dial": dial,
    "Enqueue": enqueue,
}
