"""Every page route of the web pages: without a session the login page (or 401 for JSON
APIs), with the wrong role 403; the agent console's callback list holds only the agent's own
queues and says which callbacks are overdue."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from tests.signin import pages_app, signed_in

PAGES = {  # path: roles that may open it (admins may open everything)
    "/wallboard": ("supervisor",), "/wallboard/board.json": ("supervisor",),
    "/wallboard/events": ("supervisor",), "/agent": ("agent", "supervisor"),
    "/agent/context.json?agent=carol": ("agent", "supervisor"),
    "/agent/callbacks.json": ("agent", "supervisor"), "/tasks": ("agent", "supervisor"),
}


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    return pages_app(redis_url, tmp_path, {"carol": "agent", "sue": "supervisor",
                                           "ada": "admin"})


@pytest.mark.parametrize("path", sorted(PAGES))
def test_pages_need_sign_in_and_the_role(app: Flask, path: str):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")  # the sign-in page
    for name, role in (("carol", "agent"), ("sue", "supervisor"), ("ada", "admin")):
        got = signed_in(app, name).get(path)
        allowed = role == "admin" or role in PAGES[path]
        # the wallboard's events come from the stream service (ivr/live/): here, 404 at once
        ok = 404 if path.endswith("/events") else 200
        assert got.status_code == (ok if allowed else 403), (path, name, got.status_code)


def test_callback_list_holds_the_agents_own_queues(app: Flask):
    engine = app.extensions["ivr"].queue_engine
    now = time.time()
    engine.callbacks.request("support", "+14155550101", now - 1000)  # overdue after 900 s
    engine.callbacks.request("sales", "+14155550102", now - 10)
    engine.callbacks.request("support", "+14155550103", now - 5)
    carol = signed_in(app, "carol").get("/agent/callbacks.json").get_json()  # sales, billing
    assert carol["queues"] == ["billing", "sales"]
    assert [(c["number"], c["overdue"]) for c in carol["callbacks"]] == [("+14155550102", False)]
    sue = signed_in(app, "sue").get("/agent/callbacks.json").get_json()  # not an agent: all
    assert [(c["queue"], c["number"], c["overdue"]) for c in sue["callbacks"]] == [
        ("support", "+14155550101", True), ("sales", "+14155550102", False),
        ("support", "+14155550103", False)]
    assert sue["callbacks"][0]["waiting"] >= 1000
    assert sue["callbacks"][0]["caller_name"] == ""


@pytest.mark.parametrize("path", ["/login", "/agent", "/tasks"])
def test_every_page_names_its_icon(app: Flask, path: str):
    """Browsers ask for /favicon.ico when a page names no icon: a 404 in every log."""
    page = signed_in(app, "ada").get(path).get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/pages/favicon.svg">' in page
    icon = app.test_client().get("/static/pages/favicon.svg")
    assert icon.status_code == 200
    assert icon.content_type.startswith("image/svg+xml")
