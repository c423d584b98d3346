"""No full phone number in any log line while real calls run: webhooks over HTTP (Werkzeug's
access log), RQ jobs (RQ logs job arguments), the twilio REST client placing a callback to a
keyed-in number, and a webhook that crashes with the caller's number in the exception."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from ivr.config.log_format import JsonFormatter, install_masking, mask_phone
from tests.e2e.conftest import Live
from tests.privacy.conftest import stream_events


def kinds(conn, call_sid: str) -> list[str]:
    return [kind for kind, _ in stream_events(conn, call_sid)]

CALLER, KEYED = "+14155550123", "+14155550177"
FULL = re.compile(r"(?:\+|%2[Bb])?1?4155550(?:123|177)")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything any logger says at DEBUG, through a plain and a JSON handler (what an
    operator's default set-up and ours would print)."""
    install_masking()
    out = io.StringIO()
    plain = logging.StreamHandler(out)
    plain.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    structured = logging.StreamHandler(out)
    structured.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(plain)
    root.addHandler(structured)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(plain)
        root.removeHandler(structured)
        root.setLevel(old_level)


def test_calls_callbacks_and_a_crash_log_no_full_number(live: Live, captured: io.StringIO,
                                                        monkeypatch: pytest.MonkeyPatch):
    leg = live.call("hold 1; press 1; press 2; press 4155550177#", from_=CALLER)
    live.run_until(lambda: leg.completed)
    live.available("alice")
    live.run_until(lambda: "callback_attempt" in kinds(live.redis, leg.call_sid))
    calls = live.app.extensions["ivr"].calls

    def crash(call_sid, caller, now):
        raise RuntimeError(f"flow blew up for caller {caller['From']} ({caller['To']})")

    monkeypatch.setattr(calls, "start", crash)
    crashed = live.call("hold 1; hangup", from_=CALLER)
    live.run_until(lambda: crashed.completed)
    text = captured.getvalue()
    assert "blew up for caller +*******0123" in text      # the crash was logged, masked
    assert "Traceback" in text
    assert "RuntimeError" in text
    assert "POST /voice" in text                          # Werkzeug's access log was captured
    assert "Calls.json" in text                           # so was the twilio client's
    leaks = sorted({m.group(0) for m in FULL.finditer(text)})
    assert not leaks, f"full numbers in the logs: {leaks}"


def test_masking_applies_to_records_of_every_handler_and_format():
    install_masking()
    record = logging.getLogger("rq.worker").makeRecord(
        "rq.worker", logging.INFO, __file__, 1, "job %s(%r)", ("send", "+14155550123"), None)
    assert record.getMessage() == "job send('+*******0123')"
    assert mask_phone("GET /Calls.json?To=%2B14155550123") == "GET /Calls.json?To=+*******0123"
    assert mask_phone("(415) 555-0123") == "******0123"
