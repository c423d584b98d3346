"""<Enqueue> and <Dial><Queue>: the hold loop (WEBHOOKS.md 3.3 and 3.4).

The leg joins the named queue, then requests the waitUrl with the queue parameters and runs its
TwiML (Play, Say, Pause, Gather, Redirect, Leave, Hangup); when that runs out of verbs it asks
again, letting at least a second of simulated time pass per loop. It leaves when <Leave> runs,
when the REST API redirects or bridges it, when the script hangs up or the app sends <Hangup>,
or after `max_hold_loops` loops (the caller gives up). Then it posts the Enqueue action with
QueueResult, QueueSid and QueueTime.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from devkit.twilio_standin.leg_steps import (
    Bridged,
    Document,
    End,
    Goto,
    Inline,
    LeaveQueue,
    LegInterrupted,
    Next,
    Redirected,
    RemoteHangup,
    dial_action,
    int_attr,
    text_of,
)
from devkit.twilio_standin.queues import QueueFullError

DEFAULT_MUSIC_SECONDS = 30.0


def enqueue(leg: Any, el: ET.Element, doc: Document) -> Next:
    name = text_of(el)
    wait_url = leg.resolve(el.get("waitUrl"), doc) if el.get("waitUrl") else None
    max_size = int_attr(el, "maxQueueSize", 0) or None
    entered = leg.clock.now()
    try:
        queue = leg.queues.join(name, leg.call_sid, leg, entered, max_size)
    except QueueFullError:
        leg.note("twilio", "queue", f"queue {name} is full")
        return after_queue(leg, el, doc, ("queue-full", None, 0, None))
    leg.queue_name = name
    leg.note("twilio", "enqueue", f"queue {name} ({queue.sid})")
    try:
        result, cause = hold(leg, name, wait_url, el.get("waitUrlMethod", "POST"))
    finally:
        leg.queues.leave(name, leg.call_sid)
        leg.queue_name = None
    waited = int(leg.clock.now() - entered)
    return after_queue(leg, el, doc, (result, queue.sid, waited, cause))


def hold(leg: Any, name: str, wait_url: str | None, method: str) -> tuple[str, Any]:
    """Loop on the waitUrl; return (QueueResult, the interruption that ended it or None)."""
    loops = 0
    while True:
        try:
            outcome = hold_once(leg, name, wait_url, method)
            if outcome:
                return outcome, None
            loops += 1
            if caller_hangs_up(leg, loops):
                return "hangup", None
        except LegInterrupted as exc:
            cause = exc.cause
            if not isinstance(cause, RemoteHangup):
                drop_hold_step(leg)
            if isinstance(cause, Redirected):
                return "redirected", cause
            if isinstance(cause, Bridged):
                return "bridged", cause
            return "hangup", cause


def drop_hold_step(leg: Any) -> None:
    """`hold N` means "hold for at most N loops": once the app takes the caller out of the
    queue (to an agent), what is left of it no longer applies."""
    step = leg.script.peek()
    if step is not None and step.kind == "hold":
        leg.script.pop()


def hold_once(leg: Any, name: str, wait_url: str | None, method: str) -> str | None:
    """One pass of the waitUrl document; a QueueResult when it ends the wait."""
    started = leg.clock.now()
    if wait_url is None:
        leg.note("twilio", "music", "Twilio's default hold music")
        leg.wait(DEFAULT_MUSIC_SECONDS)
        return None
    stats = leg.queues.stats(name, leg.call_sid, started)
    nxt: Next = Goto(wait_url, method, tuple(stats.items()), "wait", "waitUrl")
    while isinstance(nxt, Goto | Inline):
        doc = leg.load(nxt)
        if doc is None:
            return "error"
        nxt = leg.execute(doc)
    if isinstance(nxt, LeaveQueue):
        return "leave"
    if isinstance(nxt, End):
        leg.note("twilio", "hangup", nxt.reason)
        return "hangup"
    if leg.clock.now() - started < 1:  # an empty wait document must not spin
        leg.wait(1)
    return None


def caller_hangs_up(leg: Any, loops: int) -> bool:
    """After each loop: use up `hold N` and `wait N` steps; `hangup` ends the wait, and so
    does the loop bound. Keys and speech wait for a <Gather> in the wait document."""
    step = leg.script.peek()
    if step is not None and step.kind == "hangup":
        leg.script.pop()
        leg.note("caller", "hangup", "hangs up while on hold")
        return True
    if step is not None and step.kind == "hold":
        step.count -= 1
        if step.count <= 0:
            leg.script.pop()
    elif step is not None and step.kind == "wait":
        leg.script.pop()
        leg.wait(step.count)
    if loops >= leg.options.max_hold_loops:
        leg.note("caller", "hangup", f"gives up after {loops} hold loops")
        return True
    return False


def after_queue(leg: Any, el: ET.Element, doc: Document,
                left: tuple[str, str | None, int, Any]) -> Next:
    result, queue_sid, waited, cause = left
    params: tuple[tuple[str, str], ...] = (("QueueResult", result),)
    if queue_sid:
        params += (("QueueSid", queue_sid), ("QueueTime", str(waited)))
    leg.note("twilio", "dequeued", f"QueueResult={result} after {waited}s")
    if isinstance(cause, Bridged):
        leg.note("callee", "bridged", f"talking with {cause.partner_sid}")
        leg.clock.sleep(cause.talk_seconds)
    action = leg.resolve(el.get("action"), doc) if el.get("action") else None
    method = el.get("method", "POST")
    if result in ("hangup", "redirected"):
        if action:  # Twilio still posts the action, but its TwiML is not run
            leg.notify(action, method, params, "enqueue action")
        return leg.on_interrupt(cause) if cause else End("the caller left the queue: hangup")
    if action is None:
        return None  # no action: fall through to the next verb (WEBHOOKS.md 3.4)
    return Goto(action, method, params, label="enqueue action")


def dial_queue(leg: Any, el: ET.Element, doc: Document, name: str) -> Next:
    """<Dial><Queue>: bridge with the member at the front; an empty queue rings out the Dial
    timeout and gives DialCallStatus=no-answer."""
    member = leg.queues.front(name)
    if member is None:
        leg.note("twilio", "dial", f"queue {name} is empty")
        leg.wait(int_attr(el, "timeout", 30))
        return dial_action(leg, el, doc, (("DialCallStatus", "no-answer"),
                                          ("DialCallDuration", "0")))
    leg.queues.leave(name, member.call_sid)
    talk = leg.options.talk_seconds
    member.leg.interrupt(Bridged(leg.call_sid, talk))
    leg.note("twilio", "bridged", f"with {member.call_sid} from queue {name}")
    leg.wait(talk)
    return dial_action(leg, el, doc, (
        ("DialCallStatus", "completed"), ("DialCallSid", member.call_sid),
        ("DialCallDuration", str(int(talk))), ("DialBridged", "true"),
        ("QueueSid", leg.queues.get_or_create(name).sid)))
