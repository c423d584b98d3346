"""Structured JSON logs that carry the CallSid and never show a full phone number.

Owns the log record shape for every process (web, worker, demo). Inside a webhook the CallSid
comes from the request form, so a support engineer can follow one call across processes with
`grep CA...`. Phone numbers (E.164 and bare 10+ digit runs) are masked to their last four
digits in the message and in the arguments, because logs travel to places recordings may not.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# Not preceded by a letter or digit, so CallSids (CA + hex) and other ids are left alone.
PHONE = re.compile(r"(?<![A-Za-z0-9])\+?\d[\d\- ]{8,}\d(?![A-Za-z0-9])")


def mask_phone(text: str) -> str:
    """'+14155550123' -> '+*******0123'. Keeps the last four digits for support work."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = [c for c in raw if c.isdigit()]
        if len(digits) < 10:
            return raw
        return ("+" if raw.startswith("+") else "") + "*" * (len(digits) - 4) + "".join(
            digits[-4:])

    return PHONE.sub(_mask, text)


def _current_call_sid() -> str | None:
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
    root = logging.getLogger()
    if any(getattr(h, "_ivr", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._ivr = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
