"""The branch condition language: grammar, evaluation, and what it refuses."""

from __future__ import annotations

import pytest

from ivr.domain.flow.conditions import (
    ConditionError,
    compile_condition,
    evaluate,
    names_in,
    parse_condition,
)

CONTEXT = {
    "caller": {"From": "+15551230000", "Country": "US"},
    "order": {"status": "shipped", "total": "116.11", "items": "3"},
    "time": {"hour": 18, "weekday": "sat"},
    "flags": {"storm_mode": True},
    "tier": "gold",
}


@pytest.mark.parametrize(("text", "expected"), [
    ("order.status == 'shipped'", True),
    ('order.status != "shipped"', False),
    ("order.total > 100", True),          # numeric string vs number compares as numbers
    ("order.total <= 100.5", False),
    ("time.hour >= 9 and time.hour < 17", False),
    ("time.weekday in ['sat', 'sun']", True),
    ("time.weekday not in ['sat', 'sun']", False),
    ("not flags.storm_mode", False),
    ("flags.storm_mode == true", True),
    ("tier == 'gold' or tier == 'platinum'", True),
    ("(tier == 'silver' or order.items >= 3) and caller.Country == 'US'", True),
    ("missing.thing == none", True),      # unknown names are none, not errors
    ("missing.thing > 3", False),         # none never satisfies an ordering
    ("'+1555' in caller.From", True),
    ("not not true", True),
])
def test_evaluates(text: str, expected: bool) -> None:
    assert evaluate(parse_condition(text), CONTEXT) is expected
    assert compile_condition(parse_condition(text))(CONTEXT) is expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('rm -rf /')",
    "order.__class__ == 1",
    "_private == 1",
    "open('x')",
    "order.status == 'a' 'b'",
    "order.status ==",
    "eval",                                # a bare name is fine, but calling is not:
    "lambda: 1",
    "order['status'] == 1",
    "1 +",
    "",
])
def test_rejects_everything_outside_the_grammar(text: str) -> None:
    if text == "eval":
        assert evaluate(parse_condition(text), {}) is None  # just an unknown name
        return
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_names_are_reported_for_the_vocabulary_check() -> None:
    tree = parse_condition("order.status in [tier, 'x'] and not caller.From == flags.vip")
    assert sorted(names_in(tree)) == [("caller", "From"), ("flags", "vip"),
                                      ("order", "status"), ("tier",)]


def test_names_walk_mappings_only_never_attributes() -> None:
    class Secret:
        password = "hunter2"

    assert evaluate(parse_condition("obj.password == 'hunter2'"), {"obj": Secret()}) is False
