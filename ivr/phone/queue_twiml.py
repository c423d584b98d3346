"""TwiML for callers in a queue and the legs that connect them: hold loop pieces, re-enqueue,
the `<Dial>` to an agent, and prompts spoken from the catalogue with templated values.

Owns how queue prompts become `<Say>` or `<Play>` (recorded audio only for prompts without
placeholders, since a recording cannot say "number 3"). Must not touch Redis or the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.domain.flow.actions import Speech
from ivr.domain.flow.templating import parse_template, render
from ivr.phone.twiml import SAY_VOICES, AudioLookup, Urls
from ivr.phone.twiml_builder import Verb, VoiceResponse


@dataclass(frozen=True)
class Prompter:
    """Catalogue prompts in a language, spoken into a TwiML element."""

    catalog: Any  # ivr.prompts.catalog.PromptCatalog
    urls: Urls
    audio: AudioLookup | None = None

    def text(self, prompt_id: str, language: str, **values: Any) -> str:
        lang = language if self.catalog.has(prompt_id, language) else "en-US"
        return render(parse_template(self.catalog.text(prompt_id, lang)), values, lang)

    def speak(self, target: Verb, prompt_id: str, language: str,
              **values: Any) -> None:
        text = self.text(prompt_id, language, **values)
        path = None
        if self.audio is not None and not values:
            path = self.audio(prompt_id, language, text)
        if path:
            target.play(self.urls.base + path)
        else:
            target.say(text, language=language, voice=SAY_VOICES.get(language))


def enqueue_again(urls: Urls, queue: str, seq: int | None,
                  before: Speech | None = None) -> str:
    """Put a caller back in Twilio's queue (a bridge that did not happen); our own line in
    Redis still holds their place, so the order they are served in does not change."""
    r = VoiceResponse()
    if before is not None:
        r.say(before.text, language=before.language, voice=SAY_VOICES.get(before.language))
    r.enqueue(queue, action=urls.make("/voice/queue/done", seq=seq), method="POST",
              wait_url=urls.make("/voice/queue/wait", queue=queue), wait_url_method="POST")
    return str(r)


def dial_agent(target: Verb, address: str, whisper_url: str) -> None:
    """`client:NAME` rings a Twilio Client (browser/softphone); anything else is a number.
    `whisper_url` runs on the agent's leg when they answer, before the caller is connected."""
    if address.startswith("client:"):
        target.client(address.removeprefix("client:"), url=whisper_url, method="POST")
    else:
        target.number(address, url=whisper_url, method="POST")
