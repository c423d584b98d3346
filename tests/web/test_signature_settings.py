"""A webhook naming a signature algorithm twilio's validator does not know (in
`X-Twilio-Webhooks-Signature-Settings`) is refused with 403, never a 500: on a route only Flask
answers and on the three the webhook lane stands in front of (issue 12, item 7b)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from ivr.flows.publishing import CONVERGE_DUE
from ivr.web.webhook_lane import WebhookLane
from tests.web.conftest import BASE, sign, standard_params

UNKNOWN = "key=webhooks_sharedkey_1,algorithm=HMAC_MD5"


@pytest.mark.parametrize("path", ["/voice", "/voice/next?seq=1", "/voice/status",
                                  "/voice/queue/wait"])
@pytest.mark.parametrize("signature", ["", "bm90LWEtc2lnbmF0dXJl", "sign-for-real"])
def test_unknown_algorithm_is_403(app: Flask, path: str, signature: str) -> None:
    app.extensions[CONVERGE_DUE] = float("inf")  # the lane would answer if it were sure
    assert isinstance(app.wsgi_app, WebhookLane)
    served = app.wsgi_app.served
    params = standard_params("CA" + uuid.uuid4().hex)
    if signature == "sign-for-real":
        signature = sign(BASE + path, params)  # right for HMAC-SHA1, not for what it names
    headers = {"X-Twilio-Webhooks-Signature-Settings": UNKNOWN}
    if signature:
        headers["X-Twilio-Signature"] = signature
    answer = app.test_client().post(path, data=params, headers=headers)
    assert answer.status_code == 403
    assert app.wsgi_app.served == served  # the lane handed it to Flask's check


def test_known_algorithm_header_still_verifies(app: Flask) -> None:
    params = standard_params("CA" + uuid.uuid4().hex)
    answer = app.test_client().post("/voice", data=params, headers={
        "X-Twilio-Signature": sign(BASE + "/voice", params),
        "X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_SHA1"})
    assert answer.status_code == 200
