"""The agent presence JSON API (ivr/web/agents.py) on a bare Flask app and the real Redis."""

from __future__ import annotations

import pytest
from flask import Flask

from ivr.web.agents import bp
from tests.store.queue_fixtures import NOW, make_service


@pytest.fixture
def client(redis):
    app = Flask(__name__)
    app.extensions["ivr_queue_service"] = make_service(redis)
    app.register_blueprint(bp)
    return app.test_client()


def test_list_and_set_presence(client):
    agents = client.get("/api/agents").get_json()["agents"]
    assert [a["id"] for a in agents] == ["alice", "bob", "carol", "dan"]
    assert {a["presence"] for a in agents} == {"offline"}
    resp = client.post("/api/agents/bob/presence", json={"state": "available"})
    assert resp.status_code == 200
    assert resp.get_json()["presence"] == "available"
    assert resp.get_json()["since"] > NOW


@pytest.mark.parametrize(("agent", "body", "status", "says"), [
    ("bob", {"state": "napping"}, 400, "unknown presence"),
    ("bob", {"state": "on_call"}, 400, "routing engine"),
    ("bob", {"nope": 1}, 400, '"state"'),
    ("zed", {"state": "available"}, 404, "ivr agent list"),
])
def test_errors_say_what_to_fix(client, agent, body, status, says):
    resp = client.post(f"/api/agents/{agent}/presence", json=body)
    assert resp.status_code == status
    assert says in resp.get_json()["error"]
