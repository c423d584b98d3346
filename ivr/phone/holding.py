"""The hold loop and the menus a waiting caller can reach from it: position and honest wait
announcements, key 1 for a callback that keeps their place, key 2 for voicemail.

Owns the waitUrl document (`wait`), the key menu (`key`) and the callback dialogue
(`callback`): confirm the caller ID or key in another number, then book it. The callback
store enforces the toll-fraud policy (number type, the queue's countries, the daily limit per
number; issue 12); here the caller hears which rule refused their number, a prompt per
`Refusal`, and may key another number or simply stay on the line with their place kept.
The booking is persisted in Redis BEFORE the caller hears the confirmation; only then does
the document `<Leave>` the queue, and the Enqueue action hands the flow the `callback`
result. Everything here answers inside Twilio's waitUrl context, so only Play, Say, Pause,
Gather, Redirect, Leave and Hangup are used. Between announcements callers hear their
queue's hold audio (`ivr/phone/hold_audio.py`), or a `<Pause>` when none is built. Must not import
Flask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ivr.domain.announce import describe_range
from ivr.domain.errors import Conflict
from ivr.domain.flow.actions import Enqueue
from ivr.domain.phone_numbers import (
    BadNumber,
    Refusal,
    country_of,
    keyed_number,
    validate_callback_number,
)
from ivr.phone.hold_audio import HoldAudio
from ivr.phone.queue_handoff import QueueEntry, QueueHandOff
from ivr.phone.queue_twiml import Prompter
from ivr.phone.twiml_builder import VoiceResponse
from ivr.store import keys
from ivr.store.scripts import text

log = logging.getLogger(__name__)

MAX_NUMBER_TRIES = 3
MAX_LATER_HOURS = 24  # a callback can be booked up to a day ahead
# What a caller hears when their number is refused, per reason (prompts/catalog.yaml).
REFUSAL_PROMPTS = {Refusal.NOT_CALLABLE: "callback_invalid_number",
                   Refusal.COUNTRY: "callback_country_refused",
                   Refusal.TOO_MANY: "callback_limit_reached"}


@dataclass
class HoldSettings:
    announce_every: float = 60.0  # seconds between position/estimate announcements
    offer_callback_above: float = 120.0  # say the callback offer when the wait is longer
    hold_pause: int = 15  # seconds of hold audio per loop, between announcements


@dataclass
class HoldService:
    handoff: QueueHandOff
    prompter: Prompter
    settings: HoldSettings
    audio: HoldAudio | None = None  # what plays between announcements (ivr/phone/hold_audio.py)

    # -------------------------------------------------------------- the waitUrl loop
    def wait(self, call_sid: str, queue: str, now: datetime, fallback: bool = False) -> str:
        """One pass of the hold loop. Announces position and estimate at most every
        `announce_every` seconds; keys are listened for throughout. A caller sent to the
        fallback queue (Redis or a flow failed) is put in our line as soon as Redis answers
        again, so agents reach them without anyone restarting anything."""
        visit, announced_at = self.handoff.visit_with(call_sid, "announced_at")
        if visit is None and fallback:
            visit, announced_at = self.adopt(call_sid, queue, now), ""  # joined: never told
        lang = visit.language if visit else "en-US"
        r = VoiceResponse()
        in_queue, position = self.handoff.service.place(call_sid)  # one read for both
        if visit is None or position is None:  # fallback queue, or an agent is being rung
            if visit:
                r.pause(length=2)
            else:
                self._hold(r, queue)
            return str(r)
        queue = in_queue or queue  # an overflow rule may have moved them
        gather = r.gather(input="dtmf", num_digits=1, timeout=1, method="POST",
                          action=self.handoff_urls().make("/voice/queue/key", queue=queue))
        if self._announce_due(call_sid, now, announced_at):
            told, (low, high) = self.handoff.forecast(queue, call_sid, now.timestamp(),
                                                      position)
            seconds = told.seconds
            words = describe_range(low, high, lang[:2] if lang[:2] in ("en", "es") else "en")
            if position == 1:
                self.prompter.speak(gather, "queue_next", lang)
            else:
                self.prompter.speak(gather, "queue_position", lang, position=position)
            self.prompter.speak(gather, "queue_estimate", lang, wait=words)
            if self._callbacks_offered(visit) and seconds > self.settings.offer_callback_above:
                self.prompter.speak(gather, "queue_offer_callback", lang)
            if visit.offer_voicemail:
                self.prompter.speak(gather, "queue_offer_voicemail", lang)
        else:
            self.prompter.speak(gather, "hold_message", lang)
        self._hold(gather, queue)
        return str(r)

    def _hold(self, target: Any, queue: str) -> None:
        """One loop's worth of hold audio: the queue's music, padded with silence to
        `hold_pause` when shorter (so the loop keeps its length), or silence alone when
        nothing is built or configured."""
        play = self.audio.for_queue(queue) if self.audio is not None else None
        if play is None:
            target.pause(length=self.settings.hold_pause)
            return
        target.play(play.url)
        rest = int(self.settings.hold_pause - (play.seconds or self.settings.hold_pause) + 0.5)
        if rest >= 1:
            target.pause(length=rest)

    def adopt(self, call_sid: str, queue: str, now: datetime) -> QueueEntry | None:
        """Join a fallback caller to our line; opening hours are not checked because the
        fallback already promised them a person."""
        stored = self.handoff.store.load(call_sid)
        caller = stored.caller if stored else {}
        refused = self.handoff.join(call_sid, Enqueue(queue, "fallback", None, 0, "fallback",
                                                      False, False), caller, now,
                                    seq=-1, language="en-US", check_hours=False)
        return None if refused else self.handoff.visit(call_sid)

    def handoff_urls(self) -> Any:
        return self.prompter.urls

    def current_queue(self, call_sid: str) -> str:
        """The queue the caller is in now (an overflow rule may have moved them)."""
        return text(self.handoff.service.conn.hget(keys.queue_entry(call_sid), "queue"))

    def _announce_due(self, call_sid: str, now: datetime, last: str) -> bool:
        """Whether to announce now, given when the caller last heard it (`last`, read with
        the visit); if so, the time is marked."""
        at = now.timestamp()
        if last and at - float(last) < self.settings.announce_every:
            return False
        self.handoff.store.mark(call_sid, announced_at=f"{at:.3f}")
        return True

    def _callbacks_offered(self, visit: QueueEntry) -> bool:
        if not visit.offer_callback:
            return False
        return self.handoff.service.config(visit.queue).callback.enabled

    # -------------------------------------------------------------- keys while holding
    def key(self, call_sid: str, digits: str, now: datetime) -> str:
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        if digits == "1" and self._callbacks_offered(visit):
            return self.callback(call_sid, "offer", "", 0, now)
        if digits == "2" and visit.offer_voicemail:
            self.handoff.store.mark(call_sid, queue_exit="voicemail")
            r = VoiceResponse()
            r.leave()
            return str(r)
        return str(VoiceResponse())  # any other key: back to the hold loop

    # -------------------------------------------------------------- callback dialogue
    def callback(self, call_sid: str, step: str, digits: str, tries: int,
                 now: datetime) -> str:
        visit = self.handoff.visit(call_sid)
        if visit is None or not self._callbacks_offered(visit):
            return str(VoiceResponse())
        caller = self.handoff.store.load(call_sid)
        caller_id = caller.caller.get("From", "") if caller else ""
        if step == "offer":
            return self._offer(visit, caller_id)
        if step == "confirm":
            return self._confirm(call_sid, visit, caller_id, digits, now)
        if step == "later":
            return self._later(call_sid, visit, caller_id, digits, tries, now)
        if step == "number":
            return self._keyed(call_sid, visit, caller_id, digits, tries, now)
        return str(VoiceResponse())

    def _keyed(self, call_sid: str, visit: QueueEntry, caller_id: str, digits: str,
               tries: int, now: datetime) -> str:
        """A number keyed by the caller, read as a phone in their country dials (the
        business's country when theirs is unknown or not served)."""
        settings = self.handoff.service.config(visit.queue).callback
        region = country_of(caller_id)
        keyed = keyed_number(digits, region if region in settings.countries else settings.home)
        refused = self._refused(visit, keyed)
        if refused is not None:
            return self._ask_number(visit, tries + 1, refused.refusal)
        return self._book(call_sid, visit, keyed, now, caller=caller_id, tries=tries + 1)

    def _refused(self, visit: QueueEntry, number: str) -> BadNumber | None:
        """Why the queue will not call `number` (type and country; the daily limit is the
        store's to count), or None."""
        try:
            validate_callback_number(number, self.handoff.service.config(
                visit.queue).callback.countries)
        except BadNumber as exc:
            return exc
        return None

    def _confirm(self, call_sid: str, visit: QueueEntry, caller_id: str, digits: str,
                 now: datetime) -> str:
        if digits == "1" and self._refused(visit, caller_id) is None:
            return self._book(call_sid, visit, caller_id, now, caller=caller_id)
        if digits == "2":
            return self._ask_number(visit, 0)
        if digits == "3" and self._refused(visit, caller_id) is None:
            return self._ask_later(visit, 0)
        return str(VoiceResponse())  # anything else: back to holding, place kept

    def _later(self, call_sid: str, visit: QueueEntry, caller_id: str, digits: str,
               tries: int, now: datetime) -> str:
        hours = int(digits) if digits.isdigit() else 0
        if not 1 <= hours <= MAX_LATER_HOURS:
            return self._ask_later(visit, tries + 1, invalid=True)
        return self._book(call_sid, visit, caller_id, now, not_before=now + timedelta(hours=hours),
                          retry=lambda: self._ask_later(visit, tries + 1, closed=True),
                          caller=caller_id)

    def _offer(self, visit: QueueEntry, caller_id: str) -> str:
        """Offer the caller ID; a caller ID we will not call (withheld, premium-rate,
        abroad: caller IDs can be spoofed) is not offered. When it is a real number we
        refuse, the caller hears why before being asked for another."""
        refused = self._refused(visit, caller_id)
        if refused is not None:  # say why, unless it is no number at all (withheld)
            return self._ask_number(visit, 0, None if refused.kind == "invalid" else
                                    refused.refusal)
        r = VoiceResponse()
        gather = r.gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                          action=self._url(visit, "confirm"))
        self.prompter.speak(gather, "callback_confirm_number", visit.language,
                            last_digits=caller_id[-4:])
        return str(r)

    def _ask_later(self, visit: QueueEntry, tries: int, invalid: bool = False,
                   closed: bool = False) -> str:
        r = VoiceResponse()
        if invalid:
            self.prompter.speak(r, "invalid_input", visit.language)
        if closed:
            self.prompter.speak(r, "callback_later_closed", visit.language)
        if tries >= MAX_NUMBER_TRIES:
            return str(r)
        gather = r.gather(input="dtmf", finish_on_key="#", timeout=8, method="POST",
                          action=self._url(visit, "later", tries))
        self.prompter.speak(gather, "callback_later", visit.language, most=MAX_LATER_HOURS)
        return str(r)

    def _ask_number(self, visit: QueueEntry, tries: int,
                    refused: Refusal | None = None) -> str:
        """Say why the last number was refused (if one was), then ask for a number; no
        answer, or MAX_NUMBER_TRIES refusals, goes back to the hold loop with the place
        kept. A daily limit is not asked again: another number would not lift it."""
        r = VoiceResponse()
        if refused is not None:
            self.prompter.speak(r, REFUSAL_PROMPTS[refused], visit.language)
        if tries >= MAX_NUMBER_TRIES or refused is Refusal.TOO_MANY:
            return str(r)  # back to the hold loop, place kept
        gather = r.gather(input="dtmf", finish_on_key="#", timeout=8, method="POST",
                          action=self._url(visit, "number", tries))
        self.prompter.speak(gather, "callback_enter_number", visit.language)
        return str(r)

    def _url(self, visit: QueueEntry, step: str, tries: int = 0) -> str:
        return self.prompter.urls.make("/voice/queue/callback", queue=visit.queue, step=step,
                                       tries=tries)

    def _book(self, call_sid: str, visit: QueueEntry, number: str, now: datetime,
              not_before: datetime | None = None, retry: Any = None, caller: str = "",
              tries: int = 1) -> str:
        """Persist the callback, then confirm it, then leave Twilio's queue."""
        r = VoiceResponse()
        queue = self.current_queue(call_sid) or visit.queue
        try:
            booked = self.handoff.service.callbacks.request(
                queue, number, now.timestamp(), call_sid=call_sid,
                not_before=not_before.timestamp() if not_before else None, caller=caller)
        except BadNumber as exc:
            log.info("call %s: callback number refused (%s): %s", call_sid, exc.kind, exc)
            return self._ask_number(visit, tries, exc.refusal)
        except ValueError as exc:  # the chosen time is outside the queue's hours
            log.info("call %s: callback time refused: %s", call_sid, exc)
            return retry() if retry else str(r)
        except Conflict as exc:
            log.info("call %s: callback refused: %s", call_sid, exc)
            self.prompter.speak(r, "callback_unavailable", visit.language)
            return str(r)
        if booked.outcome == "busy" or not booked.persisted:
            self.prompter.speak(r, "agent_connecting", visit.language)
            return str(r)
        self.handoff.store.mark(call_sid, queue_exit="callback", callback=booked.callback_id)
        self.handoff.publish("callback_requested", call_sid, {
            "callback": booked.callback_id, "queue": queue, "number": booked.number,
            "merged": booked.outcome == "merged"}, now)
        if booked.outcome == "merged":
            self.prompter.speak(r, "callback_merged", visit.language)
        elif not_before is not None:
            hours = round((not_before - now).total_seconds() / 3600)
            self.prompter.speak(r, "callback_booked_later", visit.language, hours=hours)
        else:
            _, (low, high) = self.handoff.forecast(queue, f"cb:{booked.callback_id}",
                                                   now.timestamp())
            lang = visit.language[:2] if visit.language[:2] in ("en", "es") else "en"
            self.prompter.speak(r, "callback_booked", visit.language,
                                wait=describe_range(low, high, lang))
        r.leave()
        return str(r)

