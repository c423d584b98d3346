"""What each node type does when entered, and when the answer it waited for comes back.

`enter(run, node)` speaks the node's prompts, emits its action, and returns the next node id
to walk to, or None when the node waits (or ended the call). `resume(run, node, event)` takes
the matching event and returns the next node id, or None when it re-prompted. The interpreter
(`interpreter.py`) owns the walk, the loop guard and the failure path; this module owns node
semantics. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ivr.domain.flow import answers
from ivr.domain.flow import model as m
from ivr.domain.flow.actions import CallEvent, Dial, Enqueue, Gather, Lookup, Record, Visit
from ivr.domain.flow.templating import Template, render

if TYPE_CHECKING:
    from ivr.domain.flow.interpreter import Run

Next = str | None
_ASKING = (m.MenuNode, m.InputNode, m.SurveyNode)  # a tuple: cheaper to test than a union


class WrongEvent(ValueError):
    """The adapter sent an event the waiting node cannot take; the call goes to fallback."""


def enter(run: Run, node: m.Node) -> Next:
    run.visit(node.id)
    if node.resolves:
        run.note("self_service", {"node": node.id, "task": node.resolves, "solved": True})
    if node.fails:
        run.note("self_service", {"node": node.id, "task": node.fails, "solved": False})
    if isinstance(node, m.SurveyNode):
        run.vars["_survey"] = {**run.vars.get("_survey", {}), node.id: 0}
    if isinstance(node, _ASKING):
        return _ask(run, node, ())
    run.say(node.say)
    return _ENTER[type(node)](run, node)


def resume(run: Run, node: m.Node, event: CallEvent) -> Next:
    kind, handler = _RESUME[type(node)]
    if event.kind != kind:
        raise WrongEvent(f"node {node.id} waits for {kind}, got {event.kind}")
    return handler(run, node, event)


# -- speaking nodes --------------------------------------------------------------------------


def _say(run: Run, node: Any) -> Next:
    return node.next  # type: ignore[no-any-return]


def _set(run: Run, node: m.SetNode) -> Next:
    context = run.context().snapshot()  # every value from the context before the node
    for name, value in node.values.items():
        run.vars[name] = render(value, context, run.language) if isinstance(
            value, Template) else value
    return node.next


def _goto(run: Run, node: m.GotoNode) -> Next:
    return node.target


def _branch(run: Run, node: m.BranchNode) -> Next:
    context = run.context()
    for case in node.cases:
        if case.test(context):
            _detail(run, f"if {case.source}")
            return case.goto
    return node.otherwise


def _hours(run: Run, node: m.HoursNode) -> Next:
    status = run.schedule_status(node.schedule)
    _detail(run, status)
    return {"open": node.open, "closed": node.closed, "holiday": node.holiday,
            "emergency": node.emergency}[status]


def _detail(run: Run, detail: str) -> None:
    """Put `detail` on the visit just recorded (why a branch or hours node went where)."""
    last = run.path[-1]
    run.path[-1] = Visit(last.node, last.at, detail)


# -- waiting nodes ---------------------------------------------------------------------------


def _lookup(run: Run, node: m.LookupNode) -> Next:
    context = run.context()
    params = {name: render(t, context, run.language) for name, t in node.params.items()}
    run.wait(node, Lookup(node.source, params, node.timeout))
    return None


def _queue(run: Run, node: m.QueueNode) -> Next:
    ref = run.flow.queues[node.queue]
    skill = node.skill or ref.skill
    run.outcome["queue"] = {"queue": node.queue, "skill": skill, "reason": node.reason,
                            "node": node.id}
    run.wait(node, Enqueue(node.queue, node.id, skill, node.priority, node.reason,
                           node.offer_callback, node.offer_voicemail))
    return None


def _voicemail(run: Run, node: m.VoicemailNode) -> Next:
    run.wait(node, Record(max_length=node.max_length, mailbox=node.mailbox))
    return None


def _transfer(run: Run, node: m.TransferNode) -> Next:
    run.wait(node, Dial(node.number, node.timeout, node.caller_id))
    return None


def _hangup(run: Run, node: m.HangupNode) -> Next:
    run.end(node.reason)
    return None


def _ask(run: Run, node: m.MenuNode | m.InputNode | m.SurveyNode,
         before: Sequence[m.Prompt]) -> Next:
    """Emit the node's Gather, after `before` (an invalid/no-input apology) if any."""
    language = run.language
    first = not isinstance(node, m.SurveyNode) or _question(run, node) == 0
    prompts = run.speech([*before, *(node.say if first else ())])
    if isinstance(node, m.MenuNode):
        gather = Gather(prompts, "dtmf speech" if node.speech else "dtmf", 1,
                        timeout=node.timeout, hints=answers.menu_hints(node, language),
                        language=language)
    elif isinstance(node, m.InputNode):
        fixed = node.max_length if node.min_length == node.max_length else None
        gather = Gather(prompts, "dtmf speech" if node.speech else "dtmf", fixed,
                        node.finish_on_key, node.timeout, language=language)
    else:
        question = node.questions[_question(run, node)]
        gather = Gather((*prompts, *run.speech(question.prompt)), "dtmf speech", 1,
                        timeout=node.timeout, language=language,
                        hints=_survey_hints(run, node, question.kind))
    run.wait(node, gather)
    return None


