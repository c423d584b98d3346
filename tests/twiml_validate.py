"""Validate every TwiML document the app returns, for all tests.

Three layers, because no single one is enough (see /work/shared/twiml/README.md):

1. the relaxed Twilio XSD (lxml): nesting, text vs element content, numeric ranges;
2. the rules JSON derived from twilio-python 9.13.0: unknown children and attributes per element,
   spelled lowerCamel exactly (catches `numdigits`, `waitURL`);
3. value checks neither does, written from WEBHOOKS.md: `input`, `method`, `numDigits`,
   `timeout`, `finishOnKey`, `speechTimeout`, `actionOnEmptyResult`, and the verbs allowed in a
   waitUrl document.

`twiml_problems()` returns every problem found (tests of this module assert on each one);
`assert_valid_twiml()` raises an AssertionError listing them. Imports nothing from `ivr`.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

from lxml import etree

SHARED = Path(__file__).resolve().parent / "kits" / "twiml"  # vendored from shared/twiml
XSD_PATH = SHARED / "twilio-csharp-TwiML.relaxed.xsd"
RULES_PATH = SHARED / "twilio-python-9.13.0-voice-rules.json"

CONTEXTS = ("document", "wait")
INPUTS = {"dtmf", "speech", "dtmf speech"}
METHODS = {"GET", "POST"}
BOOLEANS = {"true", "false"}
# WEBHOOKS.md 3.3: the only verbs a waitUrl document may hold.
WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
# WEBHOOKS.md 3.2: Gather finishOnKey is one of 0-9, #, * or ''.
GATHER_FINISH_KEYS = set("0123456789#*") | {""}
# WEBHOOKS.md 3.6: Record finishOnKey defaults to all of these; any subset is legal.
RECORD_FINISH_KEYS = set("1234567890*#")


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


@functools.cache
def _rules() -> dict[str, dict[str, list[str]]]:
    data = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def assert_valid_twiml(xml: str | bytes, context: str = "document") -> None:
    """Fail with every problem found when `xml` is not TwiML Twilio would run.

    `context` is "document" (a webhook answer) or "wait" (a waitUrl answer, which may hold only
    Play, Say, Pause, Hangup, Redirect, Leave and Gather)."""
    problems = twiml_problems(xml, context)
    if problems:
        text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
        raise AssertionError("invalid TwiML:\n  " + "\n  ".join(problems) + f"\n---\n{text}")


def twiml_problems(xml: str | bytes, context: str = "document") -> list[str]:
    """Every problem in `xml`, as readable strings; an empty list means valid."""
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}, not {context!r}")
    root = _parse(xml)
    if isinstance(root, str):
        return [root]
    problems = [f"XSD: {e.message} (line {e.line})" for e in _xsd_errors(root)]
    problems += _rule_problems(root)
    problems += _value_problems(root)
    if context == "wait":
        problems += _wait_problems(root)
    return problems


def _parse(xml: str | bytes) -> Any:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if not data.strip():
        return "empty document: a webhook must answer with <Response>"
    try:
        return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return f"not well-formed XML: {exc}"


_SCHEMA_LOCK = threading.Lock()


def _xsd_errors(root: Any) -> list[Any]:
    # One XMLSchema object, its error log shared: simulated calls validate from many threads
    # at once, and lxml validators are not safe to share between threads without a lock.
    with _SCHEMA_LOCK:
        schema = _schema()
        schema.validate(root)
        return list(schema.error_log)


def _elements(root: Any) -> list[Any]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def _rule_problems(root: Any) -> list[str]:
    if root.tag != "Response":
        return [f"root element is <{root.tag}>, not <Response>"]
    problems = [f"<Response> has unknown attribute {name!r}" for name in root.attrib]
    rules = _rules()
    for parent in _elements(root):
        allowed_children = rules.get(parent.tag, {})
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            if child.tag not in allowed_children:
                problems.append(f"<{child.tag}> is not allowed inside <{parent.tag}>"
                                f" (line {child.sourceline})")
                continue
            allowed = set(allowed_children[child.tag])
            problems += [f"<{child.tag}> has unknown attribute {name!r} (line {child.sourceline})"
                         for name in child.attrib if name not in allowed]
    return problems


def _value_problems(root: Any) -> list[str]:
    problems: list[str] = []
    for el in _elements(root):
        where = f"<{el.tag}> (line {el.sourceline})"
        for name, value in el.attrib.items():
            message = _attribute_problem(el.tag, name, value)
            if message:
                problems.append(f"{where}: {message}")
    return problems


def _attribute_problem(tag: str, name: str, value: str) -> str | None:
    if name == "method" or name.endswith("Method"):
        return None if value in METHODS else f"{name}={value!r} is not GET or POST"
    checks = {
        "input": _check_input,
        "numDigits": _check_positive,
        "timeout": _check_timeout,
        "finishOnKey": _check_finish_on_key,
        "speechTimeout": _check_speech_timeout,
        "actionOnEmptyResult": _check_boolean,
    }
    check = checks.get(name)
    return check(tag, name, value) if check else None


def _check_input(tag: str, name: str, value: str) -> str | None:
    return None if value in INPUTS else f"input={value!r} is not one of {sorted(INPUTS)}"


def _is_int(value: str) -> bool:
    return value.strip() == value and value.lstrip("-").isdigit()


def _check_positive(tag: str, name: str, value: str) -> str | None:
    if _is_int(value) and int(value) > 0:
        return None
    return f"{name}={value!r} is not a positive integer"


def _check_timeout(tag: str, name: str, value: str) -> str | None:
    # Record: "timeout default 5; 0 disables it" (WEBHOOKS.md 3.6). Elsewhere it must be positive.
    if tag == "Record":
        ok = _is_int(value) and int(value) >= 0
        return None if ok else f"timeout={value!r} is not a non-negative integer"
    return _check_positive(tag, name, value)


def _check_finish_on_key(tag: str, name: str, value: str) -> str | None:
    if tag == "Record":
        bad = set(value) - RECORD_FINISH_KEYS
        return f"finishOnKey={value!r} holds keys {sorted(bad)}" if bad else None
    if value in GATHER_FINISH_KEYS:
        return None
    return f"finishOnKey={value!r} is not one of 0-9, #, * or ''"


def _check_speech_timeout(tag: str, name: str, value: str) -> str | None:
    return None if value == "auto" else _check_positive(tag, name, value)


def _check_boolean(tag: str, name: str, value: str) -> str | None:
    return None if value in BOOLEANS else f"{name}={value!r} is not true or false"


def _wait_problems(root: Any) -> list[str]:
    return [f"<{el.tag}> is not allowed in a waitUrl document (line {el.sourceline});"
            f" only {', '.join(sorted(WAIT_VERBS))}"
            for el in root if isinstance(el.tag, str) and el.tag not in WAIT_VERBS]
