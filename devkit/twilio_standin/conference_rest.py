"""Twilio's Conference and Participant REST resources on the stand-in (the subset of
docs/agent-floor.md), added to the stand-in's REST blueprint by `add_routes`:

    GET  Conferences.json                        FriendlyName=, Status= (init, in-progress,
                                                 completed) filters
    GET|POST Conferences/{CF}.json               Status=completed ends it; AnnounceUrl
    GET  Conferences/{CF}/Participants.json      the participants now in the room
    GET|POST|DELETE Conferences/{CF}/Participants/{CA or label}.json
                                                 Hold, HoldUrl, HoldMethod, Muted, Coaching,
                                                 CallSidToCoach, AnnounceUrl, AnnounceMethod

Errors are Twilio's: 404 (20404) for an unknown room or participant, 400 (21205) for a URL that
is not absolute.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from devkit.twilio_standin import rest_json
from devkit.twilio_standin.conference import Conference, Conferences, Participant


def rooms() -> Conferences:
    return current_app.extensions["standin"].conferences


def twilio_error(status: int, code: int, message: str) -> Response:
    response = jsonify(rest_json.error(status, code, message))
    response.status_code = status
    return response


class NotFound(LookupError):
    pass


class BadUrl(ValueError):
    pass


def find_room(sid: str) -> Conference:
    room = rooms().by_sid(sid)
    if room is None:
        raise NotFound(sid)
    return room


def find_participant(room: Conference, key: str) -> Participant:
    with room.lock:
        part = room.participants.get(key) or next(
            (p for p in room.participants.values() if p.label == key), None)
    if part is None:
        raise NotFound(key)
    return part


def boolean(name: str) -> bool | None:
    value = request.form.get(name)
    return None if value is None else value.lower() == "true"


def absolute(name: str) -> str | None:
    value = request.form.get(name) or None
    if value is not None and not value.startswith(("http://", "https://")):
        raise BadUrl(f"{name} {value!r} is not a valid URL")
    return value


def add_routes(rest: Blueprint) -> None:
    rest.register_error_handler(NotFound, lambda e: twilio_error(
        404, 20404, f"The requested resource {request.path} was not found"))
    rest.register_error_handler(BadUrl, lambda e: twilio_error(400, 21205, str(e)))

    @rest.get("/Conferences.json")
    def conferences(account_sid: str) -> Any:
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        items = [rest_json.conference_json(room, account_sid) for room in rooms().all()
                 if (name is None or room.name == name)
                 and (status is None or room.status == status)]
        items.reverse()  # newest first, as Twilio lists them
        return jsonify(rest_json.page("conferences", items, request.path))

    @rest.route("/Conferences/<cf>.json", methods=["GET", "POST"])
    def conference(account_sid: str, cf: str) -> Any:
        room = find_room(cf)
        if request.method == "POST":
            announce = absolute("AnnounceUrl")
            if announce:
                rooms().announce(room, announce, request.form.get("AnnounceMethod") or "POST")
            if request.form.get("Status") == "completed":
                rooms().end(room, "conference-ended-via-api")
        return jsonify(rest_json.conference_json(room, account_sid))

    @rest.get("/Conferences/<cf>/Participants.json")
    def participants(account_sid: str, cf: str) -> Any:
        room = find_room(cf)
        with room.lock:
            parts = list(room.participants.values())
        items = [rest_json.participant_json(room, p, account_sid) for p in parts]
        return jsonify(rest_json.page("participants", items, request.path))

    rest.add_url_rule("/Conferences/<cf>/Participants/<key>.json", "participant",
                      participant, methods=["GET", "POST", "DELETE"])


def participant(account_sid: str, cf: str, key: str) -> Any:
    room = find_room(cf)
    part = find_participant(room, key)
    if request.method == "DELETE":
        rooms().remove(room, part)
        return Response(status=204)
    if request.method == "POST" and not rooms().update_participant(room, part,
                                                                   participant_changes()):
        raise NotFound(key)  # it left the room meanwhile
    return jsonify(rest_json.participant_json(room, part, account_sid))


def participant_changes() -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, key in (("Hold", "hold"), ("Muted", "muted"), ("Coaching", "coaching")):
        value = boolean(name)
        if value is not None:
            changes[key] = value
    for name, key in (("HoldUrl", "hold_url"), ("AnnounceUrl", "announce_url")):
        url = absolute(name)
        if url:
            changes[key] = url
    for name, key in (("HoldMethod", "hold_method"), ("AnnounceMethod", "announce_method"),
                      ("CallSidToCoach", "call_sid_to_coach")):
        if request.form.get(name):
            changes[key] = request.form[name]
    return changes
