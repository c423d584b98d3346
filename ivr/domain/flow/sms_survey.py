"""When a call gets a survey by SMS after it ends, what the SMS asks, and what a reply means.

A survey node with `sms:` (a prompt) offers its question by text message to callers who did
not answer it by voice: they hung up after the agent, before or during the survey. Callers
who answered, or who were asked twice and gave no valid answer, get no SMS; nor do calls that
never reached an agent or the survey. The reply is read like a spoken answer ("4", "four",
"yes"): one invalid reply is asked again, a second is recorded as no answer, as on the phone.
Pure: the adapter (`ivr/outcomes/sms_survey.py`) sends, stores and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.domain.flow import answers
from ivr.domain.flow import model as m
from ivr.domain.flow.actions import CallState
from ivr.domain.flow.templating import render


@dataclass(frozen=True)
class SmsSurvey:
    node: str
    question: str
    kind: str  # scale | yes_no
    body: str
    language: str


def sms_survey_nodes(flow: m.Flow) -> list[m.SurveyNode]:
    """The survey nodes of `flow` that offer their question by SMS (`sms:` set)."""
    return [n for n in flow.nodes.values() if isinstance(n, m.SurveyNode) and n.sms]


def sms_survey_due(flow: m.Flow, state: CallState) -> SmsSurvey | None:
    """The SMS survey this ended call should get, or None."""
    offered = sms_survey_nodes(flow)
    visited = {v.node for v in state.path}
    node = next((n for n in offered if n.id in visited), None)
    if node is None and state.outcome.get("queue_result") == "bridged" and offered:
        node = offered[0]  # the agent call ended the call before the survey began
    if node is None:
        return None
    question = next((q for q in node.questions if q.id == node.sms_question), node.questions[0])
    if question.id in state.outcome.get("survey", {}):
        return None  # answered by voice (or asked twice without a valid answer)
    texts = (p.texts.get(state.language) or next(iter(p.texts.values())) for p in node.sms)
    body = " ".join(render(t, dict(state.vars), state.language) for t in texts)
    return SmsSurvey(node.id, question.id, question.kind, body.strip(), state.language)


def sms_answer(kind: str, body: str) -> int | str | None:
    """A reply's answer ("5", "five stars", "Yes!", "2"); None when it is not one."""
    text = body.strip()
    digits = text if text.isdigit() else ""
    return answers.survey_answer(kind, digits, text)


REPLIES = {
    "thanks": {"en": "Thank you for your feedback.", "es": "Gracias por su opinión."},
    "scale": {"en": "Sorry, please reply with a number from 1 to 5.",
              "es": "Disculpe, responda con un número del 1 al 5."},
    "yes_no": {"en": "Sorry, please reply YES or NO.", "es": "Disculpe, responda SÍ o NO."},
}


def reply_text(key: str, language: str) -> str:
    texts = REPLIES[key]
    return texts.get(language[:2], texts["en"])
