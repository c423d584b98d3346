"""Numbers in the configuration that the product dials are held to the callbacks' toll-fraud
rules (ivr/domain/phone_numbers.py): an agent's phone in queues.yaml (`address`) and
IVR_FALLBACK_NUMBER. A premium-rate, personal, satellite or foreign number there would be
called at the business's expense on every routed or failed call, so `ivr check` refuses it
(FILE:LINE for the agent, the setting's name for the fallback) and so do the loader and the
app's start. The countries are every country some queue calls back."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr import create_app
from ivr.commands.check import command as check_command
from ivr.config.queues import load_queues, parse_queues
from ivr.config.settings import REPO_ROOT
from ivr.domain.errors import ConfigError

from .conftest import CATALOG, FLOWS_DIR

QUEUES = """\
business:
  country: US
queues:
  support:
    skill: support
    callback: {countries: [US, GB]}
  sales:
    skill: sales
  billing:
    skill: billing
agents:
  alice: {address: "client:alice", skills: {support: 5}}
  sam: {address: "sip:sam@pbx.example.com", skills: {sales: 3}}
  bob: {address: "+14155550190", skills: {support: 2}}
  gwen: {address: "+442079460018", skills: {support: 4}}
"""
BOB = '"+14155550190"'

REFUSED = [  # bob's number, what the refusal says
    ("+19005550100", "is a premium-rate number"),
    ("+15005550006", "is a personal (forwarding) number"),  # Twilio's magic test number
    ("+881612345678", "is a satellite or international network number"),
    ("+18765550100", "is a number in JM; callbacks go to GB, US only"),  # Jamaica, in +1
    ("+4915112345678", "is a number in DE; callbacks go to GB, US only"),
    ("4155550190", "is not an E.164 number"),
    ("911", "is a short number"),
]


def check(tmp_path: Path, text: str, **env: str) -> tuple[int, list[str], Path]:
    path = tmp_path / "queues.yaml"
    path.write_text(text)
    result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG),
                                                "--queues", str(path)],
                                env={"IVR_FALLBACK_NUMBER": "", **env})
    return result.exit_code, result.output.splitlines(), path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_softphones_sip_and_ordinary_numbers_in_the_called_back_countries_pass(tmp_path):
    code, output, path = check(tmp_path, QUEUES)
    assert code == 0, output
    addresses = {a.id: a.address for a in load_queues(path).agents}
    assert addresses == {"alice": "client:alice", "sam": "sip:sam@pbx.example.com",
                         "bob": "+14155550190", "gwen": "+442079460018"}


@pytest.mark.parametrize(("number", "says"), REFUSED)
def test_ivr_check_refuses_an_agent_number_at_its_line(tmp_path, number: str, says: str):
    code, output, path = check(tmp_path, QUEUES.replace(BOB, f'"{number}"'))
    assert code == 1
    (line,) = output
    prefix = f"{path}:{line_of(path, 'bob:')}: agent 'bob' address: '{number}' "
    assert line.startswith(prefix), line
    assert says in line
    assert "give an ordinary number in GB, US, or client:NAME" in line


def test_a_country_no_queue_calls_back_is_refused_even_for_a_valid_number(tmp_path):
    text = QUEUES.replace("    callback: {countries: [US, GB]}\n", "")
    code, output, path = check(tmp_path, text)
    assert code == 1
    (line,) = output
    assert line.startswith(f"{path}:{line_of(path, 'gwen:')}: agent 'gwen' address: "
                           "'+442079460018' is a number in GB; callbacks go to US only"), line


def test_the_loader_refuses_it_too_so_the_app_never_rings_it():
    data = {"queues": {"support": {"skill": "support"}},
            "agents": {"bob": {"address": "+19005550100", "skills": {"support": 1}}}}
    with pytest.raises(ConfigError, match=r"^queues.yaml: agent 'bob' address: "
                                          r"'\+19005550100' is a premium-rate number"):
        parse_queues(data)


@pytest.mark.parametrize(("number", "says"), REFUSED)
def test_ivr_check_refuses_the_fallback_number_by_its_setting(tmp_path, number: str,
                                                              says: str):
    code, output, _ = check(tmp_path, QUEUES, IVR_FALLBACK_NUMBER=number)
    assert code == 1
    (line,) = output
    assert line.startswith(f"IVR_FALLBACK_NUMBER: '{number}' "), line
    assert says in line
    assert "give an ordinary number in GB, US, or unset it" in line


@pytest.mark.parametrize("number", ["+14155550100", "+442079460018"])
def test_a_fallback_number_in_a_called_back_country_passes(tmp_path, number: str):
    code, output, _ = check(tmp_path, QUEUES, IVR_FALLBACK_NUMBER=number)
    assert code == 0, output


def test_the_app_does_not_start_with_a_premium_fallback_number(redis_url: str, tmp_path):
    queues = tmp_path / "queues.yaml"
    queues.write_text(QUEUES)
    settings = {"redis_url": redis_url, "dev_mode": True, "queues_file": queues,
                "instance_dir": tmp_path / "instance"}
    with pytest.raises(ConfigError, match=r"^IVR_FALLBACK_NUMBER: '\+19005550100' is a "
                                          r"premium-rate number"):
        create_app({**settings, "fallback_number": "+19005550100"})
    with pytest.raises(ConfigError, match=r"^IVR_FALLBACK_NUMBER: '\+18765550100' is a "
                                          r"number in JM"):
        create_app({**settings, "fallback_number": "+18765550100"})
    app = create_app({**settings, "fallback_number": "+442079460018"})  # support calls GB
    assert app.config["IVR"].fallback_number == "+442079460018"


def test_the_shipped_queues_file_passes():
    agents = load_queues(REPO_ROOT / "queues.yaml").agents
    assert [a.address for a in agents if not a.address.startswith("client:")] == [
        "+14155550190"]
