"""The flow file format as data: which fields each section and node type takes, and their kinds.

One declaration serves two readers: the loader checks and converts fields by `kind`, and
`json_schema()` turns it into a JSON Schema for editors (`ivr schema`). Adding a field here
and to the node's dataclass in `model.py` is all a new option needs. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    """`kind` is one of: text, int, number, bool, target, prompts, phone, texts, mapping,
    or a special kind parsed by its own function (options, cases, params, values, questions,
    queues, hours, fallback, numbers)."""

    kind: str
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()


F = FieldSpec

COMMON: Mapping[str, FieldSpec] = {
    "type": F("text", "node type", required=True),
    "say": F("prompts", "prompts spoken when the node is entered (menus: inside the Gather)"),
    "resolves": F("text", "self-service task this node answers (records solved: true)"),
    "fails": F("text", "self-service task this node gives up on (records solved: false)"),
    "description": F("text", "a note for people reading the flow"),
}

_RETRY = {
    "timeout": F("int", "seconds to wait for input"),
    "retries": F("int", "re-prompts after invalid or no input before on_failure"),
    "invalid": F("prompts", "said after invalid input (default: prompt invalid_input)"),
    "no_input": F("prompts", "said after silence (default: prompt no_input)"),
    "on_failure": F("target", "where to go when retries run out (default: the human target)"),
}

NODE_FIELDS: Mapping[str, Mapping[str, FieldSpec]] = {
    "say": {"next": F("target", "next node")},
    "menu": {
        **_RETRY,
        "options": F("options", "key ('1', quoted) -> target or {goto, speech, language}",
                     required=True),
        "human": F("bool", "0 and 'agent'/'representative'/'operator' reach a human"),
        "speech": F("bool", "also listen for speech (default true)"),
        "min_confidence": F("number", "speech below this confidence counts as invalid"),
    },
    "input": {
        **_RETRY,
        "store": F("text", "variable that receives the digits", required=True),
        "min_length": F("int", "fewest digits accepted"),
        "max_length": F("int", "most digits accepted"),
        "checksum": F("text", "check digit rule", choices=("none", "luhn", "mod10")),
        "finish_on_key": F("text", "key that ends entry"),
        "speech": F("bool", "also accept spoken digits"),
        "next": F("target", "where valid input goes", required=True),
        "human": F("bool", "a lone 0 (or 'agent' when speech is on) reaches a human "
                   "(default true)"),
    },
    "branch": {
        "cases": F("cases", "list of {if: condition, goto: node}", required=True),
        "else": F("target", "where to go when no case matches", required=True),
    },
    "hours": {
        "schedule": F("text", "name of a schedule in the flow's hours section", required=True),
        "open": F("target", "while open", required=True),
        "closed": F("target", "outside opening hours", required=True),
        "holiday": F("target", "on a holiday (default: closed)"),
        "emergency": F("target", "when the emergency flag is set (default: closed)"),
    },
    "lookup": {
        "source": F("text", "lookup source name (lookups.yaml)", required=True),
        "params": F("params", "param -> template, e.g. '{{ order_number }}'"),
        "store": F("text", "variable that receives the record", required=True),
        "timeout": F("number", "seconds before the lookup counts as failed"),
        "found": F("target", "a record came back", required=True),
        "not_found": F("target", "the source answered: no such record", required=True),
        "on_failure": F("target", "source failed or timed out (default: the flow fallback)"),
    },
    "set": {
        "values": F("values", "variable -> value or template", required=True),
        "next": F("target", "next node"),
    },
    "queue": {
        "queue": F("text", "queue name declared in the flow's queues section", required=True),
        "skill": F("text", "skill (default: the queue's skill)"),
        "priority": F("int", "higher is served first"),
        "reason": F("text", "why the caller is queued (shown to the agent)"),
        "offer_callback": F("bool", "offer a callback while waiting"),
        "offer_voicemail": F("bool", "offer voicemail while waiting"),
        "on_bridged": F("target", "after the agent call ends (e.g. a survey)"),
        "on_callback": F("target", "caller accepted a callback"),
        "on_voicemail": F("target", "caller chose voicemail"),
        "on_leave": F("target", "caller left the queue"),
        "on_closed": F("target", "queue closed"),
        "on_queue_full": F("target", "queue full"),
        "on_error": F("target", "queue engine failed"),
    },
    "voicemail": {
        "mailbox": F("text", "mailbox name"),
        "max_length": F("int", "longest recording in seconds"),
        "next": F("target", "after the recording (default: goodbye)"),
    },
    "transfer": {
        "number": F("phone", "E.164 number, quoted", required=True),
        "timeout": F("int", "ring seconds"),
        "caller_id": F("phone", "caller id shown to the callee"),
        "next": F("target", "after a completed call (default: hang up)"),
        "on_failure": F("target", "busy, no answer or failed (default: the flow fallback)"),
    },
    "survey": {
        "questions": F("questions", "one or two {id, say, kind: scale|yes_no}", required=True),
        "timeout": F("int", "seconds to wait for each answer"),
        "next": F("target", "after the survey (default: goodbye)"),
        "sms": F("prompts", "text of a survey SMS sent after the call when this question "
                 "was not answered by voice (the reply becomes the answer)"),
        "sms_question": F("text", "id of the question the SMS asks (default: the first)"),
        "human": F("bool", "0 and 'agent'/'representative'/'operator' reach a human "
                   "(default true)"),
    },
    "goto": {"goto": F("target", "next node", required=True)},
    "hangup": {"reason": F("text", "end reason recorded in the outcome")},
}
TYPE_ALIASES: Mapping[str, str] = {"play": "say"}

FLOW_FIELDS: Mapping[str, FieldSpec] = {
    "flow": F("text", "flow id", required=True),
    "description": F("text", "a note for people reading the flow"),
    "numbers": F("numbers", "dialed numbers (E.164, quoted) that reach this flow"),
    "default": F("bool", "this flow answers numbers no other flow claims"),
    "languages": F("texts", "language tags; the first is the default", required=True),
    "timezone": F("text", "IANA zone for time.* in conditions (default UTC)"),
    "start": F("target", "first node", required=True),
    "human": F("target", "where 0/'agent' goes (default: the fallback)"),
    "fallback": F("fallback", "{queue: name} or {voicemail: mailbox}", required=True),
    "queues": F("queues", "queue name -> {skill}", required=True),
    "hours": F("hours", "schedule name -> {timezone, weekly, calendar, holidays, "
               "emergency_flag}; calendar: a name from calendars.yaml"),
    "nodes": F("mapping", "node id -> node", required=True),
}

_KIND_SCHEMA: Mapping[str, Any] = {
    "text": {"type": "string"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "target": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$|^_(fallback|voicemail|"
                                            "goodbye)$"},
    "phone": {"type": "string", "pattern": r"^\+[1-9]\d{7,14}$"},
    "texts": {"type": "array", "items": {"type": "string"}},
    "numbers": {"type": "array", "items": {"type": "string", "pattern": r"^\+[1-9]\d{7,14}$"}},
    "prompts": {"$ref": "#/$defs/prompts"},
    "mapping": {"type": "object"},
    "params": {"type": "object", "additionalProperties": {"type": "string"}},
    "values": {"type": "object"},
    "options": {"type": "object", "propertyNames": {"pattern": "^[0-9*#]$"},
                "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
    "cases": {"type": "array", "items": {"type": "object", "required": ["if", "goto"]}},
    "questions": {"type": "array", "minItems": 1, "maxItems": 2,
                  "items": {"type": "object", "required": ["id", "say"]}},
    "queues": {"type": "object", "additionalProperties": {"type": "object"}},
    "hours": {"type": "object", "additionalProperties": {"type": "object"}},
    "fallback": {"type": "object", "minProperties": 1, "maxProperties": 1},
}

_PROMPT = {"anyOf": [
    {"type": "string", "description": "prompt id from prompts/catalog.yaml"},
    {"type": "object", "properties": {
        "prompt": {"type": "string"},
        "text": {"anyOf": [{"type": "string"}, {"type": "object"}]}}},
]}


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMA[spec.kind])
    schema["description"] = spec.doc
    if spec.choices:
        schema["enum"] = list(spec.choices)
    return schema


def _object(fields: Mapping[str, FieldSpec]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: _field_schema(spec) for name, spec in fields.items()},
        "required": [name for name, spec in fields.items() if spec.required],
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of a flow file, generated from the declarations above."""
    nodes = []
    for type_name, fields in NODE_FIELDS.items():
        names = [type_name, *(a for a, t in TYPE_ALIASES.items() if t == type_name)]
        node = _object({**COMMON, **fields})
        node["properties"]["type"] = {"enum": names}
        nodes.append(node)
    flow = _object(FLOW_FIELDS)
    flow["properties"]["nodes"] = {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]*$"},
        "additionalProperties": {"oneOf": nodes},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/ivr/ivr/callflow.schema.json",
        "title": "IVR call flow",
        "$defs": {"prompts": {"anyOf": [_PROMPT, {"type": "array", "items": _PROMPT}]}},
        **flow,
    }
