"""Flask blueprints: Twilio webhooks and JSON APIs. Views verify, parse, call a service, render."""

from __future__ import annotations

import importlib

from flask import Flask

# Blueprints by module; a part of the product that is not installed yet is simply skipped.
BLUEPRINT_MODULES = (
    "ivr.web.voice",
    "ivr.web.queue",
    "ivr.web.prompts",
    "ivr.web.agents",
    "ivr.web.health",
    "ivr.web.metrics",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.register_blueprint(module.bp)
