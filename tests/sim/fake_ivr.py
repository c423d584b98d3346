"""A tiny IVR defined for the simulator's tests: it exercises every verb the CallLeg runs and
records every webhook it receives, checking Twilio's signature like the real app does."""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

WAV = b"RIFF$\x00\x00\x00WAVEfmt " + b"\x00" * 24


def twiml(body: str) -> Response:
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                    mimetype="text/xml")


def create_fake_ivr(auth_token: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["HOOKS"] = hooks = []

    @app.before_request
    def check_and_record():
        if request.method == "GET" and request.path.startswith("/audio/"):
            return None
        if auth_token:
            params = request.form if request.method == "POST" else {}
            sig = request.headers.get("X-Twilio-Signature", "")
            if not RequestValidator(auth_token).validate(request.url, params, sig):
                return Response("forged", status=403)
        hooks.append((request.path, dict(request.values)))
        return None

    add_menu_routes(app)
    add_queue_routes(app)
    add_other_routes(app)
    return app


MENU = {
    "1": '<Say>Please hold.</Say><Enqueue waitUrl="/wait" action="/queue-done">'
         'support</Enqueue><Say>After the queue.</Say>',
    "2": '<Record action="/recorded" maxLength="60" finishOnKey="#"/>',
    "3": '<Dial action="/dialed" timeout="10"><Number>+15550001111</Number></Dial>',
    "order status": "<Say>Your order has shipped.</Say><Hangup/>",
}


def add_menu_routes(app: Flask) -> None:
    @app.post("/voice")
    def incoming():
        return twiml('<Gather input="dtmf speech" numDigits="1" action="/menu" timeout="4">'
                     '<Say>Press 1 to wait, 2 to leave a message, 3 for sales.</Say></Gather>'
                     '<Say>We did not get that.</Say><Hangup/>')

    @app.post("/menu")
    def menu():
        choice = request.form.get("Digits") or request.form.get("SpeechResult", "")
        return twiml(MENU.get(choice, '<Say>Sorry.</Say><Redirect>/voice</Redirect>'))


def add_queue_routes(app: Flask) -> None:
    @app.post("/wait")
    def wait():
        position = request.form["QueuePosition"]
        return twiml(f'<Say>You are caller {position}.</Say><Play>/audio/hold.wav</Play>'
                     '<Gather numDigits="1" action="/wait-key" timeout="2">'
                     '<Say>Press 9 to leave the queue.</Say></Gather>')

    @app.post("/wait-key")
    def wait_key():
        return twiml("<Leave/>" if request.form.get("Digits") == "9" else "<Say>OK.</Say>")

    @app.post("/queue-done")
    def queue_done():
        return twiml(f'<Say>Queue result {request.form["QueueResult"]}.</Say><Hangup/>')



def add_other_routes(app: Flask) -> None:
    @app.post("/recorded")
    def recorded():
        return twiml("<Say>Thanks for your message.</Say><Hangup/>")

    @app.post("/dialed")
    def dialed():
        return twiml(f'<Say>Dial {request.form["DialCallStatus"]}.</Say>')

    @app.post("/voice/status")
    def status():
        return Response(status=204)

    @app.get("/audio/hold.wav")
    def hold_music():
        return Response(WAV, mimetype="audio/wav")

    @app.post("/broken")
    def broken():
        return Response("boom", status=500)

    @app.post("/bad-twiml")
    def bad_twiml():
        return twiml('<Gather numdigits="1"/>')

    @app.post("/loop")
    def loop():
        return Response(status=302, headers={"Location": "/loop"})
