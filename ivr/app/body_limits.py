"""How much of a request body any route may read: the cap, and the one route allowed more.

Why (issue 12, item 2): before this, a webhook's signature check read an unbounded JSON or
chunked body, and a multipart form spooled its parts to disk, all before anything was verified.
Flask applies `MAX_CONTENT_LENGTH` (set from `IVR_MAX_BODY_BYTES` in `create_app`) as it reads:
a Content-Length over the cap is refused (413) before a byte is read. A chunked body, though,
Werkzeug only cuts at the cap (`LimitedStream.readall` stops there without a word), so a
truncated form reached the views (a webhook then failed its signature: 403, not 413).
`CappedRequest` (the app's request class) reads such a body through `CappedStream`, which
raises `RequestEntityTooLarge` as soon as one byte past the cap arrives. The webhook lane, which
answers some webhooks before Flask sees them, applies the same cap with `bound_body`.

A route that needs more (the prompt recording upload) says so with `body_limit`, above the
decorators that read the form (the CSRF check reads it), so its own limit is enforced while
the upload streams in, not after it was saved. Must not import the flow engine or the stores.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_content_length, get_input_stream

F = TypeVar("F", bound=Callable[..., Any])


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Let one view read up to `max_bytes` (instead of the app's cap). Put it above every
    decorator that touches `request.form`/`files`/`data`, so the limit is set first."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            request.max_content_length = max_bytes  # Flask 3.1: per request
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return wrap


def bound_body(environ: dict[str, Any], cap: int) -> None:
    """Make `environ`'s body safe to read for a WSGI layer in front of Flask; raise
    RequestEntityTooLarge when it is over `cap` bytes.

    A declared Content-Length over the cap is refused before anything is read. A streamed
    body (chunked: no Content-Length, the server terminates the stream) is read here, at most
    `cap` + 1 bytes, and put back with its length, so what reads it next sees a plain body.
    A body with neither is empty to Werkzeug, as the WSGI server cannot say where it ends."""
    length = get_content_length(environ)
    if length is not None and length > cap:
        raise too_large(cap)
    if length is not None or "wsgi.input_terminated" not in environ:
        return
    raw = CappedStream(environ["wsgi.input"], cap).readall()
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    environ.pop("HTTP_TRANSFER_ENCODING", None)


class CappedStream(LimitedStream):
    """A streamed body read to at most `cap` bytes: one byte more raises 413 (where Werkzeug's
    own `LimitedStream(..., is_max=True)` would end the body there as if it were complete)."""

    def __init__(self, stream: Any, cap: int) -> None:
        super().__init__(stream, cap + 1, is_max=True)
        self.cap = cap

    def readinto(self, b: Any) -> int | None:
        size = super().readinto(b)
        if self.tell() > self.cap:
            raise too_large(self.cap)
        return size


class CappedRequest(Request):
    """Flask's request, whose streamed (chunked) body is refused past `max_content_length`
    instead of cut there. A body with a Content-Length is Werkzeug's as before: refused
    before reading when over the cap, else read to its length."""

    @cached_property
    def stream(self) -> Any:
        cap = self.max_content_length
        if (cap is None or get_content_length(self.environ) is not None
                or "wsgi.input_terminated" not in self.environ):
            return get_input_stream(self.environ, max_content_length=cap)
        return CappedStream(self.environ["wsgi.input"], cap)


def too_large(cap: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(description=f"this request's body is limited to {cap} bytes")
