"""`ivr call` against the fake IVR: directly over HTTP and through the stand-in."""

from __future__ import annotations

from click.testing import CliRunner

from devkit.twilio_standin.clock import SimClock
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from ivr.commands.call import build_script, command
from tests.sim.conftest import TOKEN


def test_press_say_and_script_combine_in_order():
    script = build_script("1, 12#", ("order status",), "hold 2; hangup")
    assert [str(s) for s in script.steps] == [
        "press 1", "press 12#", 'say "order status"', "hold 2", "hangup"]


def test_direct_call_exits_0_when_the_app_behaves(fake_ivr_url):
    result = CliRunner().invoke(command, [fake_ivr_url, "--direct", "--press", "1",
                                          "--script", "hold 1; press 9", "--token", TOKEN])
    assert result.exit_code == 0, result.output
    assert "QueueResult=leave" in result.output
    assert "call completed" in result.output


def test_direct_call_exits_1_on_an_application_error(fake_ivr_url):
    result = CliRunner().invoke(command, [fake_ivr_url, "--direct", "--press", "1",
                                          "--token", "wrong"])
    assert result.exit_code == 1
    assert "an application error has occurred" in result.output


def test_call_through_the_standin_streams_its_transcript(fake_ivr_url):
    config = StandInConfig(app_url=fake_ivr_url, auth_token=TOKEN,
                           clock=lambda: SimClock(yield_seconds=0.001))
    server, _, base = start_server(config)
    try:
        result = CliRunner().invoke(command, ["--standin", base, "--say", "order status"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert "placed call CA" in result.output
    assert "Your order has shipped." in result.output
