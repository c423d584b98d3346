"""The flow registry adapter: loads `callflows/*.yaml`, picks a flow per dialed number, reloads.

Owns reading flow files (the domain loader takes text), the checks that span files (unique
flow ids and numbers, exactly one `default: true` flow) and hot reload. `reload()` only stats
files: when nothing changed it costs one `stat` per file and one for the directory. The call
start calls `reload_if_due()`, which does that at most once per `check_every` seconds
(IVR_FLOW_CHECK_EVERY, 1 s): the six stats were a tenth of a `/voice`'s CPU in one process
(docs/performance.md), and an edit heard within a second is what an operator saving a file
can tell apart from at once. A changed set of files is swapped in only when
*every* flow (and the prompt catalogue, when it changed) validates; otherwise the problems
are logged once and the live flows keep serving, so a typo saved to disk never takes calls
down. Must not import Flask or Redis.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.config.calendars import load_calendars
from ivr.domain.errors import ConfigError, FlowError, FlowErrors, NotFound
from ivr.domain.flow.fields import PromptTexts
from ivr.domain.flow.loader import load_flow
from ivr.domain.flow.model import Flow
from ivr.domain.hours import Calendar
from ivr.prompts.catalog import load_catalog as load_catalog_file

log = logging.getLogger(__name__)

Stamp = tuple[tuple[str, int, int], ...]  # (path, mtime_ns, size) per watched file


def flow_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.yaml") if p.is_file())


def load_files(paths: list[Path], catalog: PromptTexts,
               calendars: Mapping[str, Calendar] | None = None) -> dict[str, Flow]:
    """Load and cross-check flow files; FlowErrors lists every problem in every file.
    `calendars` (calendars.yaml) are the ones an `hours:` schedule may name."""
    errors: list[FlowError] = []
    flows: list[Flow] = []
    for path in paths:
        try:
            flows.append(load_flow(path.read_text(encoding="utf-8"), str(path), catalog,
                                   calendars))
        except FlowErrors as exc:
            errors.extend(exc.errors)
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(FlowError(str(path), 1, f"cannot read the file: {exc}"))
    errors.extend(cross_check(flows))
    if errors:
        raise FlowErrors(errors)
    return {f.id: f for f in flows}


def cross_check(flows: list[Flow]) -> list[FlowError]:
    """Problems only visible across files: repeated ids or numbers, zero or several defaults."""
    errors = []
    ids: dict[str, Flow] = {}
    numbers: dict[str, Flow] = {}
    for flow in flows:
        if flow.id in ids:
            errors.append(FlowError(flow.file, flow.line, f"flow id {flow.id!r} is also used "
                                    f"by {ids[flow.id].file}; flow ids must be unique"))
        ids.setdefault(flow.id, flow)
        for number in flow.numbers:
            if number in numbers:
                errors.append(FlowError(flow.file, flow.line, f"number {number} is also "
                                        f"claimed by {numbers[number].file}"))
            numbers.setdefault(number, flow)
    defaults = [f for f in flows if f.default]
    if flows and len(defaults) != 1:
        where = ", ".join(f.file for f in defaults) or "none"
        errors.append(FlowError(flows[0].file, flows[0].line, "exactly one flow must say "
                                f"default: true (found: {where})"))
    return errors


@dataclass(frozen=True)
class _Snapshot:
    flows: Mapping[str, Flow]
    by_number: Mapping[str, Flow]
    default: Flow | None
    stamp: Stamp


class FlowRegistry:
    """Live flows by id and number. `catalog` may carry a `path` (PromptCatalog does); then
    edits to the catalogue are picked up by `reload()` too, through `load_catalog`."""

    def __init__(self, directory: str | Path, catalog: PromptTexts,
                 load_catalog: Callable[[Path], PromptTexts] | None = None,
                 extra_check: Callable[[Mapping[str, Flow]], list[FlowError]] | None = None,
                 calendars_file: Path | None = None, check_every: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`extra_check` adds problems only the app can see (queues that must exist in
        queues.yaml); its problems refuse a load exactly like the flow's own.
        `calendars_file` (calendars.yaml) is watched like a flow file: a refused calendar
        refuses the reload and the live flows keep serving with the calendars they had.
        `check_every`: seconds `reload_if_due` lets pass between looks (0: it always looks);
        `clock` is the monotonic clock it measures them with."""
        self.directory = Path(directory)
        self.calendars_file = calendars_file
        self.extra_check = extra_check
        self.catalog = catalog
        catalog_path = str(getattr(catalog, "path", "") or "")
        self.catalog_path = Path(catalog_path) if catalog_path else None
        self._load_catalog = load_catalog or load_catalog_file
        self._lock = threading.Lock()
        self._refused: Stamp | None = None
        self._listing: tuple[int, list[str]] = (-1, [])  # (directory mtime_ns, watched paths)
        self.check_every, self._clock = check_every, clock
        self._check_due = 0.0  # the first call start looks
        stamp = self._stamp()
        self._snap = self._build(self._load(catalog), stamp)

    # -- serving -------------------------------------------------------------------------------

    def flow_for_number(self, to: str) -> Flow:
        """The flow that answers the dialed number, else the default flow."""
        snap = self._snap
        flow = snap.by_number.get((to or "").strip()) or snap.default
        if flow is None:
            raise NotFound(f"no flow answers {to!r} and no flow is default: true")
        return flow

    def flow_by_id(self, flow_id: str) -> Flow:
        try:
            return self._snap.flows[flow_id]
        except KeyError:
            raise NotFound(f"flow {flow_id!r} is not loaded (known: "
                           f"{', '.join(self._snap.flows)})") from None

    def flow_ids(self) -> list[str]:
        return list(self._snap.flows)

    def version(self, flow_id: str) -> str:
        """Content hash of the live version of `flow_id`."""
        return self.flow_by_id(flow_id).version

    def versions(self) -> dict[str, str]:
        return {flow_id: flow.version for flow_id, flow in self._snap.flows.items()}

    # -- reloading -----------------------------------------------------------------------------

    def reload_if_due(self) -> bool:
        """`reload()` when `check_every` seconds have passed since the last look (the first
        call start always looks), else nothing: what the call start calls. A race between two
        threads at the due moment only makes both look, which `reload` allows."""
        if self.check_every > 0:
            now = self._clock()
            if now < self._check_due:
                return False
            self._check_due = now + self.check_every
        return self.reload()

    def reload(self) -> bool:
        """Swap in changed flows when all validate. True when new flows went live."""
        stamp = self._stamp()
        if stamp == self._snap.stamp or stamp == self._refused:
            return False
        with self._lock:
            if stamp == self._snap.stamp:
                return False
            try:
                catalog = self._fresh_catalog(stamp)
                flows = self._load(catalog)
            except (FlowErrors, ConfigError) as exc:
                self._refused = stamp
                log.error("flow reload refused, live flows %s keep serving:\n%s",
                          self.versions(), exc)
                return False
            self.catalog = catalog
            self._snap = self._build(flows, stamp)
            self._refused = None
        log.info("flows reloaded: %s", self.versions())
        return True

    def _load(self, catalog: PromptTexts) -> dict[str, Flow]:
        calendars = (load_calendars(self.calendars_file)
                     if self.calendars_file is not None else None)
        flows = load_files(flow_files(self.directory), catalog, calendars)
        problems = self.extra_check(flows) if self.extra_check else []
        if problems:
            raise FlowErrors(problems)
        return flows

    def _fresh_catalog(self, stamp: Stamp) -> PromptTexts:
        """The catalogue, re-read only when its file changed since the live snapshot."""
        if self.catalog_path is None:
            return self.catalog
        key = str(self.catalog_path)
        old = [s for s in self._snap.stamp if s[0] == key]
        new = [s for s in stamp if s[0] == key]
        return self._load_catalog(self.catalog_path) if old != new else self.catalog

    def _stamp(self) -> Stamp:
        """(path, mtime, size) of every watched file. The directory is listed again only
        when its own mtime moved (a file added, removed or renamed), so a call start costs
        one stat per file plus one for the directory, with no glob."""
        stamps = []
        for path in self._watched():
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # deleted between listing and stat: the next reload sees it gone
            stamps.append((path, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def _watched(self) -> list[str]:
        try:
            listed_at = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            listed_at = -1
        if listed_at == -1 or listed_at != self._listing[0]:
            paths = [str(p) for p in flow_files(self.directory)]
            if self.catalog_path is not None:
                paths.append(str(self.catalog_path))
            if self.calendars_file is not None:
                paths.append(str(self.calendars_file))
            self._listing = (listed_at, paths)
        return self._listing[1]

    @staticmethod
    def _build(flows: Mapping[str, Flow], stamp: Stamp) -> _Snapshot:
        by_number = {n: f for f in flows.values() for n in f.numbers}
        default = next((f for f in flows.values() if f.default), None)
        return _Snapshot(dict(flows), by_number, default, stamp)
