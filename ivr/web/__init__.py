"""Flask blueprints: Twilio webhooks, JSON APIs and (from `dashboards/`) the web pages.

Views verify, parse, call a service, render. Every module in `ivr/web/` and `dashboards/` that
defines a module-level `bp` (a Blueprint) is registered, so adding a page or an API is adding a
module: no central list to edit (and no merge conflict when two people add one each).
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint, Flask

BLUEPRINT_PACKAGES = ("ivr.web", "dashboards")


def blueprint_modules() -> list[str]:
    names = []
    for package_name in BLUEPRINT_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                names.append(f"{package_name}.{info.name}")
    return sorted(names)


def register_blueprints(app: Flask) -> None:
    for name in blueprint_modules():
        module = importlib.import_module(name)
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            app.register_blueprint(bp)
