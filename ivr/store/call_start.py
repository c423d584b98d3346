"""A new call's first step in one Redis round trip instead of two (issue 13 item 3).

Why: `POST /voice` for a new call cost two round trips (call_begin.lua locks the call and reads
its state with the operator flags and the caller's summary; call_commit.lua records the step),
and waiting on Redis, then for the GIL after each socket call, was most of its server CPU under
gunicorn's threads (docs/performance.md). A new call has no state, so the only things its first
step reads are the operator flags and the caller's summary. This process remembers what it
last saw of both (`StartGuesses`), the call service computes the step from that guess, and
scripts/call_start.lua records it only if, at that moment, the call has no state, no answer and
no lock holder, and both hashes are exactly as guessed. So what is recorded is what the locked
path would have recorded had it run at that moment: flipping a flag still takes effect on the
next call in every process. A wrong guess writes nothing and brings the hashes back: the step
is computed again from them and offered once more; anything else (a retry of a call already
answered, a request holding the call's lock, a hash of the wrong type) takes the locked path
(ivr/phone/calls.py CallService.start). IVR_ONE_TRIP_START=0 turns this off.

The flags and summaries are compared as HGETALL returns them (the items in order): a hash
rewritten with the same fields in another order only costs one more round trip.

Redis Cluster: the script reads the flags and the summary beside the call's keys, two keys in
other slots, like the events stream call_commit.lua already writes (docs/deployment.md: Cluster
is not supported yet); a Cluster deployment would turn this off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from ivr.domain.caller_history import FIRST_TIME, flow_variables
from ivr.domain.phone_numbers import canonical_number
from ivr.store import keys
from ivr.store.call_state import CallStateStore, StoredCall, commit_keys, script_text
from ivr.store.lean_script import LeanScript
from ivr.store.scripts import text

SUMMARIES = 4096  # callers whose summary (as last seen) this process remembers
Items = tuple[bytes | str, ...]  # a hash's HGETALL items: field, value, field, value, ...


@dataclass(frozen=True)
class Guess:
    """What a call start is computed from: `flags` and `history` as the interpreter takes
    them, and the raw hashes they came from (the script compares those)."""
    flags: dict[str, str]
    history: dict[str, Any]
    flag_items: Items
    caller: str | None  # the caller's canonical number, None when the From is not a number
    summary_items: Items


class Outcome(Enum):
    RECORDED = "recorded"
    GUESSED_WRONG = "guessed wrong"  # nothing written; the guesses now hold the hashes' values
    LOCKED_PATH = "locked path"  # nothing written; the call must take the locked path


class StartGuesses:
    """The operator flags and recent callers' summaries as this process last saw them. An
    unknown caller is guessed to have no summary (a first-time caller), the flags to be
    what the last call start saw (none at first)."""

    def __init__(self, max_callers: int = SUMMARIES) -> None:
        self.flag_items: Items = ()
        self.summaries: OrderedDict[str, Items] = OrderedDict()
        self.max_callers = max_callers
        self._lock = threading.Lock()

    def guess(self, number: str | None, now: datetime) -> Guess:
        # is_caller_number's test, without canonicalising the number twice
        caller = canonical_number(number) if number else None
        if caller is not None and not caller.startswith("+"):
            caller = None
        flag_items = self.flag_items
        flags = _as_dict(flag_items)
        if caller is None:
            return Guess(flags, dict(FIRST_TIME), flag_items, None, ())
        with self._lock:
            summary = self.summaries.get(caller, ())
        # no summary: FIRST_TIME is flow_variables of an empty hash, at any time
        history = flow_variables(_as_dict(summary), now.timestamp()) if summary else dict(
            FIRST_TIME)
        return Guess(flags, history, flag_items, caller, summary)

    def learn(self, caller: str | None, flag_items: Items, summary_items: Items) -> None:
        self.flag_items = flag_items
        if caller is None:
            return
        with self._lock:
            self.summaries[caller] = summary_items
            self.summaries.move_to_end(caller)
            while len(self.summaries) > self.max_callers:
                self.summaries.popitem(last=False)


class OneTripStart:
    """Records a new call's first step with scripts/call_start.lua, on the store's held
    connection (ivr/store/lean_script.py; the regular way with IVR_LEAN_REDIS=0)."""

    def __init__(self, store: CallStateStore) -> None:
        self.store = store
        self.guesses = StartGuesses()
        self._script = LeanScript(store.held, script_text("call_start"))

    def guess(self, number: str | None, now: datetime) -> Guess:
        return self.guesses.guess(number, now)

    def record(self, call_sid: str, stored: StoredCall, twiml: str,
               events: Sequence[tuple[str, dict[str, Any], float]], guess: Guess) -> Outcome:
        """Record step 0 of `call_sid` if the call is new and `guess` still holds."""
        keys_ = commit_keys(call_sid) + [keys.operator_flags()]
        args = self.store.commit_args(call_sid, stored, 0, twiml, events, "")
        args += [len(guess.flag_items), *guess.flag_items]
        if guess.caller is not None:
            keys_.append(keys.caller_summary(guess.caller))
            args += [len(guess.summary_items), *guess.summary_items]
        reply = self._script(keys_, args)
        verdict = int(reply[0])
        if verdict == 3:
            self.store.remember(call_sid, stored)
            return Outcome.RECORDED
        if verdict == 1:
            self.guesses.learn(guess.caller, tuple(reply[1]), tuple(reply[2]))
            return Outcome.GUESSED_WRONG
        return Outcome.LOCKED_PATH


def _as_dict(items: Items) -> dict[str, str]:
    return {text(items[i]): text(items[i + 1]) for i in range(0, len(items), 2)}
