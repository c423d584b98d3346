"""Compiled conditions (conditions.compile_condition, what branch nodes run) give what
`evaluate` gives, on generated trees and contexts; and the orderings give what the four-way
comparison they replaced gave."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.flow import conditions as c

SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | \
    st.sampled_from(["", "a", "gold", "3", "2.5", "x y"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "tier"]), inner, max_size=3), max_leaves=6)
PATHS = st.lists(st.sampled_from(["a", "b", "tier", "order", "missing"]), min_size=1,
                 max_size=3).map(tuple)
OPS = st.sampled_from(c._COMPARE)


def trees() -> st.SearchStrategy[c.Expr]:
    leaves = st.builds(c.Literal, SCALARS) | st.builds(c.Name, PATHS)
    return st.recursive(leaves, lambda inner: (
        st.builds(c.ListOf, st.lists(inner, max_size=3).map(tuple))
        | st.builds(c.Not, inner)
        | st.builds(c.BoolOp, st.sampled_from(["and", "or"]),
                    st.lists(inner, min_size=1, max_size=3).map(tuple))
        | st.builds(c.Compare, OPS, inner, inner)), max_leaves=8)


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", fn(*args)
    except Exception as exc:  # noqa: BLE001 - both must fail alike
        return "raised", type(exc)


@given(expr=trees(), context=st.dictionaries(st.sampled_from(["a", "b", "tier", "order"]),
                                              VALUES, max_size=4))
def test_a_compiled_condition_gives_what_evaluate_gives(expr: c.Expr,
                                                        context: dict[str, Any]) -> None:
    assert outcome(c.compile_condition(expr), context) == outcome(c.evaluate, expr, context)


def four_way(op: str, left: Any, right: Any) -> bool:
    """The ordering as `_compare` worked it out before (commit f571bca)."""
    try:
        return bool({"<": left < right, "<=": left <= right,
                     ">": left > right, ">=": left >= right}[op])
    except TypeError:
        return False


@given(op=st.sampled_from(["<", "<=", ">", ">="]), left=VALUES, right=VALUES)
def test_orderings_give_what_the_four_way_comparison_gave(op: str, left: Any,
                                                          right: Any) -> None:
    if isinstance(left, int | float) != isinstance(right, int | float):
        left, right = c._number(left), c._number(right)
    assert c._compare(op, left, right) == four_way(op, left, right)