def _survey_hints(run: Run, node: m.SurveyNode, kind: str) -> tuple[str, ...]:
    hints = ("yes", "no", "sí") if kind == "yes_no" else ("one", "two", "three", "four", "five")
    return hints + (m.human_words(run.language) if node.human else ())


def _retry(run: Run, node: m.MenuNode | m.InputNode, silent: bool) -> Next:
    """Re-prompt up to `retries` times, then go to on_failure (a human by default)."""
    run.attempts += 1
    why = "no input" if silent else "invalid input"
    if run.attempts > node.retries:
        run.visit(node.id, f"{why}; retries used up")
        return node.on_failure
    run.visit(node.id, f"{why}; retry {run.attempts} of {node.retries}")
    own = node.no_input if silent else node.invalid
    apology = own or run.system("no_input" if silent else "invalid_input")
    return _ask(run, node, apology)


def _log_input(run: Run, node: m.Node, event: CallEvent) -> None:
    if event.digits:
        run.note("inputs", {"node": node.id, "digits": event.digits})
    elif event.speech:
        run.note("inputs", {"node": node.id, "speech": event.speech,
                            "confidence": event.confidence})


def _menu_answer(run: Run, node: m.MenuNode, event: CallEvent) -> Next:
    digits = (event.digits or "").strip()
    if not digits and not (event.speech or "").strip():
        return _retry(run, node, silent=True)
    _log_input(run, node, event)
    unsure = not digits and event.confidence is not None and (
        event.confidence < node.min_confidence)
    choice = None if unsure else answers.match_menu(node, digits, event.speech, run.language)
    if choice is None:
        return _retry(run, node, silent=False)
    if choice == "human":
        run.visit(node.id, "asked for a human")
        return node.human_target
    if choice.language:
        run.language = choice.language
        run.outcome["language"] = choice.language
    run.visit(node.id, f"chose {choice.key}")
    return choice.goto


def _input_answer(run: Run, node: m.InputNode, event: CallEvent) -> Next:
    digits = (event.digits or "").strip()
    if not digits and node.speech:
        digits = answers.spoken_digits(event.speech)
    if not digits and not (event.speech or "").strip():
        return _retry(run, node, silent=True)
    _log_input(run, node, event)
    if node.human and _wants_human(run, node, digits, event.speech):
        return node.human_target
    if not answers.digits_ok(digits, node.min_length, node.max_length, node.checksum):
        return _retry(run, node, silent=False)
    run.vars[node.store] = digits
    run.visit(node.id, f"{node.store} entered")
    return node.next


