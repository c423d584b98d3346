"""Every error the product raises on purpose.

A caller never hears these: the web layer turns any of them into an apology and a fallback
route. Admins and operators do read them, so each message names the thing and says the fix.
"""

from __future__ import annotations


class IvrError(Exception):
    """Base class: catch this to handle any product error."""


class FlowError(IvrError):
    """A call flow file is invalid. Carries the file and 1-based line so tools print FILE:LINE."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class FlowErrors(IvrError):
    """Several problems found in one pass; `ivr check` prints one line per problem."""

    def __init__(self, errors: list[FlowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class ConfigError(IvrError):
    """The environment or a settings file is wrong; raised at start-up, never during a call."""


class NotFound(IvrError):
    """A named thing (queue, agent, flow, call) does not exist."""


class Conflict(IvrError):
    """The request is valid but the current state forbids it (e.g. agent already on a call)."""


class TranscriptionFailed(IvrError):
    """A voicemail could not be turned into text (ivr/outcomes/transcription,
    queue_worker/transcription).

    `code` is a stable token for events and dashboards (`bad_audio`, `unsupported_language`,
    `recording_not_found`, `fetch_failed`, `engine_error`, `engine_unavailable`).
    `retryable` is True for failures that may pass on a later try (network, 5xx, UNAVAILABLE):
    the RQ job re-raises those while it has retries left. The voicemail itself is never lost.
    """

    def __init__(self, reason: str, *, code: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable


class ConfigFileErrors(FlowErrors, ConfigError):
    """A settings file (queues.yaml, lookups.yaml, calendars.yaml) is refused: one
    `FILE:LINE: reason` per problem, like a flow's. Both a FlowErrors (so `ivr check` prints
    it with the flows' problems) and a ConfigError (so start-up refuses it as before)."""
