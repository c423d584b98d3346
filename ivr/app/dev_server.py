"""`ivr serve`'s development server: Werkzeug's, with a fixed number of request threads.

Why: Werkzeug's threaded server (`app.run(threaded=True)`) starts a new thread for every
connection, without limit, and each request's thread may take Redis and database connections.
Left running under the demo's traffic with the wallboard open, that is how connections piled
up until Redis said "Too many connections" (issue 12). Here `threads` long-lived threads serve
the requests; when all are busy the accept loop waits for one to finish, and new connections
wait in the listen backlog (128), as gunicorn's do. Werkzeug closes every connection after its
response, so an idle client never holds a thread; a wallboard stream holds one for as long as
it lasts (dashboards/wallboard.py), so `threads` (IVR_THREADS) must leave room for webhooks.

Everything else is Werkzeug's own: request parsing, the handler, logging, errors.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer

DEFAULT_THREADS = 16  # IVR_THREADS unset (gunicorn.conf.py's default is 4 per process)


class PooledWSGIServer(BaseWSGIServer):
    """A Werkzeug server answering at most `threads` requests at once, on `threads` threads
    started once (daemon threads: Ctrl-C never waits for an open wallboard stream)."""

    multithread = True  # WSGI's wsgi.multithread, and HTTP/1.1 (chunked streams)

    def __init__(self, host: str, port: int, app: Any, threads: int = DEFAULT_THREADS,
                 **kwargs: Any) -> None:
        if threads < 1:
            raise ValueError(f"threads={threads}: a server needs at least one thread")
        super().__init__(host, port, app, **kwargs)
        self.threads = threads
        self._free = threading.BoundedSemaphore(threads)
        self._requests: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._workers = [threading.Thread(target=self._serve_requests, daemon=True,
                                          name=f"ivr-serve-{i}") for i in range(threads)]
        for worker in self._workers:
            worker.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Called by the accept loop for each connection: wait for a free thread, hand over."""
        self._free.acquire()
        self._requests.put((request, client_address))

    def _serve_requests(self) -> None:
        while (item := self._requests.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - socketserver's contract: report, go on
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
                self._free.release()

    def server_close(self) -> None:
        super().server_close()
        for _ in self._workers:
            self._requests.put(None)
