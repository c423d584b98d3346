"""The caller's script: what the simulated caller does when the call needs them.

Text form, steps separated by `;` or newlines (quotes as in a shell):

    press 1; press 12345#; say "order status"; wait 6; hold 3; hangup

* `press KEYS`: DTMF keys, consumed by a Gather or ending a Record.
* `say "TEXT"`: speech, consumed by a Gather with speech input or recorded by Record.
* `wait N`: N seconds of silence (a Gather times out when N reaches its timeout).
* `hold N`: stay in a queue for N waitUrl loops.
* `hangup`: the caller hangs up at that point.

When the steps run out, `ask` (interactive mode) is called for the next one; without it the
caller hangs up at the next point that needs them (Gather, Record), and holds in a queue until
the leg's loop bound.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KINDS = ("press", "say", "wait", "hold", "hangup")
DTMF_KEYS = set("0123456789*#")


class ScriptError(ValueError):
    """A script step could not be parsed; the message names the step and the fix."""


@dataclass
class ScriptStep:
    kind: str
    value: str = ""
    count: int = 0

    def __str__(self) -> str:
        if self.kind == "say":
            return f'say "{self.value}"'
        if self.kind == "press":
            return f"press {self.value}"
        if self.kind in ("wait", "hold"):
            return f"{self.kind} {self.count}"
        return self.kind


def parse_step(text: str) -> ScriptStep:
    words = shlex.split(text)
    if not words or words[0] not in KINDS:
        raise ScriptError(f"script step {text!r}: start it with one of {', '.join(KINDS)}")
    kind, args = words[0], words[1:]
    if kind == "hangup":
        if args:
            raise ScriptError(f"script step {text!r}: hangup takes no argument")
        return ScriptStep(kind)
    if len(args) != 1:
        raise ScriptError(f"script step {text!r}: {kind} takes exactly one argument")
    arg = args[0]
    if kind == "press":
        if not arg or set(arg) - DTMF_KEYS:
            raise ScriptError(f"script step {text!r}: press takes keys 0-9, * and #")
        return ScriptStep(kind, arg)
    if kind == "say":
        return ScriptStep(kind, arg)
    if not arg.isdigit():
        raise ScriptError(f"script step {text!r}: {kind} takes a whole number")
    return ScriptStep(kind, count=int(arg))


def split_steps(text: str) -> list[str]:
    """Split on `;` and newlines outside double or single quotes."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in ";\n":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


class Script:
    """A queue of steps shared by the leg's verbs. Thread-safe enough for one leg thread."""

    def __init__(self, steps: Iterable[ScriptStep | str] = (),
                 ask: Callable[[str], ScriptStep | None] | None = None) -> None:
        self.steps = [s if isinstance(s, ScriptStep) else parse_step(s) for s in steps]
        self.ask = ask

    @classmethod
    def parse(cls, text: str, ask: Callable[[str], ScriptStep | None] | None = None) -> Script:
        return cls([parse_step(s) for s in split_steps(text)], ask)

    def peek(self, need: str = "") -> ScriptStep | None:
        """The next step, asking interactively (`need` says what for) when none is left."""
        if not self.steps and self.ask is not None and need:
            step = self.ask(need)
            if step is not None:
                self.steps.append(step)
        return self.steps[0] if self.steps else None

    def pop(self) -> ScriptStep | None:
        return self.steps.pop(0) if self.steps else None

    def __len__(self) -> int:
        return len(self.steps)
