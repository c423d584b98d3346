"""<Dial><Conference>: a leg's life in a conference room (the room itself is `conference.py`).

The leg joins the room named by the noun and stays until:
* it is removed (REST participant DELETE) or the room ends: then its Dial `action` is
  requested (DialCallStatus=completed, DialCallDuration, ConferenceSid) and the call goes on
  with the answer; without an action, with the next verb;
* the REST API redirects or hangs up the call: it leaves without the action (as Twilio does);
* it hangs up itself: the script's `hangup`, an answering callee's talk time running out
  (`CallLeg.hangup_after`), its simulated device hanging up, or the loop bounds. Twilio still
  requests the action then (its answer is ignored).

Meanwhile it hears, by phase: the waitUrl (before the room starts; looped like Enqueue's waitUrl,
Twilio's default music without one, silence for waitUrl=""), the HoldUrl while held (HoldMethod,
default GET), announcements, or the conversation. The script in the room: `wait N` talks N
seconds, `hangup` hangs up; while waiting or held, `hold N` counts waitUrl and HoldUrl loops as
in a queue. `press` and `say` steps are left for a later menu (the survey after the agent), and
the caller stays meanwhile, as with no steps left.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from devkit.twilio_standin.conference import Conference, Conferences, Participant
from devkit.twilio_standin.leg_steps import (
    Document,
    End,
    Goto,
    Inline,
    LegInterrupted,
    Next,
    Nudge,
    RemoteHangup,
    dial_action,
    text_of,
)
from devkit.twilio_standin.queue_wait import DEFAULT_MUSIC_SECONDS, caller_hangs_up

LIVE_CHUNK = 10.0  # seconds a live leg waits between looks at its script and state


def flag(el: ET.Element, name: str, default: bool) -> bool:
    value = el.get(name)
    return default if value is None else value.lower() == "true"


def conferences_of(leg: Any) -> Conferences:
    """The stand-in's shared rooms; a lone CallLeg gets rooms of its own (no callbacks)."""
    if getattr(leg, "conferences", None) is None:
        leg.conferences = Conferences(None)
    return leg.conferences


def dial_conference(leg: Any, el: ET.Element, doc: Document, noun: ET.Element) -> Next:
    name = text_of(noun)
    wait_attr = noun.get("waitUrl")
    wait_url = leg.resolve(wait_attr, doc) if wait_attr else wait_attr  # "" means silence
    callback = None
    if noun.get("statusCallback"):
        url = leg.resolve(noun.get("statusCallback"), doc)
        events = frozenset((noun.get("statusCallbackEvent") or "start end").split())
        if url:
            callback = (url, noun.get("statusCallbackMethod", "POST"), events)
    part = Participant(leg.call_sid, leg, label=noun.get("participantLabel"),
                       start_on_enter=flag(noun, "startConferenceOnEnter", True),
                       end_on_exit=flag(noun, "endConferenceOnExit", False),
                       muted=flag(noun, "muted", False))
    if noun.get("coach"):
        part.coaching, part.call_sid_to_coach = True, noun.get("coach")
    rooms = conferences_of(leg)
    leg.in_conference = True
    try:
        return in_room(leg, el, doc, (rooms, part, callback, name),
                       (wait_url, noun.get("waitMethod", "POST")))
    finally:
        leg.in_conference = False
        leg.drop_nudge()


def in_room(leg: Any, el: ET.Element, doc: Document,
            joining: tuple[Conferences, Participant, Any, str],
            wait: tuple[str | None, str]) -> Next:
    """Join the room, stay, leave: what comes next for the leg (see the module's doc)."""
    rooms, part, callback, name = joining
    room = rooms.join(leg.options.account_sid, name, part, callback)
    joined = leg.clock.now()
    leg.note("twilio", "conference", f"joined conference {name} ({room.sid}) as "
             f"{part.label or 'a participant'}" + (", muted" if part.muted else ""))
    if part.coaching:
        from devkit.twilio_standin.conference import note_coaching

        with room.lock:
            note_coaching(room, part)
    try:
        why = stay(leg, room, part, wait)
    except LegInterrupted as exc:
        if not (isinstance(exc.cause, RemoteHangup) and exc.cause.own):
            rooms.leave(room, part)
            leg.note("twilio", "conference", f"left conference {name}: the call was updated "
                     "through the REST API (no Dial action)")
            raise
        why = exc.cause.reason
    seconds = int(leg.clock.now() - joined)
    params = (("DialCallStatus", "completed"), ("DialCallDuration", str(seconds)),
              ("ConferenceSid", room.sid))
    if why in ("removed", "conference-ended"):
        leg.note("twilio", "conference", f"left conference {name} after {seconds}s ({why})")
        return dial_action(leg, el, doc, params)
    rooms.leave(room, part)
    leg.note("twilio", "conference", f"left conference {name} after {seconds}s (hung up)")
    leg.status = "completed"
    nxt = dial_action(leg, el, doc, params)
    if isinstance(nxt, Goto):  # Twilio requests the action; a hung-up call runs nothing
        leg.notify(nxt.url, nxt.method, nxt.params, "dial action")
    return End(why)


