"""The step's context view (ivr/domain/flow/step_context.py) reads what the dict it replaced
held: the same names, values and precedence, for any variables, language and attempts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.caller_history import FIRST_TIME
from ivr.domain.flow import interpreter
from ivr.domain.flow.model import Flow
from ivr.domain.flow.step_context import BUILT_INS, StepContext

from .conftest import event


def dict_context(run: interpreter.Run) -> dict[str, Any]:
    """The context as `Run.context()` built it before the view (commit f571bca)."""
    public = {k: v for k, v in run.vars.items() if not k.startswith("_")}
    return {
        **public,
        "caller": run.vars.get("caller", {}),
        "flags": run.vars.get("flags", {}),
        "history": run.vars.get("history", FIRST_TIME),
        "language": run.language,
        "call": {"attempts": run.attempts, "flow": run.flow.id},
        "time": dict(run.local_time()),
    }


NAMES = st.sampled_from(["order", "tier", "_survey", "_x", "caller", "flags", "history",
                         "time", "call", "language", "count", "x_y"])
VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                      lambda inner: st.dictionaries(st.text(max_size=4), inner, max_size=3),
                      max_leaves=6)


@pytest.fixture(scope="module")
def flow() -> Flow:
    from ivr.domain.flow.loader import SYSTEM_PROMPTS, load_flow

    from .conftest import DictCatalog, flow_text

    texts = {name: {"en-US": name, "es-US": name} for name in SYSTEM_PROMPTS}
    return load_flow(flow_text("main: {type: hangup, reason: done}\n"), "t.yaml",
                     DictCatalog(texts))


def a_run(flow: Flow, variables: dict[str, Any], language: str,
          attempts: int) -> interpreter.Run:
    return interpreter.Run(flow=flow, event=event("start"), language=language,
                           vars=variables, outcome={}, path=[], attempts=attempts)


@given(variables=st.dictionaries(NAMES, VALUES, max_size=6),
       language=st.sampled_from(["en-US", "es-US"]), attempts=st.integers(0, 3),
       asked=st.lists(NAMES | st.text(max_size=6), max_size=8))
def test_the_view_reads_what_the_dict_held(flow: Flow, variables: dict[str, Any],
                                           language: str, attempts: int,
                                           asked: list[str]) -> None:
    run = a_run(flow, variables, language, attempts)
    view, expected = run.context(), dict_context(run)
    assert isinstance(view, StepContext)
    assert dict(view) == expected == view.snapshot()
    assert len(view) == len(expected)
    for name in [*asked, *expected]:
        assert view.get(name) == expected.get(name)
        assert view.get(name, "absent") == expected.get(name, "absent")
        assert (name in view) == (name in expected)
        if name in expected:
            assert view[name] == expected[name]
        else:
            with pytest.raises(KeyError):
                view[name]


def test_the_view_follows_the_step(flow: Flow) -> None:
    """Unlike a dict built once, the view reads the run as it is now: a changed language,
    attempt count or variable is what the next condition sees."""
    run = a_run(flow, {"order": "A1"}, "en-US", 0)
    view = run.context()
    run.language, run.attempts, run.vars["order"] = "es-US", 2, "B2"
    assert (view["language"], view["call"]["attempts"], view["order"]) == ("es-US", 2, "B2")
    assert run.context() is view  # one per step


def test_every_built_in_name_is_listed(flow: Flow) -> None:
    from ivr.domain.flow.validator import BUILT_IN_NAMES

    assert set(BUILT_INS) <= set(BUILT_IN_NAMES)


def test_a_set_node_renders_from_the_context_before_it(make_flow: Callable[..., Flow]) -> None:
    """A `set` node's values all see the variables as they were before the node, as they did
    with the dict: `b` renders the old `a`, not the one set beside it."""
    flow = make_flow("""\
main: {type: set, values: {a: "new"}, next: both}
both: {type: set, values: {a: "newer", b: "{{ a }}"}, next: bye}
bye: {type: hangup, reason: done}
""")
    state, _ = interpreter.start(flow, event("start"))
    assert (state.vars["a"], state.vars["b"]) == ("newer", "new")
