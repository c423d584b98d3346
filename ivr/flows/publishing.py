"""Publishing call flows: drafts checked like `ivr check`, versions with author and message,
rollback, and every web process converging on the published text.

The design, and why:
- The live server keeps running `FlowRegistry` over `callflows/*.yaml` (it reloads changed
  files on each new call, and only when every flow validates). So publishing *is* writing the
  flow file, atomically (temp file + rename), after the draft passed the same checks the
  registry and `ivr check` run: the flow loader with the prompt catalogue, the cross-file
  checks and the queues.yaml check. An invalid flow can never be published.
- The database (`flow_versions`) keeps every published text with author, message and time.
  The highest number per file is the published one; a rollback publishes an old text as a new
  number, so history is append-only. The first publish of a file records what was on disk as
  version 1 ("as found on disk"), so the original can always be restored.
- Redis keeps the latest published texts (a hash) and a generation counter. `converge()`
  costs one GET when nothing changed; on a new generation it writes any published text that
  differs from the local file. Processes on one machine converge through the file itself;
  machines with their own checkout converge through Redis, never through the database, so a
  webhook never waits on SQL.

Must not import Flask.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.errors import Conflict, FlowError, FlowErrors, NotFound
from ivr.domain.flow.loader import MAX_FLOW_BYTES, content_version, load_flow
from ivr.domain.flow.model import Flow
from ivr.domain.hours import Calendar
from ivr.flows.registry import cross_check, flow_files
from ivr.store.keys import PREFIX
from ivr.store.models import FlowVersionRow

log = logging.getLogger(__name__)

FLOW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")
GENERATION_KEY = f"{PREFIX}flows:generation"
PUBLISHED_KEY = f"{PREFIX}flows:published"
MAX_HISTORY = 500
# app.extensions key: the monotonic time the web process next looks for published flows (set by
# ivr/app/flow_publisher.py converge_flows; the webhook lane hands that request to Flask)
CONVERGE_DUE = "ivr_converge_due"

ExtraCheck = Callable[[Mapping[str, Flow]], list[FlowError]]


@dataclass(frozen=True)
class Version:
    """A published version as pages and the CLI see it."""

    flow: str
    number: int
    content: str
    content_hash: str
    author: str
    message: str
    created_at: datetime


def _version(row: FlowVersionRow) -> Version:
    return Version(row.flow_file, row.number, row.content, row.content_hash, row.author,
                   row.message, row.created_at)


def check_flow_name(name: str) -> str:
    """A flow is named by its file stem (`shop` for callflows/shop.yaml)."""
    if not FLOW_NAME.match(name or ""):
        raise NotFound(f"flow {name!r}: names are lower-case letters, digits, _ and -")
    return name


class FlowPublisher:
    """Check, publish, roll back and list versions of the flows in `directory`.

    `catalog` returns the current prompt catalogue and `extra_check` the app's own checks
    (queues.yaml), so a draft is judged exactly as the live registry would judge it."""

    def __init__(self, directory: Path, catalog: Callable[[], Any],
                 sessions: sessionmaker[Session], conn: redis.Redis | None = None,
                 extra_check: ExtraCheck | None = None,
                 calendars: Callable[[], Mapping[str, Calendar] | None] | None = None) -> None:
        """`calendars` reads calendars.yaml afresh (None: schedules' calendar names are not
        checked); a refused calendars file is reported by `check` like a flow problem."""
        self.directory = Path(directory)
        self.catalog = catalog
        self.calendars = calendars or (lambda: None)
        self.sessions = sessions
        self.redis = conn
        self.extra_check = extra_check
        self._seen_generation: bytes | None = None
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.directory / f"{check_flow_name(name)}.yaml"

    def names(self) -> list[str]:
        return [p.stem for p in flow_files(self.directory)]

    def live_text(self, name: str) -> str:
        try:
            return self.path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"flow {name!r}: no {self.path(name)}") from None

    def versions(self, name: str) -> list[Version]:
        """Newest first."""
        with self.sessions() as session:
            rows = session.scalars(select(FlowVersionRow).where(
                FlowVersionRow.flow_file == check_flow_name(name)).order_by(
                FlowVersionRow.number.desc())).all()
            return [_version(r) for r in rows]

    def version(self, name: str, number: int) -> Version:
        with self.sessions() as session:
            row = session.scalar(select(FlowVersionRow).where(
                FlowVersionRow.flow_file == check_flow_name(name), FlowVersionRow.number == number))
            if row is None:
                raise NotFound(f"flow {name!r} has no version {number}")
            return _version(row)

    # -- checking ------------------------------------------------------------------------------

    def check(self, name: str, text: str) -> list[FlowError]:
        """Every problem publishing `text` as flow `name` would cause, at its line; [] = ok.

        Loads the draft together with every other live flow file, so cross-file problems
        (a repeated number, two defaults) are found as they would be by the registry."""
        path = self.path(name)
        if len(text.encode("utf-8")) > MAX_FLOW_BYTES:
            return [FlowError(str(path), 1, f"the flow is larger than {MAX_FLOW_BYTES} bytes")]
        catalog = self.catalog()
        try:
            calendars = self.calendars()
        except FlowErrors as exc:
            return list(exc.errors)
        errors: list[FlowError] = []
        flows: list[Flow] = []
        texts = {str(p): p.read_text(encoding="utf-8") for p in flow_files(self.directory)}
        texts[str(path)] = text
        for file, body in texts.items():
            try:
                flows.append(load_flow(body, file, catalog, calendars))
            except FlowErrors as exc:
                errors.extend(exc.errors)
        if errors:  # a broken file would make the cross-file checks report noise
            return sorted(errors, key=lambda e: (e.file != str(path), e.file, e.line))
        errors.extend(cross_check(flows))
        if not errors and self.extra_check is not None:
            errors.extend(self.extra_check({f.id: f for f in flows}))
        return sorted(errors, key=lambda e: (e.file != str(path), e.file, e.line))

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, name: str, text: str, author: str, message: str, now: datetime,
                base_hash: str | None = None) -> Version:
        """Validate, record and make `text` live. Raises FlowErrors (nothing changes) when the
        draft is invalid, Conflict when `base_hash` is given and someone published since the
        editor loaded the flow (so one admin never silently overwrites another's change)."""
        author, message = (author or "").strip()[:100], (message or "").strip()[:500]
        if not author or not message:
            raise Conflict("publishing needs an author and a message saying what changed")
        with self._lock:
            current = self._current_text(name)
            if base_hash and current is not None and content_version(current) != base_hash:
                raise Conflict(f"flow {name!r} was published by someone else since you opened "
                               "it; reload, compare and publish again")
            errors = self.check(name, text)
            if errors:
                raise FlowErrors(errors)
            version = self._record(name, text, author, message, now, current, base_hash)
            self._write(name, text)
            self._announce(name, version, current)
        log.info("flow %s version %d published by %s: %s", name, version.number, author,
                 message)
        return version

    def rollback(self, name: str, number: int, author: str, now: datetime) -> Version:
        """Publish version `number`'s text again, as a new version (still validated: the
        catalogue or queues may have changed since)."""
        old = self.version(name, number)
        return self.publish(name, old.content, author, f"roll back to version {number}: "
                            f"{old.message}"[:500], now)

    def _current_text(self, name: str) -> str | None:
        try:
            return self.live_text(name)
        except NotFound:
            return None

    def _record(self, name: str, text: str, author: str, message: str, now: datetime,
                on_disk: str | None, base_hash: str | None) -> Version:
        """Insert the version (and, the first time, the on-disk text as version 1). Two
        processes publishing at once race for the same number: the unique constraint makes
        the loser retry, and the retry sees the winner's version, so an editor that started
        from the text the winner replaced gets Conflict even on another machine."""
        for _ in range(5):
            try:
                with self.sessions.begin() as session:
                    latest = session.scalar(select(FlowVersionRow).where(
                        FlowVersionRow.flow_file == name).order_by(
                        FlowVersionRow.number.desc()).limit(1))
                    if base_hash and latest is not None and latest.content_hash != base_hash:
                        raise Conflict(f"flow {name!r} is at version {latest.number} by "
                                       f"{latest.author} since you opened it; reload, compare "
                                       "and publish again")
                    top = latest.number if latest is not None else 0
                    if top == 0 and on_disk is not None:
                        top = 1
                        session.add(_row(name, 1, on_disk, "system", "as found on disk", now))
                    row = _row(name, top + 1, text, author, message, now)
                    session.add(row)
                    session.flush()
                    return _version(row)
            except IntegrityError:
                continue
        raise Conflict(f"flow {name!r}: too many publishes at once; try again")

    def _write(self, name: str, text: str) -> None:
        """Atomic replace: a registry reading at the same moment sees the old or the new file,
        never half of one."""
        path = self.path(name)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _announce(self, name: str, version: Version, replaced: str | None) -> None:
        """Publish the text to Redis with the hashes of every text it supersedes, so other
        machines replace only a file that is one of those (see `converge`)."""
        if self.redis is None:
            return
        old = self.redis.hget(PUBLISHED_KEY, name)
        history = json.loads(old)["history"] if old else []
        if replaced is not None:
            history.append(content_version(replaced))
        payload = json.dumps({"number": version.number, "text": version.content,
                              "hash": version.content_hash,
                              "history": list(dict.fromkeys(history))[-MAX_HISTORY:]})
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(PUBLISHED_KEY, name, payload)
            pipe.incr(GENERATION_KEY)
            result = pipe.execute()
        self._seen_generation = str(result[-1]).encode()

    # -- converging ----------------------------------------------------------------------------

    def converge(self) -> list[str]:
        """Bring local flow files up to the published texts in Redis; the names written.

        One GET when nothing was published since the last call. A local file is replaced only
        when it is missing or holds a text that publishing superseded: a file deployed with
        new content (from git, say) is never overwritten by an older publish; that is logged.
        The registry then swaps the written files in on its next reload (if they validate)."""
        if self.redis is None:
            return []
        raw_generation = self.redis.get(GENERATION_KEY)
        generation = raw_generation if isinstance(raw_generation, bytes | None) else (
            str(raw_generation).encode())
        if generation is None or generation == self._seen_generation:
            return []
        written = []
        with self._lock:
            for raw_name, raw in self.redis.hgetall(PUBLISHED_KEY).items():
                name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
                if FLOW_NAME.match(name) and self._superseded(name, json.loads(raw)):
                    self._write(name, json.loads(raw)["text"])
                    written.append(name)
            self._seen_generation = generation
        if written:
            log.info("flows converged on the published versions: %s", ", ".join(written))
        return written

    def _superseded(self, name: str, entry: dict[str, Any]) -> bool:
        local = self._current_text(name)
        if local is None:
            return True
        here = content_version(local)
        if here == entry["hash"]:
            return False
        if here in entry.get("history", []):
            return True
        log.warning("flow %s: local file %s is neither the published version %s (v%s) nor an "
                    "earlier one; keeping it (publish it from the admin page to share it)",
                    name, here, entry["hash"], entry.get("number"))
        return False


def _row(name: str, number: int, text: str, author: str, message: str,
         now: datetime) -> FlowVersionRow:
    return FlowVersionRow(flow_file=name, number=number, content=text,
                       content_hash=content_version(text), author=author, message=message,
                       created_at=now)
