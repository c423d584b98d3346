"""Conference rooms as Twilio keeps them: one live room per FriendlyName per account (a
ConferenceSid "CF..."), its participants (one per call leg) and the status callbacks.

A room is `init` until at least two participants are in and one of them has
startConferenceOnEnter=true, then `in-progress`; it is `completed` when a participant with
endConferenceOnExit leaves (or is removed), when the last participant leaves, or through the
REST API. A later <Conference> with the same name opens a new room with a new sid.

Shared by the legs' threads and the REST handlers: every room has its own lock (the registry
has one for its name map; the order is always registry, then room, then a leg's own lock). A
change that concerns a leg (its room started or ended, it was removed, put on hold) sets the
participant's state under the room's lock and wakes the leg with a `Nudge`; the leg's loop
(`conference_leg.py`) reads its state again.

Status callbacks (statusCallback, statusCallbackEvent: start end join leave mute hold) go to
the URL of the first participant that joined with one, through the stand-in's
`CallbackSender`, with ConferenceSid, FriendlyName, AccountSid, StatusCallbackEvent,
SequenceNumber (1, 2, ... per room), Timestamp, and for participant events CallSid, Muted, Hold,
Coaching, EndConferenceOnExit, StartConferenceOnEnter, ParticipantLabel (and CallSidToCoach);
conference-end adds ReasonConferenceEnded and CallSidEndingConference.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from devkit.twilio_standin.callbacks import Callback, CallbackSender
from devkit.twilio_standin.leg_steps import Nudge
from devkit.twilio_standin.queues import new_sid
from devkit.twilio_standin.rest_json import date

DEFAULT_EVENTS = frozenset({"start", "end"})
EVENT_GROUP = {"conference-start": "start", "conference-end": "end",
               "participant-join": "join", "participant-leave": "leave",
               "participant-mute": "mute", "participant-unmute": "mute",
               "participant-hold": "hold", "participant-unhold": "hold",
               "participant-modify": "modify", "announcement-end": "announcement"}


@dataclass
class Participant:
    call_sid: str
    leg: Any
    label: str | None = None
    start_on_enter: bool = True
    end_on_exit: bool = False
    muted: bool = False
    hold: bool = False
    hold_url: str | None = None
    hold_method: str = "GET"
    coaching: bool = False
    call_sid_to_coach: str | None = None
    joined_at: float = field(default_factory=time.time)
    gone: str | None = None  # why the leg must leave: "removed" or "conference-ended"
    announcements: list[tuple[str, str]] = field(default_factory=list)  # (url, method)


@dataclass
class Conference:
    sid: str
    name: str
    account_sid: str
    status: str = "init"
    participants: dict[str, Participant] = field(default_factory=dict)
    callback_url: str | None = None
    callback_method: str = "POST"
    callback_events: frozenset[str] = DEFAULT_EVENTS
    reason_ended: str | None = None
    call_sid_ending: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    log: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    sequence: int = 0

    def phase(self, part: Participant) -> str:
        """What the participant's leg does now: gone, held, waiting (not started), live."""
        with self.lock:
            if part.gone:
                return "gone"
            if part.hold:
                return "held"
            return "waiting" if self.status == "init" else "live"


