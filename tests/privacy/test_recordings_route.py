"""Voicemail audio is served only to signed-in users with the role, streamed from Twilio (the
stand-in) with the account credentials; pages never carry Twilio's URL."""

from __future__ import annotations

from pathlib import Path

from ivr.store import models as m
from queue_worker.outcomes import drain_events
from queue_worker.record_hooks import record_hooks
from tests.e2e.conftest import Live
from tests.privacy.conftest import leave_voicemail, outcome_db
from tests.signin import add_users, signed_in


def test_recording_needs_sign_in_and_the_role_and_is_gone_once_deleted(live: Live, tmp_path: Path):
    leg = leave_voicemail(live)
    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory,
                 hooks=record_hooks(live.app.config["IVR"], live.redis, factory))
    with factory() as session:
        (vm,) = session.get(m.CallRow, leg.call_sid).voicemails
    assert vm.url.startswith(live.standin.config.api_base)
    add_users(tmp_path, ada="admin", sue="supervisor", ann="agent")
    path = f"/recordings/{vm.recording_sid}"

    anonymous = live.app.test_client().get(path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    assert live.app.test_client().get(path, headers={"Accept": "application/json"}
                                      ).status_code == 401
    clients = {name: signed_in(live.app, name) for name in ("ann", "sue", "ada")}
    sue, ann = clients["sue"], clients["ann"]
    assert ann.get(path).status_code == 403                            # agents: no
    for user in ("sue", "ada"):                                        # supervisor, admin
        heard = clients[user].get(path)
        assert heard.status_code == 200
        assert heard.mimetype == "audio/x-wav"
        assert heard.data[:4] == b"RIFF"
        assert "no-store" in heard.headers["Cache-Control"]
    assert live.standin.media_requests[-1] == (f"{vm.recording_sid}.wav",
                                               live.app.config["IVR"].twilio_account_sid)
    pages = pages_showing_twilio_urls(clients["ada"], live.app, vm.url)
    assert pages == {"checked": pages["checked"], "leaking": []}
    assert {"/api/tasks", "/api/calls", "/tasks", "/wallboard"} <= set(pages["checked"])
    assert sue.get("/recordings/RE" + "0" * 32).status_code == 404     # not a voicemail of ours
    config = live.app.config["IVR"]
    live.app.config["IVR"] = config.with_overrides({"recording_roles": "agent"})
    assert ann.get(path).status_code == 200
    assert sue.get(path).status_code == 403
    live.app.config["IVR"] = config
    assert live.standin.delete_recording(vm.recording_sid)
    assert sue.get(path).status_code == 410                            # gone at Twilio
    engine.dispose()


def pages_showing_twilio_urls(client, app, url: str) -> dict[str, list[str]]:
    """Every GET page and API without path parameters, as an admin: which show `url`."""
    checked, leaking = [], []
    for rule in app.url_map.iter_rules():
        path = str(rule.rule)
        if "GET" not in (rule.methods or ()) or rule.arguments:
            continue
        body = client.get(path).get_data(as_text=True)
        checked.append(path)
        if url in body or "/Recordings/" in body:
            leaking.append(path)
    return {"checked": checked, "leaking": leaking}
