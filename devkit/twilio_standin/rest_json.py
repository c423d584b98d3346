"""Twilio REST resources as JSON, shaped like api.twilio.com's (snake_case keys, RFC 2822
dates, `uri`), so `twilio.rest.Client` parses the stand-in's answers. Pure functions."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

API = "/2010-04-01/Accounts"


def date() -> str:
    return formatdate(usegmt=True)


def call_json(leg: Any, account_sid: str) -> dict[str, Any]:
    return {
        "sid": leg.call_sid, "account_sid": account_sid, "to": leg.to, "from": leg.from_,
        "to_formatted": leg.to, "from_formatted": leg.from_, "status": leg.status,
        "direction": leg.direction, "duration": str(int(leg.elapsed())),
        "date_created": date(), "date_updated": date(), "start_time": date(),
        "end_time": date() if leg.status == "completed" else None, "parent_call_sid": None,
        "phone_number_sid": None, "price": None, "price_unit": "USD", "answered_by": None,
        "caller_name": None, "queue_time": "0", "trunk_sid": None, "group_sid": None,
        "forwarded_from": None, "api_version": "2010-04-01", "annotation": None,
        "uri": f"{API}/{account_sid}/Calls/{leg.call_sid}.json", "subresource_uris": {},
    }


def queue_json(queue: Any, account_sid: str, now: float) -> dict[str, Any]:
    waits = [now - m.entered for m in queue.members]
    return {
        "sid": queue.sid, "account_sid": account_sid, "friendly_name": queue.name,
        "current_size": len(queue.members), "max_size": queue.max_size,
        "average_wait_time": int(sum(waits) / len(waits)) if waits else 0,
        "date_created": date(), "date_updated": date(),
        "uri": f"{API}/{account_sid}/Queues/{queue.sid}.json",
    }


def member_json(queue: Any, member: Any, position: int, account_sid: str,
                now: float) -> dict[str, Any]:
    return {
        "call_sid": member.call_sid, "queue_sid": queue.sid, "position": position,
        "wait_time": int(now - member.entered), "date_enqueued": date(),
        "uri": f"{API}/{account_sid}/Queues/{queue.sid}/Members/{member.call_sid}.json",
    }


def message_json(message: dict[str, str], account_sid: str) -> dict[str, Any]:
    return {
        "sid": message["sid"], "account_sid": account_sid, "to": message["to"],
        "from": message["from"], "body": message["body"], "status": "queued",
        "direction": "outbound-api", "num_segments": "1", "num_media": "0",
        "date_created": date(), "date_updated": date(), "date_sent": None, "price": None,
        "error_code": None, "error_message": None, "api_version": "2010-04-01",
        "messaging_service_sid": message.get("messaging_service_sid"),
        "uri": f"{API}/{account_sid}/Messages/{message['sid']}.json",
    }


def stamp(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def conference_json(room: Any, account_sid: str) -> dict[str, Any]:
    base = f"{API}/{account_sid}/Conferences/{room.sid}"
    return {
        "sid": room.sid, "account_sid": account_sid, "friendly_name": room.name,
        "status": room.status, "region": "us1", "api_version": "2010-04-01",
        "date_created": stamp(room.created_at), "date_updated": stamp(room.updated_at),
        "reason_conference_ended": room.reason_ended,
        "call_sid_ending_conference": room.call_sid_ending, "uri": base + ".json",
        "subresource_uris": {"participants": base + "/Participants.json",
                             "recordings": base + "/Recordings.json"},
    }


def participant_json(room: Any, part: Any, account_sid: str) -> dict[str, Any]:
    return {
        "account_sid": account_sid, "call_sid": part.call_sid, "conference_sid": room.sid,
        "label": part.label, "call_sid_to_coach": part.call_sid_to_coach,
        "coaching": part.coaching, "muted": part.muted, "hold": part.hold,
        "start_conference_on_enter": part.start_on_enter,
        "end_conference_on_exit": part.end_on_exit,
        "status": "complete" if part.gone else "connected", "queue_time": "0",
        "date_created": stamp(part.joined_at), "date_updated": date(),
        "uri": f"{API}/{account_sid}/Conferences/{room.sid}/Participants/{part.call_sid}.json",
    }


def page(key: str, items: list[dict[str, Any]], uri: str) -> dict[str, Any]:
    return {key: items, "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None,
            "page": 0, "page_size": max(50, len(items)), "start": 0, "end": len(items),
            "uri": uri}


def error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
