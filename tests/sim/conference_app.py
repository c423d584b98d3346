"""A small app for the stand-in's conference tests, shaped like docs/agent-floor.md's
webhooks: a caller waits in a conference (startConferenceOnEnter=false, endConferenceOnExit),
an agent leg answered through Calls.json joins it. It records every request, refuses forged
signatures as the real app does, and answers only TwiML that tests/twiml_validate.py checks."""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from tests.sim.fake_ivr import WAV, twiml

ROOM = "cf-room-1"
CALLER = (f'<Say>Connecting you.</Say><Dial action="/dialed"><Conference '
          'startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" '
          'waitUrl="/conf-wait" participantLabel="caller" statusCallback="/conf-events" '
          f'statusCallbackEvent="start end join leave mute hold">{ROOM}</Conference></Dial>')
AGENT = (f'<Say>A caller is waiting.</Say><Dial action="/left"><Conference '
         'startConferenceOnEnter="true" endConferenceOnExit="false" beep="false" '
         f'participantLabel="agent">{ROOM}</Conference></Dial>')


def create_conference_app(auth_token: str) -> Flask:
    app = Flask(__name__)
    app.config["HOOKS"] = hooks = []

    @app.before_request
    def check_and_record():
        if request.path.startswith("/audio/"):
            return None
        params = request.form if request.method == "POST" else {}
        sig = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(auth_token).validate(request.url, params, sig):
            return Response("forged", status=403)
        hooks.append((request.path, dict(request.values)))
        return None

    documents = {"/voice": CALLER, "/agent": AGENT, "/left": "",
                 "/conf-wait": "<Play>/audio/wait.wav</Play>",
                 "/dialed": "<Say>Thanks for calling.</Say><Hangup/>",
                 "/announce": "<Say>This call may be recorded.</Say>"}
    for path, body in documents.items():
        app.add_url_rule(path, path, lambda body=body: twiml(body), methods=["POST"])
    app.add_url_rule("/hold", "hold", lambda: twiml("<Play>/audio/hold.wav</Play>"),
                     methods=["GET", "POST"])
    add_monitor_routes(app)
    for path in ("/conf-events", "/leg-status", "/voice/status", "/rec-status"):
        app.add_url_rule(path, path, lambda: Response(status=204), methods=["POST"])
    app.add_url_rule("/audio/<name>", "audio", lambda name: Response(WAV, mimetype="audio/wav"))
    return app


def add_monitor_routes(app: Flask) -> None:
    @app.post("/monitor")
    def monitor():
        coach = request.args.get("coach")
        attrs = f' coach="{coach}"' if coach else ' muted="true"'
        return twiml(f'<Dial action="/left"><Conference startConferenceOnEnter="true" '
                     f'endConferenceOnExit="false" beep="false" participantLabel="monitor"'
                     f'{attrs}>{ROOM}</Conference></Dial>')

    @app.post("/voice/client")
    def client_call():  # the TwiML App's Voice URL: the agent's outgoing call
        to, customer = request.form["To"], request.form.get("CustomerId", "nobody")
        return twiml(f'<Say>Calling {to} for {customer}.</Say><Dial action="/left">'
                     '<Conference startConferenceOnEnter="true" beep="false" waitUrl="">'
                     f'out-{customer}</Conference></Dial>')


def posted(app: Flask, path: str) -> list[dict[str, str]]:
    return [form for p, form in app.config["HOOKS"] if p == path]
