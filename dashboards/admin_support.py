"""What the admin pages share: the flow publisher per app (ivr/app/flow_publisher.py), CSRF
checks, the signed-in author. The database schema is upgraded on first use by the admin
pages, never on the webhook path.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

# Sign-in, roles and CSRF are dashboards/auth.py's; re-exported for the admin views, which
# also call check_csrf explicitly (require_role checks it too) so no POST can skip it.
from dashboards.auth import check_csrf, csrf_token, current_user, require_role
from ivr.app.flow_publisher import converge_flows, publisher
from ivr.store.db import upgrade_database


def ensure_schema() -> None:
    """Migrate the database once per process before the first versions query."""
    if current_app.extensions.get("ivr_admin_schema"):
        return
    engine = publisher().sessions.kw["bind"]
    upgrade_database(engine)
    current_app.extensions["ivr_admin_schema"] = True


def author_name() -> str:
    """The signed-in user's name, recorded as a version's author."""
    user: Any = current_user()
    for attr in ("username", "name", "email"):
        value = getattr(user, attr, None) or (user.get(attr) if isinstance(user, dict) else None)
        if value:
            return str(value)
    return str(user or "unknown")


__all__ = ["author_name", "check_csrf", "converge_flows", "csrf_token", "ensure_schema",
           "publisher", "require_role"]
