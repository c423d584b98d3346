from __future__ import annotations

import json
import logging

from flask import Flask

from ivr.config.log_format import JsonFormatter, mask_phone


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


def test_ivr_serve_logs_json_lines_with_the_call_sid(redis_url, tmp_path):
    """The real `ivr serve` process: a forged webhook's warning reaches stderr as one JSON line
    carrying the CallSid, with the caller's number masked."""
    import os
    import subprocess
    import sys
    import time

    import requests

    from devkit.bench.webhook import free_port

    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": "secret-token",
           "IVR_INSTANCE_DIR": str(tmp_path / "instance"), "IVR_LOG_FORMAT": "json",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("IVR_DEV_MODE", None)
    errors = tmp_path / "stderr.log"
    with errors.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "ivr.commands.cli", "serve",
                                   "--port", str(port), "--no-streams"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=sink)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, errors.read_text()
                    time.sleep(0.2)
            answer = requests.post(f"http://127.0.0.1:{port}/voice", timeout=5, data={
                "CallSid": "CAforged42", "From": "+14155550123"},
                headers={"X-Twilio-Signature": "not-a-signature"})
            assert answer.status_code == 403
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(10)
    lines = [json.loads(line) for line in errors.read_text().splitlines()
             if line.startswith("{")]
    forged = [doc for doc in lines if "forged" in doc["msg"]]
    assert forged, errors.read_text()
    assert forged[0]["call_sid"] == "CAforged42"
    assert forged[0]["level"] == "WARNING"
    assert "+14155550123" not in errors.read_text()
