"""Structured JSON logs that carry the CallSid and never show a full phone number.

Owns the log record shape for every process (web, worker, demo). Inside a webhook the CallSid
comes from the request form, so a support engineer can follow one call across processes with
`grep CA...`. Phone numbers (E.164 and bare 10+ digit runs) are masked to their last four
digits in the message and in the arguments, because logs travel to places recordings may not.

Masking happens when a record is made (`install_masking`, a log-record factory), not only in
our formatter: RQ's worker, gunicorn, Werkzeug and the twilio client log through their own
handlers and formats, and a number in a job's arguments or a request URL must not reach them
unmasked either. `create_app`, `run_worker` and the `ivr` command install it; the JSON
formatter masks again (cheap, and covers records made before installation).
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ivr.config.settings import Config

# Not preceded by a letter or digit, so CallSids (CA + hex) and other ids are left alone. A
# leading "+" may be URL-encoded ("To=%2B14155550123" in a logged request URL), and national
# formats may carry brackets ("(415) 555-0123").
PHONE = re.compile(r"(?<![A-Za-z0-9])(?:\+|%2[Bb])?\(?\d[\d\- ()]{8,}\d(?![A-Za-z0-9])")


def mask_phone(text: str) -> str:
    """'+14155550123' -> '+*******0123'. Keeps the last four digits for support work."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = [c for c in raw if c.isdigit()]
        if len(digits) < 10:
            return raw
        if raw[:3].upper() == "%2B":
            digits = digits[1:]  # the "2" of %2B is not part of the number
        plus = "+" if raw.startswith("+") or raw[:3].upper() == "%2B" else ""
        return plus + "*" * (len(digits) - 4) + "".join(digits[-4:])

    return PHONE.sub(_mask, text)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask numbers in the record's message (args merged in) and its traceback text."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a broken format string: logging reports it later
        return record
    masked = mask_phone(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text when set, so every handler prints the masked traceback.
        record.exc_text = mask_phone(logging.Formatter().formatException(record.exc_info))
    return record


def install_masking() -> None:
    """Mask phone numbers in every log record this process makes, whatever handler prints
    it (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_ivr_masks", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory._ivr_masks = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# Set by code that serves a call outside a Flask request (the webhook lane, ivr/web/
# webhook_lane.py), so its records carry the CallSid too.
CALL_SID: ContextVar[str | None] = ContextVar("ivr_call_sid", default=None)


def _current_call_sid() -> str | None:
    if sid := CALL_SID.get():
        return sid
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    if has_request_context():
        sid = request.form.get("CallSid") if request.method == "POST" else None
        return sid or request.args.get("CallSid")
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_phone(record.getMessage()),
        }
        sid = getattr(record, "call_sid", None) or _current_call_sid()
        if sid:
            doc["call_sid"] = sid
        if record.exc_info:
            doc["exc"] = mask_phone(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """Install the formatter on the root logger once per process (idempotent)."""
    install_masking()
    root = logging.getLogger()
    if any(getattr(h, "_ivr", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._ivr = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def configure_from_env(config: Config | None = None) -> None:
    """The long-running processes (`ivr serve`, gunicorn workers, `ivr worker`) log JSON lines
    to stderr unless `IVR_LOG_FORMAT=text`; `IVR_LOG_LEVEL` sets the level (INFO). Both come
    typed and checked from `ivr.config.settings` (`config`, or the environment's). Called at process
    start, before RQ or Werkzeug look for a handler, so theirs print through ours."""
    if config is None:
        # here, not at the top: every `ivr` command imports this module for its log masking,
        # and the settings bring pydantic (a third of a second) that most never need
        from ivr.config.settings import from_env

        config = from_env()
    configure_logging(config.log_level, json_logs=config.log_format == "json")
