"""The per-caller summary and the history.* variables flows read (pure)."""

from __future__ import annotations

from ivr.domain.caller_history import FIRST_TIME, flow_variables, summary_fields
from ivr.domain.phone_numbers import canonical_number

NOW = 1_800_000_000.0


def test_first_time_caller_has_no_history() -> None:
    assert FIRST_TIME == flow_variables({}, NOW)
    assert FIRST_TIME["returning"] is False
    assert (FIRST_TIME["calls_24h"], FIRST_TIME["open_tasks"]) == (0, 0)
    assert FIRST_TIME["last_satisfaction"] is None
    assert FIRST_TIME["unhappy"] is False


def test_calls_in_the_last_day_are_counted_when_the_new_call_starts() -> None:
    fields = summary_fields([NOW - 90_000, NOW - 7200, NOW - 600], "abandoned", 4, "yes",
                            0, 3, NOW)
    assert fields["starts"] == f"{NOW - 7200:.0f},{NOW - 600:.0f}"  # older than 24 h dropped
    later = flow_variables(fields, NOW + 80_000)  # the first of the two is now > 24 h old
    assert later["calls_24h"] == 1
    now = flow_variables(fields, NOW)
    assert now["calls_24h"] == 2
    assert now["returning"] is True
    assert now["hours_since_last"] == round(600 / 3600, 2)
    assert (now["last_outcome"], now["last_satisfaction"], now["unhappy"]) == (
        "abandoned", 4, False)


def test_low_score_or_open_task_is_unhappy() -> None:
    assert flow_variables(summary_fields([NOW], "answered", 2, None, 0, 1, NOW), NOW)["unhappy"]
    assert flow_variables(summary_fields([NOW], "answered", 5, None, 1, 1, NOW), NOW)["unhappy"]
    assert not flow_variables(summary_fields([NOW], "answered", 3, None, 0, 1, NOW),
                              NOW)["unhappy"]


def test_malformed_summary_reads_as_unknown_not_an_error() -> None:
    odd = flow_variables({"starts": "x,,12", "last_satisfaction": "great", "open_tasks": "?",
                          "last_seen": "soon"}, NOW)
    assert odd["last_satisfaction"] is None
    assert odd["open_tasks"] == 0
    assert odd["returning"] is False


def test_numbers_in_any_common_form_are_one_caller() -> None:
    forms = ["+14155550100", "+1 415 555 0100", "4155550100", "(415) 555-0100",
             "14155550100", "001 415 555 0100"]
    assert {canonical_number(f) for f in forms} == {"+14155550100"}
    assert canonical_number("+44 20 7946 0000") == "+442079460000"
    assert canonical_number("anonymous") == "anonymous"
    assert canonical_number(" client:alice ") == "client:alice"


def _canonical_before(raw: str, country_code: str = "1") -> str:
    """canonical_number without its E.164 shortcut (commit f571bca)."""
    from ivr.domain.phone_numbers import from_keypad, normalise_number

    cleaned = normalise_number(raw)
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not digits.isdigit():
        return (raw or "").strip()
    return cleaned if cleaned.startswith("+") else from_keypad(cleaned, country_code)


def test_the_e164_shortcut_gives_what_the_steps_gave() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    parts = st.sampled_from(["+", "1", "4", "0", "00", " ", "-", "(", ")", ".", "²", "١",
                             "a", "client:", "anonymous", "+1415"])

    @given(st.lists(parts, max_size=8).map("".join) | st.text(max_size=12))
    def check(raw: str) -> None:
        assert canonical_number(raw) == _canonical_before(raw)

    check()
