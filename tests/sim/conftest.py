"""Fixtures for the simulator's tests: the fake IVR in-process and over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.sim.fake_ivr import create_fake_ivr

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
