"""Fixtures for the simulator's tests: the fake IVR in-process and over real HTTP; the
conference app (tests/sim/conference_app.py) with a stand-in and a real twilio Client on it
(`app`, `standin`, `client`; test_standin.py has its own `standin` and `client`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from devkit.twilio_standin.client import make_rest_client
from devkit.twilio_standin.clock import SimClock
from devkit.twilio_standin.leg import DEV_ACCOUNT_SID
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from tests.sim.conference_app import create_conference_app
from tests.sim.fake_ivr import create_fake_ivr
from tests.twiml_validate import twiml_problems

TOKEN = "sim-test-token"


@pytest.fixture
def fake_ivr():
    return create_fake_ivr(TOKEN)


@pytest.fixture
def fake_ivr_url(fake_ivr) -> Iterator[str]:
    """The fake IVR served on 127.0.0.1, a free port, in a thread."""
    server = make_server("127.0.0.1", 0, fake_ivr, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def app():
    return create_conference_app(TOKEN)


@pytest.fixture
def app_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def standin(app_url):
    config = StandInConfig(app_url=app_url, auth_token=TOKEN, max_hold_loops=2000,
                           talk_seconds=10**6, validate=twiml_problems,
                           clock=lambda: SimClock(yield_seconds=0.005))
    server, state, base_url = start_server(config)
    yield state, base_url
    state.hang_up()
    state.join()
    server.shutdown()


@pytest.fixture
def client(standin):
    return make_rest_client(standin[1], DEV_ACCOUNT_SID, TOKEN)
