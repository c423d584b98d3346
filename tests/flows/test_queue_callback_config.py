"""queues.yaml's toll-fraud settings (issue 12, item 4): `callback: {countries: [...],
max_per_number_per_day: N}` and `business: {country: ...}`, refused by `ivr check` with
FILE:LINE when wrong. The old parser ignored both keys, so every bad value passed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

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
    callback:
      enabled: true
      countries:
        - US
        - CA
      max_per_number_per_day: 3
  sales:
    skill: sales
  billing:
    skill: billing
    callback: {enabled: false}
"""


def check(tmp_path: Path, text: str) -> tuple[int, list[str], Path]:
    path = tmp_path / "queues.yaml"
    path.write_text(text)
    result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG),
                                                "--queues", str(path)])
    return result.exit_code, result.output.splitlines(), path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_countries_limit_and_default_are_read(tmp_path: Path):
    code, output, path = check(tmp_path, QUEUES)
    assert code == 0, output
    setup = load_queues(path)
    assert setup.queues["support"].callback.countries == {"US", "CA"}
    assert setup.queues["support"].callback.max_per_number_per_day == 3
    assert setup.queues["sales"].callback.countries == {"US"}  # the business's country
    assert setup.queues["sales"].callback.max_per_number_per_day == 3
    assert setup.callback_countries == {"US", "CA"}


@pytest.mark.parametrize(("old", "new", "at", "message"), [
    ("        - CA", "        - XX", "- XX",
     "callback country 'XX' is not an ISO 3166 country code"),
    ("        - CA", "        - UK", "- UK", "callback country 'UK' is not an ISO 3166"),
    ("        - CA", "        - NO", "- NO", "countries[1]: NO is read as a boolean"),
    ("  country: US", "  country: ZZ", "country: ZZ", "business country 'ZZ' is not an ISO"),
    ("max_per_number_per_day: 3", "max_per_number_per_day: 0", "max_per_number_per_day",
     "max_per_number_per_day: 0 must be at least 1"),
    ("max_per_number_per_day: 3", "max_per_number_per_day: lots", "max_per_number_per_day",
     "max_per_number_per_day: lots is read as text; it must be a whole number"),
    ("      countries:\n", "      countrys:\n", "countrys:", "unknown key 'countrys'"),
    ("      countries:\n        - US\n        - CA\n", "      countries: US\n", "countries: US",
     "callback.countries must be a list, not a scalar"),
])
def test_bad_callback_settings_are_refused_at_their_line(tmp_path: Path, old, new, at,
                                                          message):
    assert old in QUEUES
    code, output, path = check(tmp_path, QUEUES.replace(old, new))
    assert code == 1
    (line,) = output
    assert line.startswith(f"{path}:{line_of(path, at)}: "), line
    assert message in line


def test_business_country_defaults_to_the_caller_ids_country():
    data = {"queues": {"support": {"skill": "support"}}}
    uk = parse_queues(data, caller_id="+442079460018")
    assert uk.business_country == "GB"
    assert uk.queues["support"].callback.countries == {"GB"}
    assert parse_queues(data).queues["support"].callback.countries == {"US"}
    assert parse_queues(data, caller_id="+19005550100").business_country == "US"  # not valid


def test_the_shipped_queues_file_lists_north_america_for_support():
    setup = load_queues(REPO_ROOT / "queues.yaml")
    assert setup.queues["support"].callback.countries == {"US", "CA"}
    assert setup.queues["sales"].callback.countries == {"US"}


def test_data_without_lines_still_names_the_file():
    with pytest.raises(ConfigError, match=r"^queues.yaml: queue 'support' callback"):
        parse_queues({"queues": {"support": {"skill": "s", "callback": {"retry": 1}}}})
