"""What a flow's conditions and templates may read during one step, as a live read-only view
of the step (`StepContext`), instead of a dict built each time a node reads it.

Why a view: a call start reads the context four times (a branch, every prompt, the menu), and
each dict copied every variable and worked out the step's local time, which the shop flow's
first step never reads. The view looks a name up when a condition or template asks for it.
The names, their values and their precedence are the dict's (`snapshot` builds that dict;
tests/domain/flow/test_step_context.py holds the view to it): the call's public variables (not
those starting with `_`), then the built-in names, which win over a variable of the same name
(see validator.BUILT_IN_NAMES and callflows/README.md). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ivr.domain.caller_history import FIRST_TIME

if TYPE_CHECKING:
    from ivr.domain.flow.interpreter import Run

BUILT_INS: dict[str, Callable[[Run], Any]] = {
    "caller": lambda run: run.vars.get("caller", {}),
    "flags": lambda run: run.vars.get("flags", {}),
    "history": lambda run: run.vars.get("history", FIRST_TIME),
    "language": lambda run: run.language,
    "call": lambda run: {"attempts": run.attempts, "flow": run.flow.id},
    "time": lambda run: dict(run.local_time()),
}
"""Name -> its value in the step; worked out when read, so always the step's current one."""
_MISSING = object()  # `get`'s answer for a name the step does not have


class StepContext(Mapping[str, Any]):
    """The names a condition or template can read in `run`, looked up when read."""

    __slots__ = ("_run",)

    def __init__(self, run: Run) -> None:
        self._run = run

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """As `Mapping.get`, without raising and catching KeyError for a missing name (a
        condition on a variable the call does not have reads `none`)."""
        built_in = BUILT_INS.get(name)
        if built_in is not None:
            return built_in(self._run)
        if name.startswith("_"):
            return default
        return self._run.vars.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in BUILT_INS or (isinstance(name, str) and not name.startswith("_")
                                     and name in self._run.vars)

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The context as a dict of its values now (a `set` node renders every value from
        the context as it was before the node, so a value never sees a sibling's new one)."""
        run = self._run
        public = {k: v for k, v in run.vars.items() if not k.startswith("_")}
        return {**public, **{name: value(run) for name, value in BUILT_INS.items()}}