def _wants_human(run: Run, node: m.InputNode | m.SurveyNode, digits: str,
                 speech: str | None) -> bool:
    """0 or "agent" while a node asks for digits or a survey answer. A lone 0 that is a
    valid entry for an input node stays an entry (`ivr check` refuses such a node unless
    it says `human: false`, so the flow's author chose)."""
    if not answers.asks_for_human(digits, speech, run.language):
        return False
    if isinstance(node, m.InputNode) and digits and answers.digits_ok(
            digits, node.min_length, node.max_length, node.checksum):
        return False
    run.visit(node.id, "asked for a human")
    return True


def _lookup_answer(run: Run, node: m.LookupNode, event: CallEvent) -> Next:
    if not event.data.get("ok"):
        run.visit(node.id, f"lookup failed: {event.data.get('error') or 'no answer'}")
        run.note("errors", f"lookup {node.source}: {event.data.get('error')}")
        return node.on_failure
    record = event.data.get("record")
    if record is None:
        run.visit(node.id, "not found")
        return node.not_found
    run.vars[node.store] = dict(record)
    run.visit(node.id, "found")
    return node.found


def _queue_answer(run: Run, node: m.QueueNode, event: CallEvent) -> Next:
    result = str(event.data.get("result", "error"))
    run.outcome["queue_result"] = result
    run.visit(node.id, f"queue result {result}")
    target = node.results.get(result)
    if target is None:
        run.end("answered" if result == "bridged" else "caller_hangup"
                if result == "hangup" else result)
    return target


def _voicemail_answer(run: Run, node: m.VoicemailNode, event: CallEvent) -> Next:
    run.outcome["voicemail"] = {"mailbox": node.mailbox, "url": event.data.get("url"),
                                "duration": event.data.get("duration")}
    run.visit(node.id, "recorded" if event.data.get("url") else "no recording")
    return node.next


def _transfer_answer(run: Run, node: m.TransferNode, event: CallEvent) -> Next:
    status = str(event.data.get("status", "failed"))
    run.outcome["transfer"] = {"number": node.number, "status": status}
    run.visit(node.id, f"dial {status}")
    return node.next if status == "completed" else node.on_failure


def _question(run: Run, node: m.SurveyNode) -> int:
    return int(run.vars.get("_survey", {}).get(node.id, 0))


def _survey_answer(run: Run, node: m.SurveyNode, event: CallEvent) -> Next:
    index = _question(run, node)
    question = node.questions[index]
    digits = (event.digits or "").strip()
    if node.human and _wants_human(run, node, digits, event.speech):
        return node.human_target
    answer = answers.survey_answer(question.kind, (event.digits or "").strip(), event.speech)
    if answer is None and run.attempts == 0:
        run.visit(node.id, f"{question.id}: no valid answer; asking again")
        _ask(run, node, run.system("invalid_input"))
        run.attempts = 1
        return None
    run.outcome["survey"] = {**run.outcome.get("survey", {}), question.id: answer}
    run.visit(node.id, f"{question.id}: {answer}")
    if index + 1 < len(node.questions):
        run.vars["_survey"] = {**run.vars.get("_survey", {}), node.id: index + 1}
        run.attempts = 0
        _ask(run, node, ())
        return None
    return node.next


_ENTER: dict[type[m.Node], Callable[[Run, Any], Next]] = {
    m.SayNode: _say, m.SetNode: _set, m.GotoNode: _goto, m.BranchNode: _branch,
    m.HoursNode: _hours, m.LookupNode: _lookup, m.QueueNode: _queue,
    m.VoicemailNode: _voicemail, m.TransferNode: _transfer, m.HangupNode: _hangup,
}
_RESUME: dict[type[m.Node], tuple[str, Callable[[Run, Any, CallEvent], Next]]] = {
    m.MenuNode: ("input", _menu_answer), m.InputNode: ("input", _input_answer),
    m.SurveyNode: ("input", _survey_answer), m.LookupNode: ("lookup_result", _lookup_answer),
    m.QueueNode: ("queue_result", _queue_answer),
    m.VoicemailNode: ("record_result", _voicemail_answer),
    m.TransferNode: ("dial_result", _transfer_answer),
}
