from __future__ import annotations

import json
import logging

from flask import Flask

from ivr.log_format import JsonFormatter, mask_phone


def test_phone_numbers_are_masked_to_last_four_digits():
    assert mask_phone("call from +14155550123 to 4155550199") == \
        "call from +*******0123 to ******0199"
    assert mask_phone("order 1234 and CA0123456789") == "order 1234 and CA0123456789"
    assert "5550123" not in mask_phone("+1 415-555-0123")


def test_json_log_carries_call_sid_from_the_webhook_form():
    app = Flask(__name__)
    record = logging.LogRecord("ivr", logging.WARNING, __file__, 1, "caller %s", ("+14155550123",),
                               None)
    with app.test_request_context("/voice", method="POST", data={"CallSid": "CA42"}):
        doc = json.loads(JsonFormatter().format(record))
    assert doc["call_sid"] == "CA42"
    assert doc["msg"] == "caller +*******0123"
    assert doc["level"] == "WARNING"
