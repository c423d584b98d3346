"""The local Twilio stand-in: a small Flask app speaking the subset of Twilio's REST API the
product uses, plus a simulator API for tests and the demo.

Twilio REST (JSON shaped by `rest_json`, basic auth as the real API):
    POST /2010-04-01/Accounts/{AC}/Calls.json                 create an outbound call
    GET  /2010-04-01/Accounts/{AC}/Calls.json                 list calls
    GET|POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json        fetch / update (Url, Twiml, Status)
    GET|POST /2010-04-01/Accounts/{AC}/Queues.json            list / create queues
    GET  /2010-04-01/Accounts/{AC}/Queues/{QU}.json           fetch a queue
    GET  /2010-04-01/Accounts/{AC}/Queues/{QU}/Members.json   members in order
    GET|POST .../Queues/{QU}/Members/{CA|Front}.json          fetch / dequeue (Url, Method)
    GET|POST /2010-04-01/Accounts/{AC}/Messages.json          SMS: recorded, never sent
    DELETE /2010-04-01/Accounts/{AC}/Messages/{SM}.json       delete a message (retention)
    GET  /2010-04-01/Accounts/{AC}/Recordings/{RE}[.wav]      a small WAV (no auth, like Twilio)
    DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json     delete it (then GET is 404)
    GET  .../Conferences.json (FriendlyName, Status)          rooms, newest first
    GET|POST .../Conferences/{CF}.json                        fetch / end (Status=completed),
                                                              AnnounceUrl
    GET  .../Conferences/{CF}/Participants.json               who is in the room
    GET|POST|DELETE .../Conferences/{CF}/Participants/{CA}.json  Hold, HoldUrl, HoldMethod,
         Muted, Coaching, CallSidToCoach, AnnounceUrl / remove (conference_rest.py)
    GET|POST .../Calls/{CA}/Recordings.json                   list / start (RecordingChannels,
         RecordingStatusCallback, RecordingStatusCallbackEvent, RecordingTrack)
    GET|POST .../Calls/{CA}/Recordings/{RE|Twilio.CURRENT}.json  Status=paused|in-progress|
         stopped (call_recordings.py; the WAV is served at Recordings/{RE})
  Calls.json create takes To=client:NAME (a simulated device, client_devices.py), Timeout,
  StatusCallbackEvent (initiated ringing answered completed) and StatusCallbackMethod.
Simulator:
    POST /sim/calls {from, to, script}  start an inbound call to the app -> {"sid": ...}
    GET  /sim/calls, /sim/calls/{CA}    state and transcript
    GET  /sim/messages, /sim/recordings/{RE}.wav, /healthz
    GET  /sim/conferences, /sim/conferences/{CF}  rooms, participants, log, callbacks sent
    POST /sim/clients/{identity}/register {"mode": "manual"|"auto"}; DELETE /sim/clients/{id}
    GET  /sim/clients/{identity}, /sim/clients/{identity}/calls (ringing and live calls)
    POST /sim/clients/{identity}/calls/{CA}/accept|reject|hangup|digits {"digits": "12#"}|
         mute {"muted": true}
    POST /sim/clients/{identity}/dial {"to", "params"}  the device calls out through the TwiML
         App (StandInConfig.twiml_app_url, default the app's /voice/client)
    POST /sim/messages/inbound {from, to, body}  a customer's SMS: signed POST to the app's
         /sms, answers {"status", "reply": the app's TwiML}

Served on a fixed number of threads (IVR_STANDIN_THREADS), by the product's bounded
development server (ivr/app/dev_server.py): Werkzeug's `threaded=True` starts a thread per
connection without limit. Imports nothing else of the product but the hold-audio check
(verbs.py); the state lives in `standin_state.StandIn`.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from devkit.twilio_standin import call_recordings, conference_rest, rest_json
from devkit.twilio_standin.call_progress import parse_events
from devkit.twilio_standin.client_devices import clients
from devkit.twilio_standin.standin_state import (
    CallNotFoundError,
    CallNotInProgressError,
    StandIn,
    StandInConfig,
)
from ivr.app.dev_server import PooledWSGIServer
from ivr.config.settings import Config

API = "/2010-04-01/Accounts/<account_sid>"
rest = Blueprint("twilio_rest", __name__, url_prefix=API)
sim = Blueprint("sim", __name__)
conference_rest.add_routes(rest)
call_recordings.add_routes(rest)


def standin() -> StandIn:
    return current_app.extensions["standin"]


def create_standin_app(state: StandIn) -> Flask:
    app = Flask(__name__)
    app.extensions["standin"] = state
    app.register_blueprint(rest)
    app.register_blueprint(sim)
    app.register_blueprint(clients)
    app.register_error_handler(CallNotFoundError, lambda e: twilio_error(
        404, 20404, f"The requested resource {e} was not found"))
    app.register_error_handler(CallNotInProgressError, lambda e: twilio_error(
        400, 21220, f"Call {e} is not in-progress. Cannot redirect."))
    return app


def twilio_error(status: int, code: int, message: str) -> Response:
    response = jsonify(rest_json.error(status, code, message))
    response.status_code = status
    return response


@rest.before_request
def check_basic_auth() -> Response | None:
    if request.path.split("/")[4:5] == ["Recordings"] and request.method == "GET":
        return None  # media is public at Twilio unless the account turns that off
    auth = request.authorization
    cfg = standin().config
    if auth is None or (auth.username == cfg.account_sid and cfg.auth_token
                        and auth.password != cfg.auth_token):
        return twilio_error(401, 20003, "Authenticate")
    return None


def form(name: str) -> str | None:
    return request.form.get(name) or None


@rest.post("/Calls.json")
def create_call(account_sid: str) -> Any:
    if not form("To") or not form("From") or not (form("Url") or form("Twiml")):
        return twilio_error(400, 21205, "To, From and Url or Twiml are required")
    timeout = form("Timeout") or "60"
    if not timeout.isdigit() or not 1 <= int(timeout) <= 600:
        return twilio_error(400, 21216, f"Timeout {timeout!r}: a whole number of seconds, "
                            "1 to 600")
    leg = standin().start_outbound(
        form("To") or "", form("From") or "", form("Url"), form("Twiml"),
        form("Method") or "POST", form("StatusCallback"), timeout=int(timeout),
        events=parse_events(request.form.getlist("StatusCallbackEvent")),
        callback_method=form("StatusCallbackMethod") or "POST")
    return jsonify(rest_json.call_json(leg, account_sid)), 201


@rest.get("/Calls.json")
def list_calls(account_sid: str) -> Any:
    calls = [rest_json.call_json(leg, account_sid) for leg in standin().all_legs()]
    return jsonify(rest_json.page("calls", calls, request.path))


@rest.route("/Calls/<sid>.json", methods=["GET", "POST"])
def call(account_sid: str, sid: str) -> Any:
    if request.method == "POST":
        leg = standin().update_call(sid, form("Url"), form("Method") or "POST",
                                    form("Twiml"), form("Status"))
    else:
        leg = standin().leg(sid)
    return jsonify(rest_json.call_json(leg, account_sid))


@rest.route("/Queues.json", methods=["GET", "POST"])
def queues(account_sid: str) -> Any:
    state = standin()
    if request.method == "POST":
        queue = state.queues.get_or_create(form("FriendlyName") or "default")
        if (form("MaxSize") or "").isdigit():
            queue.max_size = int(form("MaxSize") or 0)
        return jsonify(rest_json.queue_json(queue, account_sid, 0.0)), 201
    items = [rest_json.queue_json(q, account_sid, member_clock(q)) for q in state.queues.all()]
    return jsonify(rest_json.page("queues", items, request.path))


def find_queue(sid: str) -> Any:
    queue = standin().queues.by_sid(sid)
    if queue is None:
        raise CallNotFoundError(sid)
    return queue


@rest.get("/Queues/<qsid>.json")
def queue(account_sid: str, qsid: str) -> Any:
    q = find_queue(qsid)
    return jsonify(rest_json.queue_json(q, account_sid, member_clock(q)))


def member_clock(queue: Any) -> float:
    """Members' wait times are measured on their own leg's clock."""
    return queue.members[0].leg.clock.now() if queue.members else 0.0


@rest.get("/Queues/<qsid>/Members.json")
def members(account_sid: str, qsid: str) -> Any:
    q = find_queue(qsid)
    now = member_clock(q)
    items = [rest_json.member_json(q, m, i + 1, account_sid, now)
             for i, m in enumerate(list(q.members))]
    return jsonify(rest_json.page("queue_members", items, request.path))


@rest.route("/Queues/<qsid>/Members/<csid>.json", methods=["GET", "POST"])
def member(account_sid: str, qsid: str, csid: str) -> Any:
    q = find_queue(qsid)
    listed = list(q.members)
    if request.method == "POST":
        found = standin().dequeue(qsid, csid, form("Url") or "", form("Method") or "POST")
    else:
        found = listed[0] if csid == "Front" and listed else next(
            (m for m in listed if m.call_sid == csid), None)
        if found is None:
            raise CallNotFoundError(csid)
    position = listed.index(found) + 1 if found in listed else 0
    return jsonify(rest_json.member_json(q, found, position, account_sid, member_clock(q)))


@rest.route("/Messages.json", methods=["GET", "POST"])
def messages(account_sid: str) -> Any:
    state = standin()
    if request.method == "GET":
        items = [rest_json.message_json(m, account_sid) for m in state.messages]
        return jsonify(rest_json.page("messages", items, request.path))
    if not form("To") or not (form("Body") or form("MediaUrl")):
        return twilio_error(400, 21602, "To and Body are required")
    message = state.send_message(form("To") or "", form("From") or "", form("Body") or "",
                                 form("MessagingServiceSid"))
    return jsonify(rest_json.message_json(message, account_sid)), 201


@rest.delete("/Messages/<sid>.json")
def delete_message(account_sid: str, sid: str) -> Any:
    if not standin().delete_message(sid):
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return Response(status=204)


@rest.delete("/Recordings/<sid>.json")
def delete_recording(account_sid: str, sid: str) -> Any:
    if not standin().delete_recording(sid):
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return Response(status=204)


@rest.get("/Recordings/<name>")
def recording_media(account_sid: str, name: str) -> Any:
    auth = request.authorization
    standin().media_requests.append((name, auth.username if auth else None))
    return recording(name)


@sim.get("/sim/recordings/<name>")
def recording(name: str) -> Any:
    data = standin().recording_wav(name.removesuffix(".wav").removesuffix(".mp3"))
    if data is None:
        abort(404)
    return Response(data, mimetype="audio/x-wav")


@sim.post("/sim/calls")
def start_call() -> Any:
    data = request.get_json(silent=True) or request.form
    leg = standin().start_inbound(data.get("from") or "+15555550100",
                                  data.get("to") or "+15555550199", data.get("script") or "")
    return jsonify({"sid": leg.call_sid}), 201


@sim.get("/sim/calls")
def sim_calls() -> Any:
    return jsonify([leg.describe() for leg in standin().all_legs()])


@sim.get("/sim/calls/<sid>")
def sim_call(sid: str) -> Any:
    return jsonify(standin().leg(sid).describe())


@sim.get("/sim/conferences")
def sim_conferences() -> Any:
    return jsonify([describe_room(room) for room in standin().conferences.all()])


@sim.get("/sim/conferences/<sid>")
def sim_conference(sid: str) -> Any:
    room = standin().conferences.by_sid(sid)
    if room is None:
        abort(404)
    return jsonify(describe_room(room))


def describe_room(room: Any) -> dict[str, Any]:
    with room.lock:
        parts = [{"call_sid": p.call_sid, "label": p.label, "muted": p.muted, "hold": p.hold,
                  "coaching": p.coaching, "call_sid_to_coach": p.call_sid_to_coach}
                 for p in room.participants.values()]
        callbacks = [c for c in list(standin().callbacks.sent)
                     if c["params"].get("ConferenceSid") == room.sid]
        return {"sid": room.sid, "name": room.name, "status": room.status,
                "reason_ended": room.reason_ended, "participants": parts,
                "log": list(room.log), "callbacks": callbacks}


@sim.get("/sim/messages")
def sim_messages() -> Any:
    return jsonify(standin().messages)


@sim.post("/sim/messages/inbound")
def inbound_message() -> Any:
    data = request.get_json(silent=True) or request.form
    status, reply = standin().receive_message(data.get("from") or "+15555550100",
                                              data.get("to") or "+15555550199",
                                              data.get("body") or "")
    return jsonify({"status": status, "reply": reply}), 201


@sim.get("/healthz")
def healthz() -> Any:
    return jsonify({"ok": True})


def make_standin_server(state: StandIn, host: str, port: int,
                        threads: int | None = None) -> PooledWSGIServer:
    """The stand-in's HTTP server for `state` on `threads` request threads (default
    IVR_STANDIN_THREADS's); port 0 picks a free port."""
    return PooledWSGIServer(host, port, create_standin_app(state),
                            threads=threads or Config().standin_threads)


def start_server(config: StandInConfig, host: str = "127.0.0.1", port: int = 0,
                 threads: int | None = None) -> tuple[Any, StandIn, str]:
    """Serve a stand-in in a daemon thread; return (server, state, base_url). Port 0 picks a
    free port, and `config.api_base` is set to the real address (RecordingUrls point at it).
    Stop with `server.shutdown()`: the serving thread then closes the socket and ends the
    request threads."""
    state = StandIn(config)
    server = make_standin_server(state, host, port, threads)
    base_url = f"http://{host}:{server.server_port}"
    config.api_base = base_url

    def serve() -> None:
        try:
            server.serve_forever(0.05)
        finally:
            server.server_close()

    threading.Thread(target=serve, name="standin", daemon=True).start()
    return server, state, base_url