def stay(leg: Any, room: Conference, part: Participant, wait: tuple[str | None, str]) -> str:
    """Play the room until the leg leaves; returns why: removed, conference-ended, or the
    reason the leg hung up."""
    loops = 0
    talk_started: float | None = None
    shown = ""
    while True:
        try:
            phase = room.phase(part)
            if phase == "gone":
                return part.gone or "removed"
            hear_announcements(leg, part)
            if phase != shown:
                note_phase(leg, part, phase, wait[0])
                shown = phase
            if phase in ("waiting", "held"):
                url, method = wait if phase == "waiting" else (part.hold_url, part.hold_method)
                if loop_once(leg, url, method, "waitUrl" if phase == "waiting" else "holdUrl"):
                    return "the app hung up in the conference"
                loops += 1
                if caller_hangs_up(leg, loops):
                    return "the caller hung up in the conference"
                continue
            talk_started = leg.clock.now() if talk_started is None else talk_started
            why = live_step(leg, leg.clock.now() - talk_started)
            if why:
                return why
        except LegInterrupted as exc:
            if not isinstance(exc.cause, Nudge):
                raise


def note_phase(leg: Any, part: Participant, phase: str, wait_url: str | None) -> None:
    if phase == "waiting":
        heard = ("silence" if wait_url == "" else f"wait music {wait_url}" if wait_url
                 else "Twilio's default wait music")
        leg.note("twilio", "waiting", f"waiting for the conference to start: hears {heard}")
    elif phase == "held":
        heard = (f"hold music {part.hold_url}" if part.hold_url
                 else "Twilio's default hold music")
        leg.note("twilio", "held", f"on hold: hears {heard}")
    else:
        leg.note("twilio", "talking", "in the conference, talking"
                 + (" (muted)" if part.muted else ""))


def loop_once(leg: Any, url: str | None, method: str, label: str) -> bool:
    """One pass of the waitUrl or HoldUrl document; True when its TwiML hung up (or failed,
    which ends the call as on Twilio)."""
    started = leg.clock.now()
    if not url:
        leg.wait(DEFAULT_MUSIC_SECONDS)
        return False
    nxt: Next = Goto(url, method or "POST", (), "wait", label)
    while isinstance(nxt, Goto | Inline):
        doc = leg.load(nxt)
        if doc is None:
            return True
        nxt = leg.execute(doc)
    if isinstance(nxt, End):
        leg.note("twilio", "hangup", nxt.reason)
        return True
    if leg.clock.now() - started < 1:  # an empty document must not spin
        leg.wait(1)
    return False


def hear_announcements(leg: Any, part: Participant) -> None:
    """AnnounceUrl (participant or room): fetch its TwiML and play it to this leg."""
    while part.announcements:
        url, method = part.announcements.pop(0)
        leg.note("twilio", "announce", "announcement", url=url)
        doc = leg.webhook(url, method, (), "wait", "announceUrl")
        if doc is not None:
            leg.execute(doc)


def live_step(leg: Any, talked: float) -> str | None:
    """One step of the conversation; the reason when the leg hangs up. Only `wait N` (talk)
    and `hangup` are the conversation's: keys, speech and holds wait for a later menu or
    queue, so the caller stays while one of those is next."""
    step = leg.script.peek()
    if step is not None and step.kind in ("wait", "hangup"):
        leg.script.pop()
        if step.kind == "hangup":
            leg.note("caller", "hangup", "hangs up in the conference")
            return "the caller hung up in the conference"
        leg.note("caller", "talk", f"talks {step.count}s")
        leg.wait(step.count)
        return None
    if leg.hangup_after is not None:
        left = leg.hangup_after - talked
        if left <= 0:
            leg.note("callee", "hangup", f"hangs up after talking {talked:g}s")
            return "the callee hung up"
        leg.wait(min(left, LIVE_CHUNK))
        return None
    if talked >= leg.options.max_conference_seconds:
        leg.note("caller", "hangup", f"hangs up after {talked:g}s in the conference")
        return "the caller hung up in the conference"
    leg.wait(LIVE_CHUNK)
    return None
