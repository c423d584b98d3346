"""Turn the interpreter's actions into TwiML (ivr/phone/twiml_builder.py writes the XML).

Owns URL choices for every verb (where Gather, Record, Dial and Enqueue post back) and the
prompt choice (recorded audio when a current file exists, else `<Say>`). Must not run the flow,
touch Redis or read the request: callers pass in everything as arguments, so the same renderer
serves the web app, the fallback path and the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from ivr.domain.flow.actions import (
    Action,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Record,
    Say,
    Speech,
)
from ivr.phone.twiml_builder import Verb, VoiceResponse

# Returns a URL path for recorded audio of (prompt_id, language, text), or None to use <Say>.
AudioLookup = Callable[[str, str, str], "str | None"]

# Twilio <Say> languages we speak with the basic voices; others fall back to the default voice.
SAY_VOICES = {"en-US": "Polly.Joanna", "es-US": "Polly.Lupe", "en-GB": "Polly.Amy"}

APOLOGY = {
    "en-US": "We're sorry, something went wrong on our side. Let me get you to a person.",
    "es-US": "Lo sentimos, tuvimos un problema. Le comunicamos con una persona.",
}


@dataclass(frozen=True)
class Urls:
    """Absolute URLs Twilio calls back; built from PUBLIC_BASE_URL so signatures match."""

    base: str

    def make(self, path: str, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}{path}" + (f"?{query}" if query else "")


def _speak(target: Verb, speech: Speech, audio: AudioLookup | None,
           base: str) -> None:
    path = audio(speech.prompt_id, speech.language, speech.text) if (
        audio and speech.prompt_id) else None
    if path:
        target.play(base + path)
    else:
        target.say(speech.text, language=speech.language, voice=SAY_VOICES.get(speech.language))


def render(actions: Iterable[Action], urls: Urls, seq: int, audio: AudioLookup | None = None,
           call_language: str = "en-US") -> str:
    """TwiML for one step. `seq` is this answer's number; callbacks carry it for idempotency."""
    response = VoiceResponse()
    for action in actions:
        _render_one(response, action, urls, seq, audio)
    return str(response)


def _render_one(r: VoiceResponse, action: Action, urls: Urls, seq: int,
                audio: AudioLookup | None) -> None:
    nxt = urls.make("/voice/next", seq=seq)
    match action:
        case Say(speech=speech):
            _speak(r, speech, audio, urls.base)
        case Pause(seconds=seconds):
            r.pause(length=max(1, seconds))
        case Gather():
            _render_gather(r, action, nxt, audio, urls.base)
        case Enqueue(queue=queue):
            r.enqueue(
                queue,
                action=urls.make("/voice/queue/done", seq=seq),
                method="POST",
                wait_url=urls.make("/voice/queue/wait", queue=queue),
                wait_url_method="POST",
            )
        case Record():
            r.record(
                action=nxt,
                method="POST",
                max_length=action.max_length,
                timeout=action.timeout,
                finish_on_key=action.finish_on_key,
                play_beep=action.play_beep,
                recording_status_callback=urls.make("/voice/recording", mailbox=action.mailbox),
                recording_status_callback_method="POST",
            )
        case Dial():
            dial = r.dial(action=nxt, method="POST", timeout=action.timeout,
                          caller_id=action.caller_id)
            dial.number(action.number)
        case Hangup():
            r.hangup()
        case _:
            raise TypeError(f"cannot render {action!r} as TwiML")


def _render_gather(r: VoiceResponse, g: Gather, action_url: str, audio: AudioLookup | None,
                   base: str) -> None:
    attrs: dict[str, object] = {
        "input": g.input,
        "action": action_url,
        "method": "POST",
        "action_on_empty_result": True,
        "timeout": g.timeout,
        "language": g.language,
    }
    if g.num_digits:
        attrs["num_digits"] = g.num_digits
    if g.finish_on_key != "#":
        attrs["finish_on_key"] = g.finish_on_key
    if "speech" in g.input:
        attrs["speech_timeout"] = "auto"
        if g.hints:
            attrs["hints"] = ", ".join(g.hints)
    gather = r.gather(**attrs)
    for speech in g.prompts:
        _speak(gather, speech, audio, base)


def render_fallback(urls: Urls, language: str = "en-US", queue: str = "support",
                    number: str | None = None) -> str:
    """What a caller hears when anything fails: an apology and a route to a human.

    Deliberately needs nothing but its arguments (no Redis, no flow), so it works when the
    failure is Redis itself. With `number` set the caller is dialled straight to it; otherwise
    they wait in the Twilio queue, whose hold loop also degrades gracefully.
    """
    r = VoiceResponse()
    r.say(APOLOGY.get(language, APOLOGY["en-US"]), language=language,
          voice=SAY_VOICES.get(language))
    if number:
        r.dial(number)
    else:
        r.enqueue(
            queue,
            action=urls.make("/voice/queue/done", fallback=1),
            method="POST",
            wait_url=urls.make("/voice/queue/wait", queue=queue, fallback=1),
            wait_url_method="POST",
        )
    return str(r)


def empty() -> str:
    """The answer status callbacks expect: an empty `<Response/>` (WEBHOOKS.md 3.5)."""
    return str(VoiceResponse())