class Conferences:
    """Every room of one stand-in; `sender` posts the status callbacks."""

    def __init__(self, sender: CallbackSender | None) -> None:
        self.sender = sender
        self._lock = threading.Lock()
        self._live: dict[tuple[str, str], Conference] = {}
        self._all: dict[str, Conference] = {}

    # -- lookups -----------------------------------------------------------------------------

    def by_sid(self, sid: str) -> Conference | None:
        with self._lock:
            return self._all.get(sid)

    def all(self) -> list[Conference]:
        with self._lock:
            return list(self._all.values())

    def of_leg(self, call_sid: str) -> tuple[Conference, Participant] | None:
        with self._lock:
            rooms = [c for c in self._all.values() if c.status != "completed"]
        for room in rooms:
            with room.lock:
                part = room.participants.get(call_sid)
            if part is not None:
                return room, part
        return None

    def forget(self, call_sids: set[str]) -> None:
        """Drop every ended room when the stand-in forgets ended legs (a soak would
        otherwise keep them all); live rooms stay."""
        with self._lock:
            for sid, room in list(self._all.items()):
                if room.status == "completed":
                    del self._all[sid]
                    if self._live.get((room.account_sid, room.name)) is room:
                        del self._live[(room.account_sid, room.name)]

    # -- the leg's side ----------------------------------------------------------------------

    def join(self, account_sid: str, name: str, part: Participant,
             callback: tuple[str, str, frozenset[str]] | None) -> Conference:
        """Put `part` in the live room called `name` (opening one when there is none)."""
        with self._lock:
            room = self._live.get((account_sid, name))
            if room is None or room.status == "completed":
                room = Conference(new_sid("CF"), name, account_sid)
                self._live[(account_sid, name)] = room
                self._all[room.sid] = room
            with room.lock:
                if room.callback_url is None and callback is not None:
                    room.callback_url, room.callback_method, room.callback_events = callback
                room.participants[part.call_sid] = part
                self.emit(room, "participant-join", part)
                self._log(room, f"{part.call_sid} joined ({part.label or 'no label'})")
                if room.status == "init" and len(room.participants) >= 2 and any(
                        p.start_on_enter for p in room.participants.values()):
                    room.status = "in-progress"
                    self.emit(room, "conference-start")
                    self._log(room, "started")
                    self._nudge_all(room)
        return room

    def leave(self, room: Conference, part: Participant) -> None:
        """The leg leaves (it hung up, was redirected, or its removal reached it). A leaving
        endConferenceOnExit participant, or the last one, ends the room."""
        with room.lock:
            part.leg.drop_nudge()
            if room.participants.pop(part.call_sid, None) is None:
                return  # already taken out by remove() or end()
            self.emit(room, "participant-leave", part)
            self._log(room, f"{part.call_sid} left")
            if part.end_on_exit:
                self.end(room, "participant-with-end-conference-on-exit-left", part.call_sid)
            elif not room.participants:
                self.end(room, "last-participant-left", part.call_sid)

    # -- the REST side -----------------------------------------------------------------------

    def remove(self, room: Conference, part: Participant) -> None:
        """Participants/{CA}.json DELETE: the leg leaves and goes on with its Dial action."""
        with room.lock:
            if room.participants.pop(part.call_sid, None) is None:
                return
            part.gone = "removed"
            self.emit(room, "participant-leave", part)
            self._log(room, f"{part.call_sid} removed through the REST API")
            part.leg.note("twilio", "conference", f"removed from conference {room.name} "
                          "through the REST API")
            part.leg.interrupt(Nudge())
            if part.end_on_exit:
                self.end(room, "participant-with-end-conference-on-exit-kicked", part.call_sid)
            elif not room.participants:
                self.end(room, "last-participant-kicked", part.call_sid)

    def end(self, room: Conference, reason: str, by: str | None = None) -> None:
        """The room is over: every participant leaves (participant-leave each), then
        conference-end; their legs go on with their Dial actions."""
        with room.lock:
            if room.status == "completed":
                return
            for part in list(room.participants.values()):
                room.participants.pop(part.call_sid)
                part.gone = "conference-ended"
                self.emit(room, "participant-leave", part)
                part.leg.note("twilio", "conference", f"conference {room.name} ended ({reason})")
                part.leg.interrupt(Nudge())
            room.status, room.reason_ended, room.call_sid_ending = "completed", reason, by
            self.emit(room, "conference-end")
            self._log(room, f"ended: {reason}")
        # The name map keeps the ended room until the next join replaces it: taking the
        # registry's lock here (under the room's) would invert the lock order of join().

    def update_participant(self, room: Conference, part: Participant,
                           changes: dict[str, Any]) -> bool:
        """Participants/{CA}.json POST: Hold (with HoldUrl, HoldMethod), Muted, Coaching
        (with CallSidToCoach), AnnounceUrl; each change is noted on the leg and wakes it."""
        leg = part.leg
        with room.lock:
            if room.participants.get(part.call_sid) is not part:
                return False  # it left meanwhile
            if "hold" in changes:
                part.hold_url = changes.get("hold_url", part.hold_url)
                part.hold_method = changes.get("hold_method") or part.hold_method
                if changes["hold"] != part.hold:
                    part.hold = changes["hold"]
                    leg.note("twilio", "hold", "put on hold" if part.hold else "taken off hold")
                    self.emit(room, "participant-hold" if part.hold else "participant-unhold",
                              part)
            if "muted" in changes and changes["muted"] != part.muted:
                part.muted = changes["muted"]
                leg.note("twilio", "mute", "muted in the conference" if part.muted
                         else "unmuted in the conference")
                self.emit(room, "participant-mute" if part.muted else "participant-unmute", part)
            if "coaching" in changes or "call_sid_to_coach" in changes:
                part.coaching = changes.get("coaching", part.coaching)
                part.call_sid_to_coach = changes.get("call_sid_to_coach",
                                                     part.call_sid_to_coach)
                note_coaching(room, part)
                self.emit(room, "participant-modify", part)
            if changes.get("announce_url"):
                part.announcements.append((changes["announce_url"],
                                           changes.get("announce_method") or "POST"))
            room.updated_at = time.time()
            leg.interrupt(Nudge())
            return True

    def announce(self, room: Conference, url: str, method: str) -> None:
        """Conferences/{CF}.json AnnounceUrl: every participant hears it."""
        with room.lock:
            for part in room.participants.values():
                part.announcements.append((url, method))
                part.leg.interrupt(Nudge())

    # -- callbacks ---------------------------------------------------------------------------

    def emit(self, room: Conference, event: str, part: Participant | None = None) -> None:
        """Queue the status callback for `event` when the room asked for that group."""
        with room.lock:
            room.updated_at = time.time()
            if (room.callback_url is None or self.sender is None
                    or EVENT_GROUP.get(event) not in room.callback_events):
                return
            room.sequence += 1
            params: list[tuple[str, str]] = [
                ("AccountSid", room.account_sid), ("ConferenceSid", room.sid),
                ("FriendlyName", room.name), ("StatusCallbackEvent", event),
                ("SequenceNumber", str(room.sequence)), ("Timestamp", date())]
            if part is not None:
                params += participant_params(part)
            if event == "conference-end":
                params += [("ReasonConferenceEnded", room.reason_ended or ""),
                           ("Reason", room.reason_ended or "")]
                if room.call_sid_ending:
                    params.append(("CallSidEndingConference", room.call_sid_ending))
            label = f"conference status callback ({event})"
            self.sender.post(Callback(room.callback_url, room.callback_method, tuple(params),
                                      label, part.leg if part else None))

    def _nudge_all(self, room: Conference) -> None:
        for part in room.participants.values():
            part.leg.interrupt(Nudge())

    def _log(self, room: Conference, text: str) -> None:
        room.log.append(f"{date()} {text}")


def participant_params(part: Participant) -> list[tuple[str, str]]:
    def flag(value: bool) -> str:
        return "true" if value else "false"

    params = [("CallSid", part.call_sid), ("Muted", flag(part.muted)),
              ("Hold", flag(part.hold)), ("Coaching", flag(part.coaching)),
              ("EndConferenceOnExit", flag(part.end_on_exit)),
              ("StartConferenceOnEnter", flag(part.start_on_enter))]
    if part.label:
        params.append(("ParticipantLabel", part.label))
    if part.coaching and part.call_sid_to_coach:
        params.append(("CallSidToCoach", part.call_sid_to_coach))
    return params


def note_coaching(room: Conference, part: Participant) -> None:
    """Coaching: only the coached participant hears this leg; the others do not."""
    if part.coaching and part.call_sid_to_coach:
        part.leg.note("twilio", "coach", f"coaching {part.call_sid_to_coach}: only that "
                      "participant hears this leg")
        coached = room.participants.get(part.call_sid_to_coach)
        if coached is not None:
            coached.leg.note("twilio", "coach", f"hears coach {part.call_sid} (the others "
                             "do not)")
    else:
        part.leg.note("twilio", "coach", "not coaching: a full participant")
