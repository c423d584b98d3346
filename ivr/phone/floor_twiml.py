"""TwiML of the agent floor (docs/agent-floor.md): the caller's and every other leg's
`<Dial><Conference>` and the audio of the wait and hold URLs. Must not touch Redis or the
request: the services decide, this only writes the documents.
"""

from __future__ import annotations

from ivr.domain.floor import conference_name
from ivr.phone.twiml import Urls
from ivr.phone.twiml_builder import Verb

CONFERENCE_EVENTS = "start end join leave mute hold"


def caller_conference(target: Verb, urls: Urls, call: str, action: str) -> None:
    """The caller waits in their conference (hearing `/voice/floor/wait`) until an agent-side
    leg joins; when the caller leaves, the conference ends (every other leg drops)."""
    dial = target.dial(action=action, method="POST")
    dial.nest("Conference", conference_name(call), start_conference_on_enter=False,
              end_conference_on_exit=True, beep=False, participant_label="caller",
              wait_url=urls.make("/voice/floor/wait", call=call), wait_method="POST",
              status_callback=urls.make("/voice/floor/events", call=call),
              status_callback_event=CONFERENCE_EVENTS, status_callback_method="POST")


def leg_conference(target: Verb, urls: Urls, call: str, role: str, who: str, leg: str,
                   mode: str | None = None, coach: str | None = None) -> None:
    """An agent-side or monitor leg joins; its Dial action (`/voice/floor/left`) says when it
    left. A listening monitor is muted, a whispering one coaches the agent's leg.

    Every leg names the conference's status callback, not only the caller's: the room takes
    its callback from the first participant that joins with one, and an agent can be first
    (the caller still hears the recording notice and "connecting"). Without it here the
    app heard nothing of the agent's join, and the console's moves (which wait for both
    participant-joins) never became possible."""
    dial = target.dial(action=urls.make("/voice/floor/left", call=call, role=role, who=who,
                                        leg=leg), method="POST")
    attrs: dict[str, object] = {}
    if role == "monitor":
        attrs["muted"] = mode == "listen"
        if mode == "whisper" and coach:
            attrs["coach"] = coach
    dial.nest("Conference", conference_name(call), start_conference_on_enter=True,
              end_conference_on_exit=False, beep=False, participant_label=role,
              status_callback=urls.make("/voice/floor/events", call=call),
              status_callback_event=CONFERENCE_EVENTS, status_callback_method="POST", **attrs)
