"""How the queue and agent-floor webhooks (ivr/web/queue.py, ivr/web/floor.py) are declared,
so that each view is only its parse and its service call.

- `hook(bp, path, guard)` registers a signed POST route: the signature is checked first (403
  when forged, ivr/phone/twilio_auth.py), then the view runs under `guard`, which turns any
  failure into the right fallback (ivr/web/voice.py `never_fails`: a route to a human;
  `never_fails_holding`: keep holding; floor.py's guards for an agent's leg and for status
  callbacks).
- `arg` and `form_value` read the query and the form bounded, as every webhook must (a
  missing value is "").
- `routing(service)` is a queue routing service, or LookupError when queues.yaml is absent
  (the guard answers with the fallback).

Imports neither of the two blueprints: both import this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request

from ivr.phone.twilio_auth import twilio_webhook
from ivr.web.voice import never_fails

T = TypeVar("T")
Guard = Callable[[Callable[..., Any]], Callable[..., Response]]


def hook(bp: Blueprint, path: str, guard: Guard = never_fails,
         ) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Register the decorated view as `bp`'s signed POST webhook at `path`, under `guard`."""

    def register(view: Callable[..., Any]) -> Callable[..., Response]:
        guarded = twilio_webhook(guard(view))
        bp.post(path)(guarded)
        return guarded

    return register


def arg(name: str, limit: int = 64) -> str:
    """The query argument `name` (our own, in the URL we gave Twilio), at most `limit` long."""
    return (request.args.get(name) or "")[:limit]


def form_value(name: str, limit: int) -> str:
    """Twilio's form field `name`, at most `limit` long."""
    return (request.form.get(name) or "")[:limit]


def routing(service: T | None) -> T:
    """`service` (one of `services()`' queue routing services), which is None without
    queues.yaml."""
    if service is None:
        raise LookupError("queue routing is off (no queues.yaml)")
    return service
