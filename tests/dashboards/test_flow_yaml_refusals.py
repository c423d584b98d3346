"""A 600-byte "billion laughs" draft posted to the admin editor's validation and publish is
refused with its FILE:LINE, quickly, and the live flow keeps answering calls (issue 12, 7c).

Before the fix the editor's graph of the draft walked the expanded tree (10**9 strings) and
pinned the request's thread; each request here runs in a thread joined with a generous
timeout, so a regression fails instead of hanging the run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboards.test_admin_flows import OLD_MENU, admin, app, call_hears  # noqa: F401
from tests.flows.test_yaml_refusals import BOMB_LINE, billion_laughs


def finished(work: Callable[[], Any], timeout: float = 120.0) -> Any:
    """`work()`'s result, or a test failure if it is still running after `timeout` s."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the request is still walking the YAML"
    return out[0]


def test_billion_laughs_draft_is_refused_and_the_live_flow_runs(
        app: Flask, admin: tuple[FlaskClient, str]) -> None:  # noqa: F811
    client, csrf = admin
    draft = billion_laughs()
    checked = finished(lambda: client.post("/admin/flows/shop/check", json={"text": draft},
                                           headers={"X-CSRF-Token": csrf}))
    assert checked.status_code == 200
    body = checked.json
    assert body["ok"] is False
    assert [(e["line"], e["here"]) for e in body["errors"]] == [(BOMB_LINE, True)]
    assert "anchors (&a0) are not allowed" in body["errors"][0]["message"]
    assert body["errors"][0]["file"].endswith("shop.yaml")

    refused = finished(lambda: client.post("/admin/flows/shop/publish", data={
        "text": draft, "message": "boom", "csrf_token": csrf}))
    assert refused.status_code == 422
    assert f"line {BOMB_LINE}:".encode() in refused.data
    assert OLD_MENU in call_hears(app)
